"""Study results (issue item 9): the CONSORT flow, baseline table, primary and supporting
analyses, per-visit means, plots, adverse events by arm, the deviation listing, and sample-size
planning. Every number comes from the evidence library (:mod:`anagen.evidence`); this module
only builds its inputs from the records (:mod:`anagen.studies.datasets`) and decides who may
see them.

Who may see results (they reveal the arms):

- the study's **unblinded statistician**, at any time; before the database lock every page,
  PDF and export says **INTERIM** (the data may still change);
- after the lock and the signed unblinding of the analysis (:func:`anagen.studies.lock.analysis_unblind`),
  also the (blinded) **study statistician** and the **investigators**;
- never the evaluators, coordinators or the unblinded pharmacist (403), nobody off the team (404).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied

from anagen.core.errors import ActionError, NotFound

from . import blinding, lock
from .datasets import StudyData, build, has_values
from .models import Study, StudyRole, SubjectStatus

RESULTS_ANYTIME_ROLES = (StudyRole.UNBLINDED_STATISTICIAN,)
RESULTS_AFTER_LOCK_ROLES = (StudyRole.UNBLINDED_STATISTICIAN, StudyRole.STATISTICIAN, StudyRole.INVESTIGATOR)
PLANNING_ROLES = (StudyRole.STATISTICIAN, StudyRole.UNBLINDED_STATISTICIAN, StudyRole.INVESTIGATOR)


def can_see_results(user, study: Study) -> bool:
    role = blinding.study_role(user, study)
    if role in RESULTS_ANYTIME_ROLES:
        return True
    return role in RESULTS_AFTER_LOCK_ROLES and lock.results_released(study)


def check_results(user, study: Study) -> None:
    role = blinding.study_role(user, study)
    if role is None:
        raise NotFound("No such study, or you are not on its team.")
    if not can_see_results(user, study):
        if role in RESULTS_AFTER_LOCK_ROLES:
            if lock.is_locked(study):
                raise PermissionDenied("The database is locked; the results open to you once a study statistician "
                                       "signs the unblinding of the analysis (data-quality page).")
            raise PermissionDenied("The results reveal the arms: they open to you when the database is locked and "
                                   "the unblinding of the analysis is signed. Until then only the unblinded "
                                   "statistician sees them.")
        raise PermissionDenied("Your role on this study does not see results (they reveal the arms).")


# Blinded roles that get the exports without the allocation before the lock.
BLINDED_EXPORT_ROLES = (StudyRole.STATISTICIAN, StudyRole.INVESTIGATOR)


def export_full(user, study: Study) -> bool:
    """Which exports (dataset CSV, data dictionary, ODM) ``user`` gets: True, the full ones, with
    the arms (whoever may see the results); False, the blinded ones (the blinded study
    statistician and investigators before the lock). 403 for every other role, 404 off the team."""
    if can_see_results(user, study):
        return True
    role = blinding.study_role(user, study)
    if role is None:
        raise NotFound("No such study, or you are not on its team.")
    if role in BLINDED_EXPORT_ROLES:
        return False
    raise PermissionDenied("Your role on this study does not export its data.")


def dataset_export(*, user, study: Study) -> tuple[str, list[str], list[list]]:
    """The analysis dataset ``user`` may download, as (file name, header, rows): full or blinded
    (no ``arm`` / ``side_arm`` columns) by :func:`export_full`; recorded as an export event."""
    from django.utils import timezone

    from .datasets import export_rows

    from anagen.audit.events import record_event
    from anagen.audit.models import EventKind

    full = export_full(user, study)
    data = build(study)
    header, rows = export_rows(data, blinded=not full)
    kind = ("final" if data.locked else "interim") if full else "blinded"
    record_event(EventKind.EXPORT, subject=f"study:{study.pk}", detail={"format": "dataset-csv", "kind": kind},
                 actor=user)
    return f"study-{study.pk}-dataset-{kind}-{timezone.localdate():%Y-%m-%d}.csv", header, rows


def dictionary_export(*, user, study: Study) -> tuple[str, list[str], list[tuple]]:
    """The dataset's data dictionary (column, type, meaning), without the arm columns when blinded."""
    from .datasets import DICTIONARY

    full = export_full(user, study)
    rows = [r for r in DICTIONARY if full or r[0] not in ("arm", "side_arm")]
    return f"study-{study.pk}-data-dictionary.csv", ["column", "type", "meaning"], rows


