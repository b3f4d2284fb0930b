import pytest

from anagen.trichoscopy import Profile, ProfileError, calibrate_scale, list_profiles, load_profile, save_profile
from anagen.trichoscopy.calibrate import CalibrationError
from anagen.trichoscopy.synthetic import generate_ruler


def test_shipped_profiles_load():
    assert "default" in list_profiles()
    for name in list_profiles():
        p = load_profile(name)
        assert p.name == name and p.vellus_threshold_um == 40.0
    assert load_profile().name == "default" and load_profile().px_per_mm is None


def test_a_profile_can_be_built_in_code_and_saved(tmp_path, monkeypatch):
    monkeypatch.setenv("ANAGEN_TRICHOSCOPY_PROFILES", str(tmp_path))
    p = Profile(name="clinic-a", magnification=70, px_per_mm=262.5, ignore_regions=[(0, 0, 1, 0.05)])
    save_profile(p)
    assert load_profile("clinic-a") == p
    assert load_profile(tmp_path / "clinic-a.toml") == p


def test_bad_profiles_are_refused_clearly(tmp_path):
    with pytest.raises(ProfileError, match="no profile named"):
        load_profile("nonexistent")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\nzoom = 3\n')
    with pytest.raises(ProfileError, match="unknown setting"):
        load_profile(bad)
    with pytest.raises(ProfileError, match="positive"):
        Profile(px_per_mm=-1)
    with pytest.raises(ProfileError, match="fractions"):
        Profile(ignore_regions=[(0, 0, 2, 1)])


@pytest.mark.parametrize("px_per_mm, spacing_mm", [(37.5, 1.0), (210.0, 0.1), (64.0, 0.5)])
def test_calibration_from_a_ruler(px_per_mm, spacing_mm):
    ruler = generate_ruler(px_per_mm * spacing_mm / spacing_mm, spacing_mm=spacing_mm)
    assert calibrate_scale(ruler, spacing_mm) == pytest.approx(px_per_mm, rel=0.01)


def test_calibration_refuses_an_image_without_graduations(sample):
    import numpy as np

    flat = np.full((256, 256, 3), 128, np.uint8)
    with pytest.raises(CalibrationError, match="no regular graduation"):
        calibrate_scale(flat, 1.0)
