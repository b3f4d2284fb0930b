import csv
import io
import json

from PIL import Image

from anagen.trichoscopy.cli import main
from anagen.trichoscopy.synthetic import generate_ruler, generate_scalp


def _write_images(folder, n=3):
    paths = []
    for i in range(n):
        p = folder / f"img{i}.jpg"
        Image.fromarray(generate_scalp(seed=100 + i, n_hairs=10).image).save(p, quality=92)
        paths.append(p)
    return paths


def test_count_prints_json_lines_and_goes_on_after_a_bad_file(tmp_path, capsys):
    good = _write_images(tmp_path, 2)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(good[0].read_bytes()[:500])
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    code = main(["count", str(good[0]), str(bad), str(empty), str(good[1]), "--json", "--overlay", str(tmp_path / "ov")])
    out = capsys.readouterr()
    records = [json.loads(line) for line in out.out.splitlines()]
    assert code == 1
    assert [r["image"].rsplit("/", 1)[-1] for r in records] == ["img0.jpg", "broken.jpg", "empty.png", "img1.jpg"]
    for r in (records[0], records[3]):
        for key in ("image", "usable", "quality", "hair_count", "terminal_count", "vellus_count",
                    "field_area_cm2", "density_per_cm2", "mean_diameter_um", "hairs", "elapsed_ms"):
            assert key in r
        assert r["hair_count"] > 0 and r["density_per_cm2"] is None
    assert "truncated" in records[1]["error"] and "empty" in records[2]["error"]
    assert "truncated" in out.err
    assert len(list((tmp_path / "ov").glob("*.png"))) == 2


def test_count_prints_a_table_without_json(tmp_path, capsys):
    _write_images(tmp_path, 1)
    assert main(["count", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "hairs" in out.splitlines()[0] and "img0.jpg" in out


def test_batch_writes_csv_and_resumes(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    _write_images(folder, 3)
    (folder / "junk.png").write_bytes(b"not an image")
    out = tmp_path / "results.csv"
    assert main(["batch", str(folder), "--out", str(out), "--jobs", "2", "--quiet"]) == 1
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 4 and sum(r["status"] == "ok" for r in rows) == 3
    assert main(["batch", str(folder), "--out", str(out), "--jobs", "1", "--quiet"]) == 1
    rows = list(csv.DictReader(out.open()))
    assert sum(r["status"] == "ok" for r in rows) == 3  # finished images not redone
    assert "3 already done" in capsys.readouterr().err


def test_calibrate_writes_a_profile(tmp_path, capsys):
    ruler = tmp_path / "ruler.png"
    Image.fromarray(generate_ruler(48.0)).save(ruler)
    target = tmp_path / "scope.toml"
    assert main(["calibrate", str(ruler), "--mm", "1", "--name", "scope", "--out", str(target)]) == 0
    assert "48.0" in capsys.readouterr().out
    from anagen.trichoscopy import load_profile

    assert abs(load_profile(target).px_per_mm - 48.0) < 0.5


def test_unknown_profile_is_a_clear_error(tmp_path, capsys):
    _write_images(tmp_path, 1)
    assert main(["count", str(tmp_path), "--profile", "nope"]) == 2
    assert "no profile named" in capsys.readouterr().err


def test_batch_reports_the_counting_rule_and_resumes_a_file_begun_without_it(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _write_images(folder, 2)
    out = tmp_path / "results.csv"
    assert main(["batch", str(folder), "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert all(int(r["rule_count"]) <= int(r["hair_count"]) for r in rows)
    # A results file written before the column existed: resumed with its own columns.
    old_fields = [f for f in rows[0] if f != "rule_count"]
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=old_fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerow(rows[0])
    assert main(["batch", str(folder), "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 3 and all(line.count(",") == lines[0].count(",") for line in lines)