# --- CONSORT -------------------------------------------------------------------------------


def consort_counts(data: StudyData):
    """CONSORT 2010 counts from the records: screened subjects, screen failures by reason,
    enrolled but not randomized, allocations per arm, received (per unit: a study syringe for it
    injected when the subject has syringes on record, else a procedure on or after the day of
    randomization; see :mod:`anagen.studies.datasets`), lost / withdrawn per arm, analysed
    (measured with a baseline at the primary visit). Split-scalp: halves per arm, participants
    beside them."""
    from anagen.evidence.figures import ConsortArm, ConsortCounts

    excluded: Counter = Counter()
    for s in data.screened:
        if s.status == SubjectStatus.SCREEN_FAILED:
            excluded[f"Not meeting criteria or declined: {(s.screen_failure_reason or 'no reason given')[:60]}"] += 1
        elif not any(r.code == s.code for r in data.subjects):
            excluded["Enrolled, not randomized"] += 1
    analysed = _analysed_units(data)
    arm_names = data.arm_names
    split = data.design == "split-scalp"
    arms = []
    for name in arm_names:
        members = [r for r in data.subjects if (r.arm == name or split)]
        allocated = len(members)
        units = [(r, _unit_of(data, r, name)) for r in members]
        received = sum(1 for r, unit in units if r.received.get(unit, False))
        not_received = Counter(NOT_RECEIVED[(r.received_rule, split)] for r, unit in units
                               if not r.received.get(unit, False))
        lost = Counter(f"{r.end_reason[:50] or 'no reason given'}" for r in members if r.status == SubjectStatus.LOST)
        discontinued = Counter(f"{r.end_reason[:50] or 'no reason given'}" for r in members
                               if r.status == SubjectStatus.WITHDRAWN)
        n_analysed = analysed.get(name, 0)
        arms.append(ConsortArm(
            name=name, allocated=allocated, received=received,
            not_received=dict(not_received),
            lost=dict(lost), discontinued=dict(discontinued), analysed=n_analysed,
            excluded_from_analysis=({f"No value or baseline at week {data.primary_week}": allocated - n_analysed}
                                    if allocated - n_analysed else {})))
    participants_lost = {}
    participants_analysed = None
    if split:
        ended = Counter("withdrawn" if r.status == SubjectStatus.WITHDRAWN else "lost to follow-up"
                        for r in data.subjects if r.status in (SubjectStatus.WITHDRAWN, SubjectStatus.LOST))
        participants_lost = dict(ended)
        participants_analysed = analysed.get("pairs", 0)
    return ConsortCounts(design=data.design, assessed=len(data.screened), excluded=dict(excluded),
                         randomized=len(data.subjects), arms=tuple(arms), participants_lost=participants_lost,
                         participants_analysed=participants_analysed)


# Why a unit did not receive its intervention, by the rule that applies (study syringes on
# record, or the fallback to the procedures) and the design (split-scalp: per side).
NOT_RECEIVED = {
    ("syringe", True): "No study product injected on this side",
    ("syringe", False): "No study product injected",
    ("procedure", True): "No study treatment recorded",
    ("procedure", False): "No study treatment recorded",
}


def _unit_of(data: StudyData, record, arm_name: str) -> str:
    """The unit of ``record`` allocated to ``arm_name``: the subject (""), or the scalp half."""
    if data.design != "split-scalp":
        return ""
    other = "right" if record.active_side == "left" else "left"
    return record.active_side if arm_name == data.active else other


def _analysed_units(data: StudyData) -> dict[str, int]:
    frame = data.frame
    if frame.empty:
        return {}
    at = frame[(frame["visit_week"] == data.primary_week) & frame["value"].notna() & frame["baseline"].notna()]
    if data.design == "parallel":
        return at.groupby("arm")["subject"].nunique().to_dict()
    out = at.groupby("side_arm")["subject"].nunique().to_dict()
    out["pairs"] = int((at.groupby("subject")["side"].nunique() == 2).sum())
    return out


# --- tables --------------------------------------------------------------------------------


def _mean_sd(values: list[float]) -> str:
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not values:
        return "not recorded"
    if len(values) == 1:
        return f"{values[0]:.1f} (n=1)"
    return f"{statistics.fmean(values):.1f} ({statistics.stdev(values):.1f})"


