"""Statistical figures for study reports, drawn with matplotlib (Agg, no display needed).

Every function returns a :class:`Chart`, which renders to an SVG string (text kept as text, so
a report can be searched and the numbers read by a screen reader) or PNG bytes:

- :func:`mean_change_plot`: mean change from baseline over time by arm, with 95 % intervals;
- :func:`spaghetti_plot`: every subject's (or scalp half's) change over time, arm means on top;
- :func:`forest_plot`: effects with intervals, e.g. by subgroup (:func:`subgroup_effects`; with
  several active arms, each against the control: :func:`subgroup_effects_against_control`);
- :func:`bland_altman_plot`: differences against means with bias and limits of agreement;
- :func:`consort_diagram`: the CONSORT 2010 participant flow, from counts
  (:class:`ConsortCounts`), for parallel studies and, counting participants and scalp halves,
  for split-scalp studies; boxes and arrows are matplotlib patches and annotations.

Figures are built on ``matplotlib.figure.Figure`` objects, never ``pyplot``, so no global state
is kept between calls and they are safe in a worker thread.

References
----------
Schulz KF, Altman DG, Moher D, for the CONSORT Group. CONSORT 2010 Statement: updated
guidelines for reporting parallel group randomised trials. BMJ 2010;340:c332.
doi:10.1136/bmj.c332
Dwan K, Li T, Altman DG, Elbourne D. CONSORT 2010 statement: extension to randomised crossover
trials. BMJ 2019;366:l4378. doi:10.1136/bmj.l4378 (within-person designs count units as well
as participants)
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg", force=False)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import rc_context  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

from anagen.evidence.agreement import BlandAltman, bland_altman  # noqa: E402
from anagen.evidence.analysis import ChangeByVisit, Effect  # noqa: E402
from anagen.evidence.dataset import PARALLEL, SPLIT_SCALP, select  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Colour-blind-safe (Okabe & Ito) colours, control first.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
DENSITY_LABEL = "hairs/cm²"


@dataclass
class Chart:
    """A drawn figure; :meth:`svg` and :meth:`png` render it."""

    figure: Figure
    title: str

    def svg(self) -> str:
        """The figure as an SVG document; text stays text (``svg.fonttype = none``)."""
        buffer = io.StringIO()
        with rc_context({"svg.fonttype": "none", "svg.hashsalt": "anagen"}):
            self.figure.savefig(buffer, format="svg", metadata={"Date": None})
        return buffer.getvalue()

    def png(self, dpi: int = 110) -> bytes:
        """The figure as PNG bytes."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=dpi)
        return buffer.getvalue()


def _figure(width_in: float, height_in: float) -> Figure:
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _unit(endpoint: str) -> str:
    return DENSITY_LABEL if "density" in endpoint else endpoint


def _colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


# --------------------------------------------------------------------------------------------
# Change over time


