"""Domains (manifest ``groups:``) as words and numbers, for every format that shows them.

Format-neutral helpers only: a group's task list, shortened, and its change against the baseline or why
it has none. The text lines are in :mod:`.text`, the measure report's table in :mod:`.markdown`, the PR
comment's table and worst-group line in :mod:`.check_markdown`, the JSON in :mod:`idm_gate.checkdoc`.
The worst group is the one with the lowest density (all of a model's groups divide by the same size, so
it is also the one with the highest error rate).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .fmt import percent

if TYPE_CHECKING:  # a check's values: measure's report does not create their classes
    from ..verdicts import GroupChange


def tasks_text(names: tuple[str, ...], limit: int = 4) -> str:
    """``gsm8k, math, mbpp, mmlu and 2 more``: the first ``limit`` task names, then how many are left."""
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def change_text(c: GroupChange, space: str = " ") -> str:
    """``▼ -60.0 %`` when compared; else why not (``new group``, ``not in the PR``)."""
    if c.delta_rel is not None:
        arrow = "▲" if c.delta_rel > 0 else ("▼" if c.delta_rel < 0 else "=")
        return f"{arrow}{space}{percent(c.delta_rel, space=space)}"
    return c.why or "n/a"