def baseline_table(data: StudyData) -> dict:
    """Rows of characteristic x column: per arm (parallel) or per participant with the density of
    each side's arm (split-scalp), and all subjects."""
    split = data.design == "split-scalp"
    columns = ["All subjects"] if split else [*data.arm_names, "All subjects"]
    groups = {c: [r for r in data.subjects if split or c == "All subjects" or r.arm == c] for c in columns}
    rows = [
        ("Subjects", {c: str(len(g)) for c, g in groups.items()}),
        ("Age, years: mean (SD)", {c: _mean_sd([r.age for r in g]) for c, g in groups.items()}),
        ("Female", {c: _count(g, lambda r: r.sex == "F") for c, g in groups.items()}),
        ("Male", {c: _count(g, lambda r: r.sex == "M") for c, g in groups.items()}),
    ]
    for level in ("mild", "moderate", "advanced", "unknown"):
        if any(r.stage_group == level for r in data.subjects):
            rows.append((f"Stage group: {level}", {c: _count(g, lambda r, lv=level: r.stage_group == lv)
                                                   for c, g in groups.items()}))
    for site in sorted({r.site for r in data.subjects}):
        rows.append((f"Site: {site}", {c: _count(g, lambda r, s=site: r.site == s) for c, g in groups.items()}))
    if split:
        for name in (data.control, data.active):
            values = [r.baseline.get("left" if (r.active_side == "left") == (name == data.active) else "right")
                      for r in data.subjects]
            rows.append((f"Baseline density, {name} side (hairs/cm²): mean (SD)", {"All subjects": _mean_sd(values)}))
    else:
        rows.append(("Baseline density (hairs/cm²): mean (SD)",
                     {c: _mean_sd([r.baseline.get("") for r in g]) for c, g in groups.items()}))
    return {"columns": columns, "rows": [(label, [cells.get(c, "") for c in columns]) for label, cells in rows]}


def _count(group, test) -> str:
    n = sum(1 for r in group if test(r))
    return f"{n} ({100 * n / len(group):.0f} %)" if group else "0"


def adverse_event_table(data: StudyData) -> dict:
    """Subjects with at least one event, events, serious events and events by grade, per arm.
    Split-scalp: per participant (an event is a person's, not a side's)."""
    split = data.design == "split-scalp"
    columns = ["All subjects"] if split else data.arm_names
    rows = []
    for c in columns:
        members = {r.code for r in data.subjects if split or r.arm == c}
        events = [e for e in data.adverse_events if e["subject"] in members]
        with_event = {e["subject"] for e in events}
        grades = Counter(e["severity"] for e in events)
        rows.append({"arm": c, "subjects": len(members),
                     "with_event": f"{len(with_event)} ({100 * len(with_event) / len(members):.0f} %)" if members else "0",
                     "events": len(events), "serious": sum(1 for e in events if e["serious"]),
                     "grades": [grades.get(g, 0) for g in range(1, 6)]})
    return {"rows": rows, "events": data.adverse_events, "split": split}


def listing(data: StudyData) -> list[dict]:
    """Deviations and events that bear on the analysis, per subject: code-breaks before the lock,
    allocation corrections, withdrawals and losses, follow-up visits outside every window."""
    out = []
    # Treatments are not yet linked to studies everywhere: flag a subject without syringes and
    # with no procedure only when others have them (otherwise the whole study lacks treatment
    # records, said once on the page). A subject with syringes on record: each unit not injected.
    any_treated = any(r.treated for r in data.subjects)
    for r in data.subjects:
        if r.unblinded:
            out.append({"subject": r.code, "kind": "Emergency code-break", "detail": "Unblinded before the lock"})
        if r.corrected:
            out.append({"subject": r.code, "kind": "Allocation correction", "detail": "Outside the per-protocol set"})
        if r.status in (SubjectStatus.WITHDRAWN, SubjectStatus.LOST):
            out.append({"subject": r.code, "kind": SubjectStatus(r.status).label,
                        "detail": f"{r.ended_on}: {r.end_reason}"})
        for d in r.out_of_window:
            out.append({"subject": r.code, "kind": "Visit outside every protocol window", "detail": f"{d}"})
        if r.received_rule == "syringe":
            for unit, done in sorted(r.received.items()):
                if not done:
                    out.append({"subject": r.code, "kind": "No study product injected",
                                "detail": f"side {unit[0].upper()}" if unit else ""})
        elif any_treated and not r.treated:
            out.append({"subject": r.code, "kind": "No study treatment recorded", "detail": ""})
    out.extend(data.deviations)
    return sorted(out, key=lambda row: row["subject"])


