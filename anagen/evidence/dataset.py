"""The long-format study dataset: one row per subject (x side) x visit x endpoint.

This is the one shape that the studies app exports, the simulator writes and every analysis
reads, as a pandas DataFrame or a CSV file with a header row. Each column is described in
``docs/evidence.md``; in short:

==============  ==============================================================================
column          meaning
==============  ==============================================================================
study           study code (text)
design          ``parallel`` or ``split-scalp``; one value for the whole dataset
subject         subject code (text), unique within the study
site            clinic or site code (text)
sex             ``F`` or ``M`` (text; empty when not recorded)
arm             parallel: the arm the subject was randomized to; split-scalp: empty
side            split-scalp: ``left`` or ``right``; parallel: empty
side_arm        split-scalp: the arm given to that side; parallel: empty
visit_week      scheduled follow-up visit, weeks after randomization (integer > 0)
endpoint        what was measured, e.g. ``density_per_cm2`` (text)
value           the measurement at the visit; empty (NaN) when the visit was missed
baseline        the same endpoint at baseline (week 0) for that subject (and side)
itt             1 when the subject is in the intention-to-treat set (all randomized)
per_protocol    1 when the subject is in the per-protocol set
unblinded       1 when the subject's allocation was revealed before the lock (code-break)
==============  ==============================================================================

A missed visit is a row whose ``value`` is empty; a subject with no row at a visit that other
subjects have is counted as missing there too, so missing data are always stated, never
dropped in silence.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

PARALLEL = "parallel"
SPLIT_SCALP = "split-scalp"
DESIGNS = (PARALLEL, SPLIT_SCALP)

COLUMNS: tuple[str, ...] = (
    "study", "design", "subject", "site", "sex", "arm", "side", "side_arm", "visit_week",
    "endpoint", "value", "baseline", "itt", "per_protocol", "unblinded",
)
TEXT_COLUMNS = ("study", "design", "subject", "site", "sex", "arm", "side", "side_arm", "endpoint")
FLAG_COLUMNS = ("itt", "per_protocol", "unblinded")
ANALYSIS_SETS = {"itt": "intention-to-treat", "per_protocol": "per-protocol"}
SIDES = ("left", "right")


class DatasetError(ValueError):
    """A study dataset that cannot be analysed; the message says what to fix."""


def read_dataset(path: str | Path) -> pd.DataFrame:
    """Read a study dataset from CSV and check it (see :func:`validate`).

    Raises
    ------
    DatasetError
        When the file is missing, unreadable, empty or not in the documented shape.
    """
    path = Path(path)
    if path.is_dir():
        raise DatasetError(f"{path} is a folder; give the path of a study dataset CSV file.")
    if not path.is_file():
        raise DatasetError(f"{path}: no such file; give the path of a study dataset CSV.")
    try:
        frame = pd.read_csv(path, dtype={c: "string" for c in TEXT_COLUMNS}, keep_default_na=True)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]}).") from None
    return validate(frame, source=str(path))


def validate(frame: pd.DataFrame, *, source: str = "dataset") -> pd.DataFrame:
    """Check a study dataset and return a clean copy with typed columns.

    Text columns become strings (missing as ``""``), ``visit_week`` an integer, ``value`` and
    ``baseline`` floats (missing as NaN), the flags booleans.

    Raises
    ------
    DatasetError
        Missing columns, no rows, an unknown or mixed design, non-numeric values, a visit week
        that is not a positive whole number, a subject listed under two arms, a split-scalp row
        without its side and side arm.
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DatasetError(f"{source}: missing column(s) {', '.join(missing)}; "
                           f"a study dataset has the columns {', '.join(COLUMNS)} (see docs/evidence.md).")
    if len(frame) == 0:
        raise DatasetError(f"{source}: no rows; a study dataset needs at least one measured visit.")
    df = frame.loc[:, list(COLUMNS)].copy()
    for c in TEXT_COLUMNS:
        df[c] = df[c].astype("string").fillna("").str.strip().astype(object)
    designs = sorted(set(df["design"]))
    if len(designs) != 1 or designs[0] not in DESIGNS:
        raise DatasetError(f"{source}: design must be one of {', '.join(DESIGNS)} for every row, "
                           f"found {', '.join(repr(d) for d in designs)}.")
    for c in ("visit_week", "value", "baseline"):
        if not pd.api.types.is_numeric_dtype(df[c]):
            # an empty cell is a missing value, as in the CSV
            df[c] = df[c].map(lambda v: np.nan if isinstance(v, str) and not v.strip() else v)
        converted = pd.to_numeric(df[c], errors="coerce")
        bad = df[c].notna() & converted.isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DatasetError(f"{source}: column {c} must be numeric; line {row + 2} (counting the header) has "
                               f"{df[c].iloc[row]!r}.")
        df[c] = converted.astype(float)
    weeks = df["visit_week"]
    if weeks.isna().any() or (weeks <= 0).any() or (weeks != np.round(weeks)).any():
        raise DatasetError(f"{source}: visit_week must be a whole number of weeks after randomization (> 0) on every row.")
    df["visit_week"] = weeks.astype(int)
    for c in FLAG_COLUMNS:
        df[c] = _flags(df[c], c, source)
    if (df["subject"] == "").any():
        raise DatasetError(f"{source}: every row needs a subject code.")
    if (df["endpoint"] == "").any():
        raise DatasetError(f"{source}: every row needs an endpoint name (e.g. density_per_cm2).")
    if designs[0] == PARALLEL:
        if (df["arm"] == "").any():
            raise DatasetError(f"{source}: a parallel study needs the arm on every row.")
        arms_per_subject = df.groupby("subject")["arm"].nunique()
        if (arms_per_subject > 1).any():
            raise DatasetError(f"{source}: subject {arms_per_subject[arms_per_subject > 1].index[0]} is listed "
                               "under two arms; each subject is randomized to one arm.")
    else:
        if (~df["side"].isin(SIDES)).any():
            raise DatasetError(f"{source}: a split-scalp study needs side left or right on every row.")
        if (df["side_arm"] == "").any():
            raise DatasetError(f"{source}: a split-scalp study needs side_arm (the arm given to that side) on every row.")
        arms_per_side = df.groupby(["subject", "side"])["side_arm"].nunique()
        if (arms_per_side > 1).any():
            raise DatasetError(f"{source}: subject {arms_per_side[arms_per_side > 1].index[0][0]} has two arms on "
                               "one side; each side receives one arm.")
        per_subject = df.groupby("subject").agg(sides=("side", "nunique"), arms=("side_arm", "nunique"))
        same = per_subject[(per_subject["sides"] == 2) & (per_subject["arms"] < 2)]
        if len(same):
            raise DatasetError(f"{source}: subject {same.index[0]} has the same arm on both sides; in a split-scalp "
                               "study each side receives a different arm.")
    _refuse_duplicates(df, source)
    return df.reset_index(drop=True)