def mean_change_plot(change: ChangeByVisit, *, title: str | None = None) -> Chart:
    """Mean change from baseline by arm and visit, with 95 % interval bars and n per point.

    Parameters
    ----------
    change
        From :func:`anagen.evidence.analysis.change_by_visit`; every arm starts at 0 at week 0.
    """
    fig = _figure(7.0, 4.4)
    ax = fig.add_subplot()
    arms = sorted({r.arm for r in change.rows}, key=lambda a: (a.lower() not in ("placebo", "control"), a))
    offsets = np.linspace(-0.6, 0.6, len(arms)) if len(arms) > 1 else [0.0]
    for i, arm in enumerate(arms):
        rows = [r for r in change.rows if r.arm == arm and r.mean is not None]
        weeks = [0.0] + [r.visit_week + offsets[i] for r in rows]
        means = [0.0] + [r.mean for r in rows]
        ax.plot(weeks, means, "-o", color=_colour(i), label=arm, markersize=5)
        for r, w in zip(rows, weeks[1:]):
            if r.ci[0] is not None:
                ax.errorbar([w], [r.mean], yerr=[[r.mean - r.ci[0]], [r.ci[1] - r.mean]], color=_colour(i), capsize=3)
        # Numbers analysed, one row per arm under the axis (like a table of numbers at risk).
        y_offset = -30 - 11 * i
        ax.annotate(f"n {arm}", xy=(0, 0), xycoords="axes fraction", xytext=(-4, y_offset), textcoords="offset points",
                    ha="right", va="center", fontsize=7, color=_colour(i))
        for r in change.rows:
            if r.arm == arm:
                ax.annotate(str(r.n), xy=(r.visit_week, 0), xycoords=("data", "axes fraction"), xytext=(0, y_offset),
                            textcoords="offset points", ha="center", va="center", fontsize=7, color=_colour(i))
    ax.xaxis.labelpad = 8 + 11 * len(arms)
    ax.axhline(0, color="#888888", linewidth=0.8)
    ax.set_xlabel("Weeks after randomization")
    ax.set_ylabel(f"Change from baseline ({_unit(change.endpoint)})")
    weeks = sorted({r.visit_week for r in change.rows})
    ax.set_xticks([0, *weeks])
    ax.set_title(title or f"Mean change from baseline, {change.endpoint} (95 % CI)", fontsize=11)
    ax.legend(title="Arm", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return Chart(fig, ax.get_title())


def spaghetti_plot(df: pd.DataFrame, *, analysis_set: str = "itt", endpoint: str | None = None,
                   title: str | None = None) -> Chart:
    """Every subject's change from baseline over visits (split-scalp: every scalp half), by arm.

    Thin lines are individuals (a missed visit breaks the line), thick lines the arm means.
    """
    rows, endpoint = select(df, analysis_set=analysis_set, endpoint=endpoint)
    design = str(rows["design"].iloc[0])
    column = "arm" if design == PARALLEL else "side_arm"
    units = ["subject"] if design == PARALLEL else ["subject", "side"]
    rows = rows.assign(change=rows["value"] - rows["baseline"])
    arms = sorted(set(rows[column]), key=lambda a: (a.lower() not in ("placebo", "control"), a))
    fig = _figure(7.0, 4.4)
    ax = fig.add_subplot()
    for i, arm in enumerate(arms):
        arm_rows = rows[rows[column] == arm]
        for _, unit in arm_rows.groupby(units):
            unit = unit.sort_values("visit_week")
            ax.plot([0, *unit["visit_week"]], [0.0, *unit["change"]], color=_colour(i), alpha=0.18, linewidth=0.7)
        means = arm_rows.groupby("visit_week")["change"].mean()
        n_units = len(arm_rows.drop_duplicates(units))
        label = f"{arm} (n={n_units}{' halves' if design == SPLIT_SCALP else ''})"
        ax.plot([0, *means.index], [0.0, *means.values], color=_colour(i), linewidth=2.6, label=label)
    ax.axhline(0, color="#888888", linewidth=0.8)
    ax.set_xticks([0, *sorted(set(rows["visit_week"]))])
    ax.set_xlabel("Weeks after randomization")
    ax.set_ylabel(f"Change from baseline ({_unit(endpoint)})")
    ax.set_title(title or f"Individual changes, {endpoint}", fontsize=11)
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return Chart(fig, ax.get_title())


# --------------------------------------------------------------------------------------------
# Forest plot


@dataclass(frozen=True)
class ForestRow:
    """One line of a forest plot."""

    label: str
    estimate: float | None
    ci: tuple[float | None, float | None]
    n: int | None = None
    overall: bool = False


def subgroup_effects(df: pd.DataFrame, by: str, analyse, **kwargs) -> list[ForestRow]:
    """The overall effect and one per level of column ``by`` (e.g. ``sex``, ``site``).

    ``analyse`` is an analysis function such as :func:`anagen.evidence.analysis.ancova` or
    :func:`~anagen.evidence.analysis.paired_difference`; a subgroup it cannot analyse (too
    few subjects) is listed without an estimate. Subgroup effects are descriptive: a study is
    rarely powered to show that they differ.
    """
    if by not in df.columns:
        raise ValueError(f"no column {by!r} to split by.")
    overall: Effect = analyse(df, **kwargs)
    out = [ForestRow(label="All subjects", estimate=overall.estimate, ci=overall.ci, n=overall.n, overall=True)]
    for level in sorted(set(df[by])):
        if level == "":
            continue
        try:
            r = analyse(df[df[by] == level], **kwargs)
            out.append(ForestRow(label=_level_label(by, level), estimate=r.estimate, ci=r.ci, n=r.n))
        except ValueError:
            out.append(ForestRow(label=f"{_level_label(by, level)} (too few to analyse)", estimate=None, ci=(None, None)))
    return out


def subgroup_effects_against_control(df: pd.DataFrame, by: str, **kwargs) -> list[ForestRow]:
    """A parallel study with several active arms: for each active arm, its effect against the
    control overall and per level of column ``by``, each from the joint ANCOVA
    (:func:`anagen.evidence.analysis.ancova_against_control`, every arm in the model) fitted to
    all subjects and to the subgroup's. Rows are labelled ``"<arm>: <level>"``; the overall
    row of each arm is marked as such (a diamond in :func:`forest_plot`). ``kwargs`` go to
    ``ancova_against_control`` (``visit_week``, ``analysis_set``, ``endpoint``, ``control``).
    """
    from anagen.evidence.analysis import ancova_against_control
    from anagen.evidence.dataset import DatasetError

    overall = ancova_against_control(df, **kwargs)
    rows: list[ForestRow] = []
    for count in overall.counts[1:]:  # the control first, then each active arm in contrast order
        arm = count.arm

        def analyse(frame, _arm=arm, **kw) -> Effect:
            res = ancova_against_control(frame, **kw)
            for c_count, contrast in zip(res.counts[1:], res.contrasts):
                if c_count.arm == _arm:
                    return contrast.effect
            raise DatasetError(f"arm {_arm!r} has no subject in this subgroup.")

        for r in subgroup_effects(df, by, analyse, **kwargs):
            label = "all subjects" if r.overall else r.label
            rows.append(ForestRow(label=f"{arm}: {label}", estimate=r.estimate, ci=r.ci, n=r.n, overall=r.overall))
    return rows


def _level_label(by: str, level: str) -> str:
    return level if str(level).lower().startswith(by.lower()) else f"{by} {level}"


def forest_plot(rows: Sequence[ForestRow], *, xlabel: str = f"Effect, active - control ({DENSITY_LABEL})",
                title: str = "Treatment effect by subgroup (95 % CI)") -> Chart:
    """Estimates with interval lines, one row each, a vertical line at no effect.

    The overall row is drawn as a diamond; each row shows its numbers on the right.
    """
    if not rows:
        raise ValueError("a forest plot needs at least one row.")
    fig = _figure(7.5, 1.0 + 0.42 * len(rows))
    ax = fig.add_subplot()
    ys = np.arange(len(rows))[::-1]
    for y, r in zip(ys, rows):
        if r.estimate is None:
            continue
        lo, hi = r.ci
        if lo is not None:
            ax.plot([lo, hi], [y, y], color="#333333", linewidth=1.3)
        if r.overall:
            ax.plot([r.estimate], [y], marker="D", color=COLOURS[1], markersize=9)
        else:
            ax.plot([r.estimate], [y], marker="s", color=COLOURS[0], markersize=6)
    ax.axvline(0, color="#888888", linestyle="--", linewidth=0.9)
    ax.set_yticks(ys, [r.label for r in rows])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    text_ax = ax.secondary_yaxis("right")
    text_ax.set_yticks(ys, [_forest_text(r) for r in rows])
    text_ax.tick_params(length=0, labelsize=8)
    text_ax.spines["right"].set_visible(False)
    return Chart(fig, title)


def _forest_text(r: ForestRow) -> str:
    if r.estimate is None:
        return "not estimable"
    ci = "" if r.ci[0] is None else f" ({r.ci[0]:.1f} to {r.ci[1]:.1f})"
    n = "" if r.n is None else f"  n={r.n}"
    return f"{r.estimate:.1f}{ci}{n}"


# --------------------------------------------------------------------------------------------
# Bland-Altman


def bland_altman_plot(a: Sequence[float], b: Sequence[float], *, labels: tuple[str, str] = ("reader A", "reader B"),
                      unit: str = DENSITY_LABEL, result: BlandAltman | None = None) -> Chart:
    """Difference against mean of two methods, with the bias and 95 % limits of agreement.

    The shaded bands are the confidence intervals of the bias and of each limit
    (:func:`anagen.evidence.agreement.bland_altman`).
    """
    r = result or bland_altman(a, b)
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    mean, diff = (x[keep] + y[keep]) / 2, x[keep] - y[keep]
    fig = _figure(7.0, 4.4)
    ax = fig.add_subplot()
    ax.scatter(mean, diff, s=16, color=COLOURS[0], alpha=0.75, edgecolors="none")
    lines = ((r.upper_loa, r.upper_loa_ci, "upper limit"), (r.bias, r.bias_ci, "bias"),
             (r.lower_loa, r.lower_loa_ci, "lower limit"))
    for value, (lo, hi), name in lines:
        colour = COLOURS[1] if name == "bias" else "#555555"
        ax.axhspan(lo, hi, color=colour, alpha=0.12, linewidth=0)
        ax.axhline(value, color=colour, linestyle="-" if name == "bias" else "--", linewidth=1.2)
        ax.annotate(f"{name} {value:.2f}", xy=(1.0, value), xycoords=("axes fraction", "data"), xytext=(-4, 3),
                    textcoords="offset points", ha="right", fontsize=8, color=colour)
    ax.axhline(0, color="#bbbbbb", linewidth=0.7)
    ax.set_xlabel(f"Mean of {labels[0]} and {labels[1]} ({unit})")
    ax.set_ylabel(f"{labels[0]} - {labels[1]} ({unit})")
    title = f"Bland-Altman: {labels[0]} against {labels[1]} (n={r.n})"
    ax.set_title(title, fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    return Chart(fig, title)


# --------------------------------------------------------------------------------------------
# CONSORT flow diagram


@dataclass(frozen=True)
class ConsortArm:
    """One arm's flow. In a split-scalp study the counts are scalp halves."""

    name: str
    allocated: int
    received: int
    not_received: Mapping[str, int] = field(default_factory=dict)
    lost: Mapping[str, int] = field(default_factory=dict)
    discontinued: Mapping[str, int] = field(default_factory=dict)
    analysed: int = 0
    excluded_from_analysis: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ConsortCounts:
    """Counts for a CONSORT 2010 flow diagram.

    For a split-scalp study, ``randomized`` counts participants, ``arms`` count scalp halves
    (each participant gives one half to each arm), and ``participants_lost`` /
    ``participants_analysed`` give the participant-level follow-up and analysis.
    """

    design: str
    assessed: int
    excluded: Mapping[str, int]
    randomized: int
    arms: tuple[ConsortArm, ...]
    participants_lost: Mapping[str, int] = field(default_factory=dict)
    participants_analysed: int | None = None

    def __post_init__(self) -> None:
        if self.design not in (PARALLEL, SPLIT_SCALP):
            raise ValueError(f"design must be parallel or split-scalp, not {self.design!r}.")
        if not self.arms:
            raise ValueError("a CONSORT diagram needs at least one arm.")
        if self.assessed - sum(self.excluded.values()) != self.randomized:
            raise ValueError(f"the counts do not add up: {self.assessed} assessed - "
                             f"{sum(self.excluded.values())} excluded is not {self.randomized} randomized.")
        allocated = sum(a.allocated for a in self.arms)
        expected = self.randomized if self.design == PARALLEL else 2 * self.randomized
        if allocated != expected:
            unit = "participants" if self.design == PARALLEL else "scalp halves (2 per participant)"
            raise ValueError(f"the counts do not add up: {allocated} allocated, but {expected} {unit} randomized.")
        for a in self.arms:
            if a.received + sum(a.not_received.values()) != a.allocated:
                raise ValueError(f"arm {a.name}: received + did not receive is not the {a.allocated} allocated.")


def _lines(title: str, reasons: Mapping[str, int], indent: str = "   ") -> list[str]:
    return [title, *[f"{indent}{reason} (n={n})" for reason, n in reasons.items() if n]]


def _text_width_in(lines: Sequence[str], bold: bool = False) -> float:
    """Rough width, in inches, of the longest line at the diagram's 8.2 pt font, plus padding."""
    return max(len(line) for line in lines) * (0.071 if bold else 0.066) + 0.35


def consort_diagram(counts: ConsortCounts, *, title: str | None = None) -> Chart:
    """The CONSORT 2010 flow diagram: enrolment, allocation, follow-up, analysis.

    Parallel studies count participants in every box. Split-scalp studies count participants
    at enrolment and randomization, scalp halves per arm (allocation, follow-up, analysis), and
    add the participant totals beside them, as within-person designs should.
    """
    split = counts.design == SPLIT_SCALP
    unit = "halves" if split else "n"
    n_arms = len(counts.arms)
    assessed_lines = [f"Assessed for eligibility (n={counts.assessed})"]
    excl_lines = _lines(f"Excluded (n={sum(counts.excluded.values())})", counts.excluded)
    assessed_w, ex_w = _text_width_in(assessed_lines, bold=True), _text_width_in(excl_lines)
    # Arm columns share the width right of the stage labels; the excluded box sits right of the
    # assessed box, so the figure is as wide as either needs.
    width = max(9.5, 4.3 * n_arms + 1.6, 2 * (1.0 + assessed_w / 2 + 0.45 + ex_w))
    height = 10.0
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    line_h = 0.19
    centre = 1.45 + (width - 1.55) / 2

    def box(x: float, top: float, lines: list[str], w: float, bold_first: bool = True) -> tuple[float, float, float]:
        h = line_h * len(lines) + 0.22
        ax.add_patch(FancyBboxPatch((x - w / 2, top - h), w, h, boxstyle="round,pad=0.02,rounding_size=0.06",
                                    facecolor="white", edgecolor="#333333", linewidth=1.0))
        for i, text in enumerate(lines):
            ax.text(x - w / 2 + 0.12, top - 0.14 - i * line_h, text, ha="left", va="top", fontsize=8.2,
                    fontweight="bold" if (i == 0 and bold_first) else "normal")
        return x, top - h, h

    def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", color="#333333", linewidth=1.0, shrinkA=0, shrinkB=0))

    def stage(label: str, y: float) -> None:
        ax.add_patch(FancyBboxPatch((0.12, y - 0.17), 1.05, 0.34, boxstyle="round,pad=0.02,rounding_size=0.08",
                                    facecolor="#DCE9F5", edgecolor="#0072B2", linewidth=0.8))
        ax.text(0.645, y, label, ha="center", va="center", fontsize=8.5, fontweight="bold", color="#0B3C6B")

    heading = title or ("CONSORT flow diagram, split-scalp (within-person) study" if split
                        else "CONSORT flow diagram, parallel study")
    ax.text(width / 2, 9.8, heading, ha="center", va="top", fontsize=11, fontweight="bold")

    # Enrolment
    top = 9.35
    stage("Enrolment", top - 0.2)
    _, bottom, _ = box(centre, top, assessed_lines, assessed_w)
    ex_x = width - 0.15 - ex_w / 2
    ex_top = bottom - 0.15
    _, ex_bottom, ex_h = box(ex_x, ex_top, excl_lines, ex_w)
    rand_top = ex_bottom - 0.25
    arrow(centre, bottom, centre, rand_top)
    arrow(centre, ex_top - ex_h / 2, ex_x - ex_w / 2, ex_top - ex_h / 2)
    rand_lines = [f"Randomized (n={counts.randomized})"]
    if split:
        rand_lines.append(f"{2 * counts.randomized} scalp halves: one half to each arm per participant")
    _, rand_bottom, _ = box(centre, rand_top, rand_lines, _text_width_in(rand_lines, bold=True))

    # Allocation, follow-up, analysis: one column per arm
    col_w = (width - 1.55) / n_arms - 0.3
    xs = [1.45 + (width - 1.55) * (i + 0.5) / n_arms for i in range(n_arms)]
    split_y = rand_bottom - 0.3
    ax.plot([centre, centre], [rand_bottom, split_y], color="#333333", linewidth=1.0)
    ax.plot([xs[0], xs[-1]], [split_y, split_y], color="#333333", linewidth=1.0)
    alloc_top = split_y - 0.3
    stage("Allocation", alloc_top - 0.35)
    bottoms = []
    for x, a in zip(xs, counts.arms):
        arrow(x, split_y, x, alloc_top)
        lines = [f"Allocated to {a.name} ({unit}={a.allocated})",
                 f"   Received allocated intervention ({unit}={a.received})",
                 *_lines(f"   Did not receive allocated intervention ({unit}={sum(a.not_received.values())})",
                         a.not_received, indent="      ")]
        bottoms.append(box(x, alloc_top, lines, col_w)[1])
    follow_top = min(bottoms) - 0.35
    stage("Follow-up", follow_top - 0.35)
    bottoms_f = []
    for x, a, b in zip(xs, counts.arms, bottoms):
        arrow(x, b, x, follow_top)
        lines = [*_lines(f"Lost to follow-up ({unit}={sum(a.lost.values())})", a.lost),
                 *_lines(f"Discontinued intervention ({unit}={sum(a.discontinued.values())})", a.discontinued)]
        bottoms_f.append(box(x, follow_top, lines, col_w, bold_first=False)[1])
    analysis_top = min(bottoms_f) - 0.35
    stage("Analysis", analysis_top - 0.35)
    bottoms_a = []
    for x, a, b in zip(xs, counts.arms, bottoms_f):
        arrow(x, b, x, analysis_top)
        lines = [f"Analysed ({unit}={a.analysed})",
                 *_lines(f"   Excluded from analysis ({unit}={sum(a.excluded_from_analysis.values())})",
                         a.excluded_from_analysis, indent="      ")]
        bottoms_a.append(box(x, analysis_top, lines, col_w)[1])
    lowest = min(bottoms_a)
    if split:
        lost = {k: v for k, v in counts.participants_lost.items() if v}
        analysed = counts.participants_analysed
        lines = ["Participants (each contributes one half to each arm)",
                 f"   Randomized n={counts.randomized}; lost to follow-up n={sum(lost.values())}"
                 + ("" if not lost else " (" + ", ".join(f"{k}: {v}" for k, v in lost.items()) + ")"),
                 f"   Analysed as pairs n={analysed if analysed is not None else 'not given'}"]
        lowest = box(centre, lowest - 0.3, lines, _text_width_in(lines, bold=True))[1]
    # Crop the unused space below the last box, keeping the drawing's scale.
    bottom_y = max(0.0, lowest - 0.2)
    ax.set_ylim(bottom_y, height)
    fig.set_size_inches(width, height - bottom_y)
    return Chart(fig, heading)


def consort_from_dataset(df: pd.DataFrame, *, assessed: int, excluded: Mapping[str, int],
                         analysis_set: str = "itt", endpoint: str | None = None,
                         visit_week: int | None = None) -> ConsortCounts:
    """CONSORT counts from a study dataset, for what the dataset can tell.

    Allocation from the arms; everyone randomized is counted as having received the allocated
    treatment (the dataset does not record otherwise); lost to follow-up = no value at the
    primary visit (default: the last); analysed = measured at that visit.
    """
    rows, endpoint = select(df, analysis_set="itt", endpoint=endpoint)
    design = str(rows["design"].iloc[0])
    week = visit_week or int(rows["visit_week"].max())
    at = rows[rows["visit_week"] == week]
    column = "arm" if design == PARALLEL else "side_arm"
    units = ["subject"] if design == PARALLEL else ["subject", "side"]
    arms = []
    for arm in sorted(set(rows[column]), key=lambda a: (a.lower() not in ("placebo", "control"), a)):
        allocated = len(rows[rows[column] == arm].drop_duplicates(units))
        measured = at[(at[column] == arm) & at["value"].notna() & at["baseline"].notna()]
        if analysis_set != "itt":
            measured = measured[measured[analysis_set]]
        analysed = len(measured.drop_duplicates(units))
        lost = allocated - len(at[(at[column] == arm) & at["value"].notna()].drop_duplicates(units))
        not_in_set = allocated - lost - analysed
        arms.append(ConsortArm(name=arm, allocated=allocated, received=allocated,
                               lost={f"no measurement at week {week}": lost} if lost else {},
                               analysed=analysed,
                               excluded_from_analysis={"outside the per-protocol set": not_in_set} if not_in_set else {}))
    n_subjects = rows["subject"].nunique()
    participants_lost = participants_analysed = None
    if design == SPLIT_SCALP:
        complete = at[at["value"].notna()].groupby("subject")["side"].nunique()
        participants_analysed = int((complete == 2).sum())
        participants_lost = {f"no measurement at week {week}": n_subjects - int(len(complete))}
    return ConsortCounts(design=design, assessed=assessed, excluded=dict(excluded), randomized=n_subjects,
                         arms=tuple(arms), participants_lost=participants_lost or {},
                         participants_analysed=participants_analysed)