# --- blinded tables ------------------------------------------------------------------------
#
# Who gets a results table as CSV follows the dataset export (:func:`export_full`): whoever may
# see the results gets the tables by arm; the blinded study statistician and investigators,
# before the lock, get them pooled over every subject (split-scalp: every scalp half), with no
# arm column and no row per arm, so nothing in them changes when an arm does. The analyses
# (effects) are comparisons between the arms: they have no blinded variant.

BLINDED_TABLES = ("baseline", "change", "adverse_events", "listing")
POOLED = "All subjects"


def blinded_table(data: StudyData, table: str) -> tuple[list[str], list[list]]:
    """One results table without the arms (see above); PermissionDenied for the analyses."""
    if table not in BLINDED_TABLES:
        raise PermissionDenied("The analyses compare the arms: they open to you when the database is locked and the "
                               "unblinding of the analysis is signed.")
    if table == "baseline":
        base = baseline_table(data)
        at = base["columns"].index(POOLED)
        rows = [[label, cells[at]] for label, cells in base["rows"] if not label.startswith("Baseline density")]
        halves = "scalp halves" if data.design == "split-scalp" else "subjects"
        rows.append([f"Baseline density, all {halves} (hairs/cm²): mean (SD)",
                     _mean_sd([v for r in data.subjects for v in r.baseline.values()])])
        return ["characteristic", POOLED], rows
    if table == "change":
        header = ["group", "visit_week", "n", "n_missing", "mean_change", "sd", "ci_lower", "ci_upper", "note"]
        if data.frame.empty:
            return header, []
        from anagen.evidence import analysis

        pooled = data.frame.assign(**{"arm" if data.design == "parallel" else "side_arm": POOLED})
        try:
            change = analysis.change_by_visit(pooled, endpoint=data.endpoint)
        except ValueError:  # nothing measured yet: the table is empty
            return header, []
        return header, [[r.arm, r.visit_week, r.n, r.n_missing, _num(r.mean), _num(r.sd), _num(r.ci[0]),
                         _num(r.ci[1]), r.note] for r in change.rows]
    if table == "adverse_events":
        return (["subject", "onset_on", "severity", "serious", "relation", "description"],
                [[e["subject"], e["onset_on"], e["severity"], int(e["serious"]), e["relation"], e["description"]]
                 for e in data.adverse_events])
    from dataclasses import replace

    from .datasets import _deviations

    rows = listing(replace(data, deviations=_deviations(data.study, blinded=True)))
    return ["subject", "what", "detail"], [[r["subject"], r["kind"], r["detail"]] for r in rows]


def _num(x, digits=4):
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


# --- the results ---------------------------------------------------------------------------


@dataclass
class StudyResults:
    data: StudyData
    interim: bool
    consort: object = None
    baseline: dict = field(default_factory=dict)
    primary: object = None
    per_protocol: object = None
    supporting: object = None
    change: object = None
    adverse_events: dict = field(default_factory=dict)
    listing: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    # Parallel studies with more than two arms: each active arm against the control (one model,
    # Holm-adjusted p-values and Bonferroni simultaneous intervals), ITT and per protocol.
    against_control: object = None
    against_control_pp: object = None
    # With at least two active arms: the active arms against each other, from the same model
    # (their own family for Holm and Bonferroni), ITT and per protocol.
    between_active: object = None
    between_active_pp: object = None

    @property
    def effect(self):
        return self.primary.results[0] if self.primary else None


def _try(results: StudyResults, what: str, compute):
    try:
        return compute()
    except ValueError as exc:  # DatasetError is a ValueError: its message says what is missing
        results.problems.append(f"{what}: {exc}")
        return None


