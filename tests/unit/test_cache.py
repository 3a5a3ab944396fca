"""The process caches' one shape (common.cache): computed once per key, kept for their time, not
kept when computing fails, forgotten by clear()."""

import pytest

from common.cache import Cache


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def test_a_value_is_computed_once_per_key_until_cleared():
    cache: Cache[str, int] = Cache()
    compute = Counter()
    assert [cache.get("a", compute), cache.get("a", compute), cache.get("b", compute)] == [1, 1, 2]
    cache.clear()
    assert cache.get("a", compute) == 3


def test_a_value_older_than_its_time_is_computed_again():
    cache: Cache[str, int] = Cache(ttl_seconds=3600)
    compute = Counter()
    assert cache.get("a", compute) == cache.get("a", compute) == 1
    cache.ttl_seconds = 0.0
    assert cache.get("a", compute) == 2


def test_a_failure_is_not_kept():
    cache: Cache[str, int] = Cache()

    def fail() -> int:
        raise ConnectionError("SSM did not answer")

    with pytest.raises(ConnectionError):
        cache.get("a", fail)
    assert cache.get("a", Counter()) == 1


def test_beyond_its_size_the_oldest_value_goes_and_a_renewed_one_counts_as_new():
    cache: Cache[str, int] = Cache(max_entries=2)
    cache.keep("a", 1)
    cache.keep("b", 2)
    cache.keep("a", 3)  # renewed: now "b" is the oldest
    cache.keep("c", 4)
    assert [cache.lookup(key) for key in ("a", "b", "c")] == [3, None, 4]


def test_lookup_finds_only_fresh_values():
    cache: Cache[str, int] = Cache(ttl_seconds=3600)
    cache.keep("a", 1)
    assert cache.lookup("a") == 1 and cache.lookup("b") is None
    cache.ttl_seconds = 0.0
    assert cache.lookup("a") is None
