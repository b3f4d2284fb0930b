import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # The rate limit lives in the cache, which outlives a test's database transaction.
    cache.clear()
    yield
    cache.clear()