def compute(study: Study, *, figures: bool = True, data: StudyData | None = None) -> StudyResults:
    """Everything the results page and the PDF show (no access check: see :func:`results_for`)."""
    from anagen.evidence import analysis, figures as fig

    data = data or build(study)
    res = StudyResults(data=data, interim=not data.locked)
    res.consort = _try(res, "CONSORT flow", lambda: consort_counts(data))
    res.baseline = baseline_table(data)
    res.adverse_events = adverse_event_table(data)
    res.listing = listing(data)
    if not data.subjects:
        res.problems.append("No subject is randomized yet: there is nothing to analyse.")
    elif not has_values(data.frame):
        res.problems.append("No follow-up value is recorded in a protocol visit window yet: there is nothing to analyse.")
    else:
        kw = dict(active=data.active, control=data.control, endpoint=data.endpoint)
        df = data.frame
        multi = data.design == "parallel" and len(data.actives) > 1
        if multi:
            _against_control(res, data, analysis)
        else:
            res.primary = _try(res, "Primary analysis", lambda: analysis.primary_analysis(
                df, visit_week=data.primary_week, **kw))
            res.per_protocol = _try(res, "Per-protocol analysis", lambda: analysis.primary_analysis(
                df, visit_week=data.primary_week, analysis_set="per_protocol", **kw))
        if data.design == "split-scalp":
            res.supporting = _try(res, "Mixed model", lambda: analysis.split_scalp_mixed_model(
                df, visit_week=data.primary_week, **kw))
        elif multi:
            res.supporting = _try(res, "Repeated-measures mixed model", lambda: _repeated_each_arm(data, analysis))
        else:
            res.supporting = _try(res, "Repeated-measures mixed model", lambda: analysis.repeated_mixed_model(df, **kw))
        res.change = _try(res, "Change by visit", lambda: analysis.change_by_visit(df, endpoint=data.endpoint))
        if figures:
            if res.change is not None:
                res.figures["mean_change"] = _try(res, "Mean change plot", lambda: fig.mean_change_plot(res.change))
            res.figures["spaghetti"] = _try(res, "Spaghetti plot", lambda: fig.spaghetti_plot(df, endpoint=data.endpoint))
            analyse = analysis.paired_difference if data.design == "split-scalp" else analysis.ancova
            if multi:
                res.figures["forest"] = _try(res, "Forest plot", lambda: fig.forest_plot(
                    fig.subgroup_effects_against_control(df, "sex", visit_week=data.primary_week,
                                                         endpoint=data.endpoint, control=data.control),
                    xlabel=f"Effect, each active arm - {data.control} ({fig.DENSITY_LABEL})",
                    title=f"Each active arm against {data.control}, by sex (95 % CI)"))
            else:
                res.figures["forest"] = _try(res, "Forest plot", lambda: fig.forest_plot(fig.subgroup_effects(
                    df, "sex", analyse, visit_week=data.primary_week, **kw)))
    if figures and res.consort is not None:
        res.figures["consort"] = _try(res, "CONSORT diagram", lambda: fig.consort_diagram(res.consort))
    res.figures = {k: v for k, v in res.figures.items() if v is not None}
    return res


def _against_control(res: StudyResults, data: StudyData, analysis) -> None:
    """More than two arms (parallel): each active arm against the control from one ANCOVA with
    arm as a factor (evidence library ``ancova_against_control``); the primary table shows its
    contrasts, each noting its Holm-adjusted p-value and Bonferroni simultaneous interval. The
    active arms against each other come from the same model (``ancova_between_active_arms``)."""
    import dataclasses

    from anagen.evidence.analysis import PrimaryAnalysis

    def primary(result):
        effects = tuple(dataclasses.replace(c.effect, note=multiplicity_note(c)) for c in result.contrasts)
        return PrimaryAnalysis(design=result.design, analysis_set=result.analysis_set, endpoint=result.endpoint,
                               visit_week=result.visit_week, results=effects)

    for attr, pp_attr, label, analysis_set in (("against_control", "primary", "Primary analysis", "itt"),
                                               ("against_control_pp", "per_protocol", "Per-protocol analysis",
                                                "per_protocol")):
        result = _try(res, label, lambda s=analysis_set: analysis.ancova_against_control(
            data.frame, visit_week=data.primary_week, analysis_set=s, endpoint=data.endpoint, control=data.control))
        setattr(res, attr, result)
        setattr(res, pp_attr, None if result is None else primary(result))
    for attr, label, analysis_set in (("between_active", "Active arms compared with each other", "itt"),
                                      ("between_active_pp", "Active arms compared with each other, per protocol",
                                       "per_protocol")):
        setattr(res, attr, _try(res, label, lambda s=analysis_set: analysis.ancova_between_active_arms(
            data.frame, visit_week=data.primary_week, analysis_set=s, endpoint=data.endpoint, control=data.control)))


def multiplicity_note(contrast) -> str:
    lo, hi = contrast.ci_simultaneous
    p = contrast.p_adjusted
    return ("Holm-adjusted p " + ("not computed" if p is None else f"{p:.4g}") + "; Bonferroni simultaneous CI "
            + ("not computed" if lo is None else f"{lo:.2f} to {hi:.2f}"))


