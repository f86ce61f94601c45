"""The one retry policy (idm_gate/retry.py): its schedule, its budget and its loop, with no real sleeping."""

from __future__ import annotations

import math

import pytest

from idm_gate.github.client import GITHUB_RETRY
from idm_gate.retry import RetriesExhausted, RetryPolicy
from idm_gate.store.branch import PUSH_RETRY


class Clock:
    """A fake monotonic clock that a fake sleep moves, and that each try can move by ``work_s``."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s


class Flaky(Exception):
    pass


def flaky(failures: int, clock: Clock, work_s: float = 0.0):
    """A function that fails ``failures`` times with Flaky (each try taking ``work_s``), then returns "ok"."""
    calls = []

    def fn() -> str:
        calls.append(clock.now)
        clock.now += work_s
        if len(calls) <= failures:
            raise Flaky(f"try {len(calls)}")
        return "ok"

    return fn, calls


def waits(policy: RetryPolicy) -> tuple[float, ...]:
    """The backoff after each failed attempt but the last (the budget aside), ``attempts - 1`` of them;
    with jitter, the top of each draw's range."""
    return tuple(policy.delay(n, uniform=lambda lo, hi: hi) for n in range(1, policy.attempts))


def test_the_schedule_doubles_up_to_the_cap():
    # 0.25 * 2**(n-1) for n = 1..9, capped at 4: 0.25, 0.5, 1, 2, 4, 4, 4, 4, 4 (23.75 s in all)
    assert waits(PUSH_RETRY) == (0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0)
    assert sum(waits(PUSH_RETRY)) == 23.75
    assert waits(GITHUB_RETRY) == (1.0, 2.0, 4.0)  # 4 tries: 3 waits
    assert waits(RetryPolicy(attempts=1, base_delay_s=1, max_delay_s=1)) == ()


def test_jitter_draws_from_the_upper_half_of_each_wait():
    drawn = []

    def uniform(lo: float, hi: float) -> float:
        drawn.append((lo, hi))
        return lo

    # after the 3rd failure d = min(0.25 * 4, 4) = 1: the draw is from [0.5, 1]
    assert PUSH_RETRY.delay(3, uniform) == 0.5 and drawn == [(0.5, 1.0)]
    assert GITHUB_RETRY.delay(3, uniform) == 4.0 and drawn == [(0.5, 1.0)]  # no jitter: no draw


def test_next_wait_gives_up_after_the_last_try_and_at_the_budget():
    p = RetryPolicy(attempts=10, base_delay_s=1.0, max_delay_s=60.0, budget_s=5.0)
    assert p.next_wait(1, spent_s=0.0) == 1.0
    assert p.next_wait(2, spent_s=1.0) == 2.0   # 1 + 2 = 3 <= 5
    assert p.next_wait(3, spent_s=3.0) is None  # 3 + 4 = 7 > 5
    assert p.next_wait(1, spent_s=0.0, asked_s=4.5) == 4.5  # the server's Retry-After replaces the backoff
    assert p.next_wait(1, spent_s=1.0, asked_s=4.5) is None
    assert p.next_wait(10, spent_s=0.0) is None  # the 10th try was the last
    assert RetryPolicy(attempts=3, base_delay_s=1, max_delay_s=1).budget_s == math.inf


def test_call_retries_what_retry_on_accepts_and_returns_the_result():
    clock = Clock()
    fn, calls = flaky(2, clock)
    p = RetryPolicy(attempts=4, base_delay_s=1.0, max_delay_s=60.0)
    assert p.call(fn, retry_on=lambda e: isinstance(e, Flaky), sleep=clock.sleep, clock=clock) == "ok"
    assert len(calls) == 3 and clock.sleeps == [1.0, 2.0]


def test_call_raises_other_errors_at_once():
    clock = Clock()

    def fn() -> None:
        raise KeyError("not transient")

    with pytest.raises(KeyError):
        GITHUB_RETRY.call(fn, retry_on=lambda e: isinstance(e, Flaky), sleep=clock.sleep, clock=clock)
    assert clock.sleeps == []


def test_call_gives_up_with_the_last_error_the_tries_and_the_time():
    clock = Clock()
    fn, calls = flaky(10, clock)
    p = RetryPolicy(attempts=3, base_delay_s=1.0, max_delay_s=60.0)
    with pytest.raises(RetriesExhausted) as info:
        p.call(fn, retry_on=lambda e: isinstance(e, Flaky), sleep=clock.sleep, clock=clock)
    # 3 tries, waits of 1 and 2 s between them: 3 s in all
    assert (info.value.attempts, info.value.elapsed_s, str(info.value.last)) == (3, 3.0, "try 3")
    assert info.value.__cause__ is info.value.last and clock.sleeps == [1.0, 2.0]


def test_call_counts_the_work_of_each_try_against_the_budget():
    # each try takes 2 s: after try 1 (2 s spent) a 1 s wait fits in 6; after try 2 (5 s) a 2 s wait does not
    clock = Clock()
    fn, calls = flaky(10, clock, work_s=2.0)
    p = RetryPolicy(attempts=10, base_delay_s=1.0, max_delay_s=60.0, budget_s=6.0)
    with pytest.raises(RetriesExhausted) as info:
        p.call(fn, retry_on=lambda e: isinstance(e, Flaky), sleep=clock.sleep, clock=clock)
    assert info.value.attempts == 2 and clock.sleeps == [1.0] and info.value.elapsed_s == 5.0


@pytest.mark.parametrize("kw", [dict(attempts=0), dict(base_delay_s=-1.0), dict(budget_s=-0.5)])
def test_a_policy_that_cannot_work_is_refused(kw):
    with pytest.raises(ValueError):
        RetryPolicy(**{"attempts": 3, "base_delay_s": 1.0, "max_delay_s": 2.0, **kw})
