"""The ``json`` format: ``measure``'s report is the report document (:mod:`idm_gate.serialize`, read back
by merge, ``--report`` and publish); ``check``'s is the check document (:mod:`idm_gate.checkdoc`,
``"kind": "check"``), which ``badge --check`` reads back and the action writes to its ``report`` output;
``history``'s is ``{"rows": [...]}`` (``history.history_rows``); ``leaderboard``'s is the ranking. All are
written by ``serialize.dumps``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ..checkdoc import check_to_dict
from ..color import PLAIN, Painter
from ..serialize import bench_to_dict, dumps, measurement_to_dict
from .axis import SIZE, FrontierAxis

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..data import LogBase, Measurement
    from ..history import HistoryPoint
    from ..verdicts import CheckResult
    from .leaderboard import Standing


def render_measurement(m: Measurement) -> str:
    """The report document of ``m`` as JSON text (the same bytes a stored baseline's report holds)."""
    return dumps(measurement_to_dict(m))


def render_check(r: CheckResult, paint: Painter = PLAIN) -> str:
    """:func:`idm_gate.checkdoc.check_to_dict` as JSON text (``paint`` is unused: JSON has no colour)."""
    return dumps(check_to_dict(r))


def render_history(pts: Sequence[HistoryPoint]) -> str:
    """``{"rows": [...]}``: ``history.history_rows`` of ``pts`` (every field, full precision), oldest first."""
    from ..history import history_rows

    return dumps({"rows": history_rows(pts)})


CHARTS_HISTORY: Final = False  # the leaderboard document holds no history


def render_leaderboard(rows: Sequence[Standing], log_base: LogBase, history: Sequence[HistoryPoint] = (), *,
                       axis: FrontierAxis = SIZE) -> str:
    """``{"unit": ..., "models": [...]}``: each ranked model with its figures and ``on_frontier``; against a
    ``bench:`` axis also ``frontier_axis`` and each ``frontier_position``. ``history`` is unused."""
    # against size the document is as before; another axis adds its name and each model's position on it
    return dumps({"unit": log_base.unit, **({} if axis.is_size else {"frontier_axis": axis.key}), "models": [
        {"rank": s.rank, "name": s.model.name, "density": s.model.density, "size_bytes": s.model.size_bytes,
         "error_rate": s.model.error_rate, "params": s.model.params, "bits_per_param": s.model.bits_per_param,
         **({} if axis.is_size else {"frontier_position": s.position}), "on_frontier": s.on_frontier,
         # only for a model with groups (manifest groups:), so leaderboards without them are unchanged
         **({"worst_group": {"name": g.name, "density": g.density, "error_rate": g.error_rate}}
            if (g := s.model.worst_group) is not None else {}),
         # only for a model with costs: (a cost-weighted error counts), as in the measurement report
         **({"plain_error_rate": s.model.plain_error_rate, "plain_density": s.model.plain_density}
            if s.model.plain_density is not None else {}),
         **({"bench": [bench_to_dict(b) for b in s.model.bench]} if s.model.bench else {})}
        for s in rows]})
