"""A patient's target area photographed visit after visit (``synthetic.TargetArea``): the same
hairs from photograph to photograph, with known kept, lost and new hairs, and the matching that
the clinic runs across visits recovers them."""

from __future__ import annotations

import numpy as np
import pytest

from anagen.trichoscopy import Profile
from anagen.trichoscopy.matching import match_visits
from anagen.trichoscopy.synthetic import TargetArea

PROFILE = Profile(name="synthetic-200", px_per_mm=200.0)


def _area(seed, **kw):
    return TargetArea(seed, max_hairs=26, px_per_mm=200.0, length_mm=(0.3, 0.7), **kw)


@pytest.mark.parametrize("seed", [3, 8])
def test_a_series_keeps_its_hairs_and_says_which_were_lost_and_new(seed):
    area = _area(seed, turnover=0.1)
    first = area.photograph(16)
    assert first.truth.hair_count == 16 and first.truth.notes["shift_px"] == [0.0, 0.0]
    assert first.truth.notes["lost"] == [] and first.truth.notes["new"] == []
    for n in (16, 20, 12, 22):
        shot = area.photograph(n)
        notes = shot.truth.notes
        assert shot.truth.hair_count == n == len(notes["ids"])
        assert len(notes["kept"]) + len(notes["lost"]) == 16
        assert len(notes["kept"]) + len(notes["new"]) == n
        assert max(abs(v) for v in notes["shift_px"]) <= 12.0 and abs(notes["rotation_deg"]) <= 2.0
        # A kept hair is the same hair: the same diameter, moved by the photograph's shift and turn.
        for a, b in notes["kept"]:
            assert first.truth.hairs[a].diameter_um == shot.truth.hairs[b].diameter_um
        moved = [np.hypot(*(np.subtract(shot.truth.hairs[b].root, first.truth.hairs[a].root))) for a, b in notes["kept"]]
        assert max(moved) <= 12.0 * np.sqrt(2) + np.radians(2.0) * np.hypot(512, 640) / 2 + 1


def test_the_same_seed_gives_the_same_series():
    a, b = _area(4), _area(4)
    for n in (15, 19):
        assert np.array_equal(a.photograph(n).image, b.photograph(n).image)


def test_photographs_differ_in_position_and_light_but_not_in_skin():
    area = _area(6)
    first, second = area.photograph(15), area.photograph(15)
    assert not np.array_equal(first.image, second.image)
    assert abs(float(first.image.mean()) - float(second.image.mean())) < 0.1 * float(first.image.mean())


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_matching_a_re_photographed_area_finds_no_change(seed):
    area = _area(seed, turnover=0.0)
    base, again = area.photograph(18), area.photograph(18)
    m = match_visits(base.image, again.image, PROFILE)
    assert abs(m.matched_change) <= 1
    assert len(m.pairs) >= 0.8 * 18


@pytest.mark.parametrize("seed", [21, 22])
def test_matching_recovers_the_known_gain(seed):
    area = _area(seed, turnover=0.0)
    base, later = area.photograph(16), area.photograph(22)
    assert len(later.truth.notes["new"]) == 6 and later.truth.notes["lost"] == []
    m = match_visits(base.image, later.image, PROFILE)
    assert abs(m.matched_change - 6) <= 2
