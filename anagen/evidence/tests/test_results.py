import dataclasses
import json

import numpy as np

from anagen.evidence import EVIDENCE_VERSION
from anagen.evidence.cli import main as evidence_main
from anagen.evidence.results import Result


@dataclasses.dataclass(frozen=True)
class _Estimate(Result):
    method: str
    estimate: float
    ci: tuple[float, float]


def test_result_serializes_numpy_values_non_finite_as_null_and_names_the_version():
    r = _Estimate(method="demo", estimate=np.float64(1.5), ci=(np.float64(0.5), float("nan")))
    data = json.loads(r.to_json())
    assert data == {"method": "demo", "estimate": 1.5, "ci": [0.5, None], "library_version": EVIDENCE_VERSION}


def test_result_is_frozen():
    r = _Estimate(method="demo", estimate=1.0, ci=(0.0, 2.0))
    try:
        r.estimate = 2.0  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        return
    raise AssertionError("results must be immutable")


def test_unknown_evidence_command_exits_2_with_usage(capsys):
    assert evidence_main(["nonsense"]) == 2
    assert "unknown command 'nonsense'" in capsys.readouterr().err
