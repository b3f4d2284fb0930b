"""Anagen's evidence library: randomization, sample size, trial analysis, reader agreement,
a study simulator and statistical figures.

Pure Python on plain data, numpy, pandas, scipy and statsmodels; nothing here imports Django,
so the same functions serve the studies app, the outcomes tables, the ``anagen evidence``
command, notebooks and workers. Every result is a small frozen dataclass that serializes to
JSON with the method's name and the library's version (:mod:`anagen.evidence.results`).
"""

from anagen.evidence.version import EVIDENCE_VERSION

__all__ = ["EVIDENCE_VERSION"]