def _repeated_each_arm(data: StudyData, analysis):
    """The repeated-measures mixed model of each active arm against the control, as one result."""
    from anagen.evidence.analysis import RepeatedEffects

    fits = [analysis.repeated_mixed_model(data.frame, active=a, control=data.control, endpoint=data.endpoint)
            for a in data.actives]
    notes = "; ".join(f.note for f in fits if f.note)
    return RepeatedEffects(method=fits[0].method + ", each active arm against the control in its own model",
                           design=fits[0].design, analysis_set=fits[0].analysis_set, endpoint=fits[0].endpoint,
                           effects=tuple(e for f in fits for e in f.effects), converged=all(f.converged for f in fits),
                           note=notes)


def results_for(*, user, study: Study, figures: bool = True) -> StudyResults:
    check_results(user, study)
    return compute(study, figures=figures)


# --- cached rendering ----------------------------------------------------------------------
#
# The results are a pure function of the dataset and tables built from the records, so they are
# cached under a fingerprint of that data: any change to a value, a subject, an event or the lock
# gives a new key (never a stale result); building the data (tens of queries, no model fit) is
# done on every request. The cache is the server's (Redis in production), never the browser's.

CACHE_SECONDS = 24 * 3600
# Raised when StudyResults gains a table, so a result cached before is computed again.
RESULTS_SHAPE = 2


def fingerprint(data: StudyData) -> str:
    import hashlib

    import pandas as pd

    from anagen.evidence.version import EVIDENCE_VERSION as evidence_version

    h = hashlib.sha256()
    if not data.frame.empty:
        h.update(pd.util.hash_pandas_object(data.frame, index=True).values.tobytes())
    h.update(repr([sorted(vars(r).items()) for r in data.subjects]).encode())
    h.update(repr([(s.code, s.status, s.screen_failure_reason) for s in data.screened]).encode())
    h.update(repr(data.adverse_events).encode())
    h.update(repr(data.deviations).encode())
    h.update(repr((data.locked_at, data.active, data.control, data.primary_week, data.design, data.arms,
                   evidence_version, RESULTS_SHAPE)).encode())
    return h.hexdigest()


def rendered_for(*, user, study: Study, kind: str) -> tuple[StudyResults, dict[str, str | bytes]]:
    """The results (checked for ``user``) and their figures rendered as ``kind`` (``svg`` text or
    ``png`` bytes), from the cache when the data have not changed since they were computed."""
    from django.core.cache import cache

    check_results(user, study)
    data = build(study)
    key = f"studies:results:{study.pk}:{fingerprint(data)}:{kind}"
    hit = cache.get(key)
    if hit is not None:
        res, rendered = hit
        res.data = data
        return res, rendered
    res = compute(study, data=data)
    rendered = {name: (chart.svg() if kind == "svg" else chart.png(dpi=130)) for name, chart in res.figures.items()}
    res.figures = {}
    stored = StudyResults(**{**vars(res), "data": None})
    cache.set(key, (stored, rendered), CACHE_SECONDS)
    return res, rendered


# --- sample size ---------------------------------------------------------------------------


PLANNING_FIELDS = ("difference", "sd", "rho", "power", "alpha", "dropout")


def plan_sample_size(*, user, study: Study, difference, sd, rho=None, power=0.8, alpha=0.05, dropout=0.1):
    """Sample size for the study's design through the evidence library: split-scalp, the paired
    t-test on the within-patient difference (``sd`` is the SD of that difference); parallel, the
    two-sample comparison of change, or ANCOVA on baseline when the baseline-follow-up
    correlation ``rho`` is given. Not secret: no arm is revealed."""
    from anagen.evidence import power as pw

    role = blinding.study_role(user, study)
    if role is None:
        raise NotFound("No such study, or you are not on its team.")
    if role not in PLANNING_ROLES:
        raise PermissionDenied("Sample-size planning is for the study's statisticians and investigators.")
    try:
        if study.design == "split_scalp":
            return pw.sample_size_paired(difference=difference, sd=sd, power=power, alpha=alpha, dropout=dropout)
        return pw.sample_size_parallel(difference=difference, sd=sd, rho=rho, power=power, alpha=alpha,
                                       dropout=dropout)
    except (ValueError, TypeError) as exc:
        raise ActionError(str(exc)) from None
