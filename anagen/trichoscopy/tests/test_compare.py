import numpy as np

from anagen.trichoscopy import Profile, compare_regrowth, compare_visits, register
from anagen.trichoscopy.synthetic import generate_regrowth_pair, generate_visit_pair


def test_registration_finds_the_shift():
    a, b = generate_visit_pair(seed=4, shift_px=(-9.0, 6.0))
    dx, dy = register(a.image, b.image)
    assert abs(dx - (-9.0)) <= 2 and abs(dy - 6.0) <= 2


def test_anagen_fraction_is_measured():
    profile = Profile(name="regrowth", px_per_mm=120.0)
    errors = []
    for seed in (1, 2, 3):
        first, later = generate_regrowth_pair(seed=seed, n_hairs=12, anagen_fraction=0.8, px_per_mm=120.0)
        result = compare_regrowth(first.image, later.image, profile)
        assert result.matched >= 0.8 * len(first.truth.hairs)
        errors.append(abs(result.anagen_pct - later.truth.anagen_pct))
        assert result.anagen_pct + result.telogen_pct == 100.0
        grown = [h.growth_mm for h in result.hairs if h.phase == "anagen"]
        assert 0.6 <= np.median(grown) <= 1.1  # 0.35 mm/day over 2.5 days
    assert np.mean(errors) <= 12.0, errors


def test_regrowth_without_a_scale_reports_pixels_only():
    first, later = generate_regrowth_pair(seed=5, n_hairs=8)
    result = compare_regrowth(first.image, later.image, Profile(name="none"))
    assert result.anagen_pct is None
    assert any(h.growth_px is not None for h in result.hairs)


def test_visits_report_kept_lost_and_new(calibrated):
    base, follow = generate_visit_pair(seed=6, n_hairs=16, lost=3, new=4)
    result = compare_visits(base.image, follow.image, calibrated)
    notes = base.truth.notes
    assert abs(len(result.kept) - len(notes["kept"])) <= 2
    assert abs(len(result.lost) - len(notes["lost"])) <= 2
    assert abs(len(result.new) - len(notes["new"])) <= 2
    assert result.to_dict()["net_change"] == result.followup.hair_count - result.baseline.hair_count
