"""``anagen evidence simulate`` and ``anagen evidence analyze``."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from anagen.evidence.analysis import ancova, paired_difference
from anagen.evidence.cli import main
from anagen.evidence.dataset import read_dataset

ROOT = Path(__file__).resolve().parents[3]


def test_simulate_then_analyze_through_the_anagen_command(tmp_path):
    out = tmp_path / "split.csv"
    cmd = [sys.executable, "-m", "anagen.cli", "evidence"]
    sim = subprocess.run([*cmd, "simulate", "--design", "split-scalp", "--n", "40", "--effect", "14.7", "--seed", "3",
                          "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert sim.returncode == 0, sim.stderr
    assert "wrote 240 rows (40 subjects, split-scalp" in sim.stdout
    run = subprocess.run([*cmd, "analyze", str(out), "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    expected = paired_difference(read_dataset(out))
    paired, wilcoxon = data["results"]
    assert paired["estimate"] == pytest.approx(expected.estimate, abs=1e-9)
    assert paired["ci"] == pytest.approx(list(expected.ci), abs=1e-9)
    assert wilcoxon["method"].startswith("Wilcoxon") and data["library_version"]


def test_analyze_parallel_prints_ancova_and_honours_visit_and_set(tmp_path, capsys):
    out = tmp_path / "par.csv"
    assert main(["simulate", "--design", "parallel", "--n", "30", "--effect", "10", "--seed", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["analyze", str(out), "--visit", "24", "--set", "per_protocol", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    expected = ancova(read_dataset(out), visit_week=24, analysis_set="per_protocol")
    assert data["visit_week"] == 24 and data["analysis_set"] == "per_protocol"
    assert data["results"][0]["estimate"] == pytest.approx(expected.estimate, abs=1e-9)
    assert main(["analyze", str(out)]) == 0
    text = capsys.readouterr().out
    assert "ANCOVA" in text and "95% CI" in text and "intention-to-treat" in text


def _one_error_line(capsys):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


def test_bad_input_exits_2_with_one_clear_line(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "missing.csv")]) == 2
    assert "no such file" in _one_error_line(capsys)

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("patient,density\nP1,120\n")
    assert main(["analyze", str(wrong)]) == 2
    assert "missing column(s) study, design" in _one_error_line(capsys)

    study = tmp_path / "study.csv"
    assert main(["simulate", "--design", "parallel", "--n", "10", "--effect", "5", "--seed", "1", "--out", str(study)]) == 0
    capsys.readouterr()
    df = pd.read_csv(study)
    one_arm = tmp_path / "one_arm.csv"
    df[df.arm == "active"].to_csv(one_arm, index=False)
    assert main(["analyze", str(one_arm)]) == 2
    assert "one arm" in _one_error_line(capsys)

    empty_pp = tmp_path / "empty_pp.csv"
    df.assign(per_protocol=(df.arm == "active").astype(int)).to_csv(empty_pp, index=False)
    assert main(["analyze", str(empty_pp), "--set", "per_protocol"]) == 2
    assert "arm 'placebo' has no subject in the per-protocol set" in _one_error_line(capsys)

    assert main(["analyze", str(study), "--design", "split-scalp"]) == 2
    assert "is a parallel study, not split-scalp" in _one_error_line(capsys)

    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--design", "crossover", "--n", "10", "--effect", "5", "--seed", "1", "--out", "x.csv"])
    assert exc.value.code == 2 and "invalid choice" in _one_error_line(capsys)

    assert main(["simulate", "--design", "parallel", "--n", "0", "--effect", "5", "--seed", "1", "--out",
                 str(tmp_path / "x.csv")]) == 2
    assert "n per arm" in _one_error_line(capsys)
    assert main(["simulate", "--design", "parallel", "--n", "5", "--effect", "5", "--seed", "1", "--visits", "a,b",
                 "--out", str(tmp_path / "x.csv")]) == 2
    assert "--visits takes whole weeks" in _one_error_line(capsys)
    assert main(["simulate", "--design", "parallel", "--n", "5", "--effect", "5", "--seed", "1",
                 "--out", str(tmp_path / "no" / "dir" / "x.csv")]) == 2
    assert "cannot write" in _one_error_line(capsys)


def test_the_analysis_modules_import_without_django():
    modules = ", ".join(f"anagen.evidence.{m}" for m in ("dataset", "descriptive", "visits", "analysis", "agreement",
                                                          "simulate", "figures", "simulate_cli", "analyze_cli"))
    code = f"import sys, {modules}; sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=120).returncode == 0
