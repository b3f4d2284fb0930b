"""``anagen evidence power``: JSON and table output, the planning table, bad input exits 2."""

import json
import subprocess
import sys

import pytest

from anagen.evidence.cli import SUBCOMMANDS
from anagen.evidence.cli import main as evidence_main


def run(capsys, *args):
    code = evidence_main(["power", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_power_is_registered_as_an_evidence_command():
    assert SUBCOMMANDS["power"] == "anagen.evidence.power_cli:main"


def test_parallel_json_has_n_per_arm_inputs_method_and_achieved_power(capsys):
    code, out, err = run(
        capsys, "--design", "parallel", "--difference", "14.7", "--sd", "25.4", "--sd-control", "21.7",
        "--dropout", "0.1", "--json",
    )
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["n_per_arm"] == 47 and data["n_evaluable_control"] == 42
    assert (data["difference"], data["sd"], data["sd_control"], data["dropout"]) == (14.7, 25.4, 21.7, 0.1)
    assert data["method"].startswith("Welch") and data["achieved_power"] >= 0.8


def test_parallel_ancova_ratio_and_measurement_error_options(capsys):
    code, out, _ = run(
        capsys, "--design", "parallel", "--difference", "5", "--sd", "20", "--rho", "0.5", "--ratio", "2",
        "--measurement-sd", "2", "--alpha", "0.05", "--power", "0.9", "--json",
    )
    data = json.loads(out)
    assert code == 0 and data["method"].startswith("ANCOVA") and data["rho"] == 0.5
    assert data["n_per_arm"] is None and data["n_treatment"] == pytest.approx(2 * data["n_control"], abs=1)
    assert data["power"] == 0.9 and data["measurement_sd"] == 2


def test_split_scalp_json_has_n_subjects(capsys):
    code, out, _ = run(capsys, "--design", "split-scalp", "--difference", "10", "--sd", "20", "--json")
    data = json.loads(out)
    assert code == 0 and data["n_subjects"] == 34 and data["design"] == "split-scalp"
    assert "n_per_arm" not in data


def test_table_output_without_json(capsys):
    code, out, _ = run(capsys, "--design", "parallel", "--difference", "14.7", "--sd", "25.4", "--sd-control", "21.7")
    assert code == 0
    lines = dict(line.split(None, 1) for line in out.splitlines())
    assert lines["n_per_arm"].strip() == "42" and lines["achieved_power"].strip() == "0.8044"


def test_planning_table_as_text_and_json(capsys):
    code, out, _ = run(capsys, "--table")
    assert code == 0
    assert "minoxidil 5 % vs placebo" in out and "42 per arm" in out and "split-scalp" in out
    code, out, _ = run(capsys, "--table", "--dropout", "0", "--json")
    rows = json.loads(out)
    assert code == 0 and rows[0]["result"]["n_per_arm"] == 42 and len(rows) == 9
    assert all(r["result"]["dropout"] == 0 for r in rows)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--design", "parallel", "--difference", "14.7", "--sd", "-25"], "sd must be greater than 0"),
        (["--design", "parallel", "--difference", "14.7", "--sd", "25", "--power", "1.5"], "power must be between 0 and 1"),
        (["--design", "parallel", "--difference", "14.7", "--sd", "25", "--power", "0"], "power must be between 0 and 1"),
        (["--design", "split-scalp", "--difference", "0", "--sd", "20"], "difference must not be 0"),
        (["--design", "parallel", "--difference", "14.7", "--sd", "25", "--dropout", "1"], "dropout must be at least 0 and below 1"),
        (["--design", "parallel", "--difference", "nan", "--sd", "25"], "difference must be a finite number"),
        (["--design", "parallel", "--difference", "14.7", "--sd", "lots"], "invalid float value: 'lots'"),
        (["--design", "split-scalp", "--difference", "10", "--sd", "20", "--ratio", "2"], "--ratio applies only to --design parallel"),
        (["--design", "parallel", "--sd", "20"], "--difference is required"),
        (["--difference", "10", "--sd", "20"], "give --design parallel or --design split-scalp"),
        (["--table", "--sd", "20"], "--table takes only"),
        (["--design", "crossover"], "invalid choice: 'crossover'"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("anagen evidence power: ") and message in err
    assert "Traceback" not in err


def test_runs_as_the_anagen_command():
    ok = subprocess.run(
        [sys.executable, "-m", "anagen.cli", "evidence", "power", "--design", "split-scalp", "--difference", "10",
         "--sd", "20", "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert ok.returncode == 0 and json.loads(ok.stdout)["n_subjects"] == 34
    bad = subprocess.run(
        [sys.executable, "-m", "anagen.cli", "evidence", "power", "--design", "parallel", "--difference", "5",
         "--sd", "-1"],
        capture_output=True, text=True, timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.strip() == "anagen evidence power: sd must be greater than 0, got -1.0"


def test_randomization_and_power_import_without_django():
    code = (
        "import sys, anagen.evidence.randomization, anagen.evidence.power, anagen.evidence.power_cli; "
        "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
