import pytest

from anagen.evidence.simulate import simulate_study


@pytest.fixture(scope="session")
def parallel_study():
    """A parallel study with drop-out: 60 per arm, three visits, true effect 14.7 at week 48."""
    return simulate_study(design="parallel", n_per_arm=60, seed=11)


@pytest.fixture(scope="session")
def split_study():
    """A split-scalp study with drop-out: 50 subjects, three visits, true effect 14.7 at week 48."""
    return simulate_study(design="split-scalp", n_per_arm=50, seed=12)