KEY_COLUMNS = ("subject", "side", "visit_week", "endpoint")


def _refuse_duplicates(df: pd.DataFrame, source: str) -> None:
    dup = df.duplicated(list(KEY_COLUMNS), keep=False)
    if dup.any():
        row = df[dup].iloc[0]
        where = f"subject {row['subject']}" + (f" ({row['side']} side)" if row["side"] else "")
        raise DatasetError(f"{source}: {where} has {int(dup.sum())} rows for week {row['visit_week']} "
                           f"and {row['endpoint']}; keep one measurement per visit (the visit-window rules "
                           "choose the one nearest the scheduled week).")


def ensure(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` itself when it already has the dataset's columns and types, else :func:`validate` (df).

    The analyses call this on every frame they are given, so a frame built by hand (flags as
    1/0, numbers as text) is checked and typed, while one from :func:`validate`,
    :func:`read_dataset` or the simulator is not checked twice.
    """
    if not isinstance(df, pd.DataFrame):
        raise DatasetError("a study dataset is a pandas DataFrame in the documented long format (see docs/evidence.md).")
    typed = (
        all(c in df.columns for c in COLUMNS)
        and len(df) > 0
        and all(df[c].dtype == bool for c in FLAG_COLUMNS)
        and all(pd.api.types.is_float_dtype(df[c]) for c in ("value", "baseline"))
        and pd.api.types.is_integer_dtype(df["visit_week"])
        and df["design"].nunique() == 1
        and df["design"].iloc[0] in DESIGNS
    )
    if not typed:
        return validate(df)
    _refuse_duplicates(df, "dataset")
    return df


def _flags(column: pd.Series, name: str, source: str) -> pd.Series:
    text = column.astype("string").fillna("").str.strip().str.lower()
    truthy, falsy = {"1", "1.0", "true", "yes"}, {"0", "0.0", "false", "no"}
    bad = ~text.isin(truthy | falsy)
    if bad.any():
        raise DatasetError(f"{source}: column {name} holds 1 or 0 (true/false); found {column[bad].iloc[0]!r}.")
    return text.isin(truthy).astype(bool)


def design_of(df: pd.DataFrame) -> str:
    """The dataset's design (``parallel`` or ``split-scalp``)."""
    return str(df["design"].iloc[0])


def arms_of(df: pd.DataFrame) -> list[str]:
    """The arms in the dataset, sorted."""
    column = "arm" if design_of(df) == PARALLEL else "side_arm"
    return sorted(set(df[column]))


def select(df: pd.DataFrame, *, analysis_set: str = "itt", endpoint: str | None = None) -> tuple[pd.DataFrame, str]:
    """Rows of one analysis set and one endpoint; returns ``(rows, endpoint)``.

    ``endpoint`` may be omitted when the dataset holds a single endpoint.
    """
    if analysis_set not in ANALYSIS_SETS:
        raise DatasetError(f"analysis set must be one of {', '.join(ANALYSIS_SETS)}, not {analysis_set!r}.")
    df = ensure(df)
    endpoints = sorted(set(df["endpoint"]))
    if endpoint is None:
        if len(endpoints) != 1:
            raise DatasetError(f"the dataset holds several endpoints ({', '.join(endpoints)}); name one.")
        endpoint = endpoints[0]
    elif endpoint not in endpoints:
        raise DatasetError(f"no endpoint {endpoint!r} in the dataset; it holds {', '.join(endpoints)}.")
    rows = df[(df["endpoint"] == endpoint) & df[analysis_set]]
    if rows.empty:
        raise DatasetError(f"no subject is in the {ANALYSIS_SETS[analysis_set]} set for {endpoint}.")
    return rows, endpoint


def visit_weeks_of(df: pd.DataFrame) -> list[int]:
    """Scheduled visit weeks present in the dataset, in order."""
    return sorted(int(w) for w in set(df["visit_week"]))


def to_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write a dataset in the documented column order (flags as 1/0, missing values empty)."""
    out = df.loc[:, list(COLUMNS)].copy()
    for c in FLAG_COLUMNS:
        out[c] = out[c].astype(int)
    out.to_csv(path, index=False, float_format="%.4f")

