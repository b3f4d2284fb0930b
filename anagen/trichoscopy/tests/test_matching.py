"""Hair-to-hair matching across visits, on synthetic pairs with known fates."""

import json

import pytest
from PIL import Image

from anagen.trichoscopy import analyze, match_visits
from anagen.trichoscopy.cli import main
from anagen.trichoscopy.matching import confirmed_change
from anagen.trichoscopy.synthetic import generate_visit_pair


@pytest.mark.parametrize("seed", [2, 5, 6])
def test_kept_lost_and_new_follow_the_truth(seed, calibrated):
    base, follow = generate_visit_pair(seed=seed, n_hairs=18, lost=3, new=4)
    notes = base.truth.notes
    result = match_visits(base.image, follow.image, calibrated)
    assert abs(result.kept - len(notes["kept"])) <= 2
    assert abs(len(result.lost) - len(notes["lost"])) <= 1
    assert abs(len(result.new) - len(notes["new"])) <= 2
    true_change = len(notes["new"]) - len(notes["lost"])
    assert abs(result.matched_change - true_change) <= 1
    assert result.matched_change == len(result.new) - len(result.lost)
    assert result.count_change == result.followup_count - result.baseline_count
    # The follow-up was shifted by (-9, 6) and not turned.
    assert abs(result.shift_px[0] + 9) <= 1.5 and abs(result.shift_px[1] - 6) <= 1.5
    assert abs(result.rotation_deg) <= 0.5
    assert all(0.0 <= p.confidence <= 1.0 for p in result.pairs)
    assert all(0.0 <= f.confidence <= 1.0 for f in result.lost + result.new)


def test_the_pairs_link_the_same_true_hairs(calibrated):
    base, follow = generate_visit_pair(seed=6, n_hairs=18, lost=3, new=4)
    result = match_visits(base.image, follow.image, calibrated)
    truth_pairs = {tuple(p) for p in base.truth.notes["kept"]}

    def nearest(hair, truth):
        import numpy as np
        mid = np.array(hair.midpoint)
        d = [np.hypot(*(mid - (np.array(t.root) + np.array(t.tip)) / 2)) for t in truth.hairs]
        return int(np.argmin(d))

    base_hairs = {h.id: h for h in analyze(base.image, calibrated).hairs}
    follow_hairs = {h.id: h for h in analyze(follow.image, calibrated).hairs}
    linked = [p for p in result.pairs if p.baseline_id and p.followup_id]
    right = sum((nearest(base_hairs[p.baseline_id], base.truth), nearest(follow_hairs[p.followup_id], follow.truth)) in truth_pairs
                for p in linked)
    assert right >= len(linked) - 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_test_retest_shows_no_change(seed, calibrated):
    """The same area photographed twice, shifted and turned a little: no change."""
    base, again = generate_visit_pair(seed=seed, n_hairs=18, lost=0, new=0, shift_px=(5.0, -4.0), rotation_deg=2.5)
    result = match_visits(base.image, again.image, calibrated)
    assert abs(result.rotation_deg - 2.5) <= 0.5
    assert abs(result.matched_change) <= 0.01 * result.baseline_count
    assert result.kept >= 0.8 * len(base.truth.hairs)
    assert result.overlap_fraction > 0.9
    assert result.same_area
    assert result.overlap_area_cm2 == pytest.approx(result.overlap_fraction * 512 * 640 / 200**2 / 100)


def test_analyses_can_be_given_instead_of_photographs(calibrated):
    base, follow = generate_visit_pair(seed=5, n_hairs=14, lost=2, new=2)
    direct = match_visits(base.image, follow.image, calibrated)
    given = match_visits(analyze(base.image, calibrated), analyze(follow.image, calibrated), calibrated,
                         baseline_image=base.image, followup_image=follow.image)
    assert given.to_dict()["pairs"] == direct.to_dict()["pairs"]
    with pytest.raises(ValueError, match="photographs are needed"):
        match_visits(analyze(base.image, calibrated), follow.image, calibrated)


def test_rejected_lost_and_new_hairs_change_the_confirmed_change(calibrated):
    base, follow = generate_visit_pair(seed=6, n_hairs=16, lost=3, new=4)
    d = match_visits(base.image, follow.image, calibrated).to_dict()
    assert confirmed_change(d) == d["matched_change"]
    lost_id = d["lost_hairs"][0]["hair_id"]
    assert confirmed_change(d, rejected_lost=[lost_id]) == d["matched_change"] + 1
    new_id = d["new_hairs"][0]["hair_id"]
    assert confirmed_change(d, rejected_new=[new_id]) == d["matched_change"] - 1


def test_cli_compare_prints_the_json_keys(tmp_path, capsys):
    base, follow = generate_visit_pair(seed=6, n_hairs=16, lost=3, new=4)
    a, b = tmp_path / "baseline.png", tmp_path / "followup.png"
    Image.fromarray(base.image).save(a)
    Image.fromarray(follow.image).save(b)
    assert main(["compare", str(a), str(b), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    for key in ("kept", "lost", "new", "matched_change", "count_change", "pairs", "overlap_fraction"):
        assert key in record
    assert record["matched_change"] == record["new"] - record["lost"]
    assert main(["compare", str(a), str(b)]) == 0
    assert "matched change" in capsys.readouterr().out
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    assert main(["compare", str(a), str(broken), "--json"]) == 1
    assert "error" in capsys.readouterr().err


def test_photographs_of_different_areas_are_not_the_same_area(calibrated):
    from anagen.trichoscopy.synthetic import generate_scalp

    for seed in (1, 5):
        a, b = generate_scalp(100 + seed, n_hairs=20), generate_scalp(200 + seed, n_hairs=22)
        result = match_visits(a.image, b.image, calibrated)
        assert not result.same_area and result.to_dict()["same_area"] is False
    base, follow = generate_visit_pair(seed=6, n_hairs=16, lost=3, new=4)
    assert match_visits(base.image, follow.image, calibrated).same_area
