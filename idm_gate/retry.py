"""One retry policy for every operation idm-gate repeats: bounded tries, exponential backoff, a budget.

Two loops use it: the GitHub client (``github/client.py``: network errors, 5xx and rate limits, where
the server may name its own wait) and the branch store's push (``store/branch.py``: a lost race
with another job). Sizing Hub and URL artifacts is not retried: a fault there is a ``RemoteError``
that asks the user to run again.

The schedule: after failed attempt ``n`` (from 1) the wait is ``d = min(base_delay_s * 2**(n-1),
max_delay_s)`` seconds, or, with ``jitter``, a uniform draw from ``[d/2, d]`` (so racing jobs spread
out). No wait starts after the last attempt, or when it would take the time spent past ``budget_s``.
Pure: nothing here sleeps unless the caller hands :meth:`RetryPolicy.call` its ``sleep``.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


class RetriesExhausted(Exception):
    """:meth:`RetryPolicy.call` gave up: ``last`` is the final attempt's error, raised from it."""

    def __init__(self, last: Exception, attempts: int, elapsed_s: float):
        super().__init__(f"gave up after {attempts} attempt(s) in {elapsed_s:.1f}s: {last}")
        self.last = last
        self.attempts = attempts
        self.elapsed_s = elapsed_s


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How often and how long an operation is tried again (see the module docstring for the schedule)."""

    attempts: int               # tries in all, the first included (1: never retried)
    base_delay_s: float         # the wait after the first failure, seconds; doubles after each one
    max_delay_s: float          # the longest single wait, seconds
    budget_s: float = math.inf  # no wait starts that would take the time spent past this, seconds
    jitter: bool = False        # draw each wait from [d/2, d] rather than waiting d

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {self.attempts}")
        if min(self.base_delay_s, self.max_delay_s, self.budget_s) < 0:
            raise ValueError("delays and the budget must be >= 0")

    def delay(self, failed_attempt: int, uniform: Callable[[float, float], float] = random.uniform) -> float:
        """Seconds to wait after attempt ``failed_attempt`` (from 1) failed; ``uniform`` draws the jitter."""
        d = min(self.base_delay_s * 2.0 ** (failed_attempt - 1), self.max_delay_s)
        return uniform(d / 2, d) if self.jitter else d

    def next_wait(self, failed_attempt: int, spent_s: float, asked_s: float | None = None,
                  uniform: Callable[[float, float], float] = random.uniform) -> float | None:
        """The wait before the next try, or None to give up: ``failed_attempt`` was the last one, or the
        wait would take ``spent_s`` (what the caller counts against the budget) past ``budget_s``.
        ``asked_s`` replaces the backoff when the server named its wait (``Retry-After``)."""
        if failed_attempt >= self.attempts:
            return None
        wait = asked_s if asked_s is not None else self.delay(failed_attempt, uniform)
        return None if spent_s + wait > self.budget_s else wait

    def call(self, fn: Callable[[], T], *, retry_on: Callable[[Exception], bool],
             sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> T:
        """``fn()``'s result, trying again after an error that ``retry_on`` accepts; the budget counts
        the time since the first try (``clock``, seconds). Any other error is raised at once; when
        the tries or the budget run out, :class:`RetriesExhausted` is raised from the last error."""
        started = clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except Exception as e:
                if not retry_on(e):
                    raise
                wait = self.next_wait(attempt, clock() - started)
                if wait is None:
                    raise RetriesExhausted(e, attempt, clock() - started) from e
            sleep(wait)
