"""The ``json`` format: ``measure``'s report is the report document (:mod:`idm_gate.serialize`, read back
by merge, ``--report`` and publish); ``check``'s is the check document (``"kind": "check"``), which
``badge --check`` and the action's ``report`` output read; ``history``'s is ``{"rows": [...]}``
(``history.history_rows``); ``leaderboard``'s is the ranking. All are written by ``serialize.dumps``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from .. import __version__
from ..color import PLAIN, Painter
from ..serialize import bench_to_dict, dumps, measurement_to_dict, model_to_dict
from .axis import SIZE, FrontierAxis
from .benchfmt import change_to_dict
from .groupfmt import change_to_dict as group_change

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..data import CheckResult, LogBase, Measurement, Side
    from ..history import HistoryPoint
    from .leaderboard import Standing


def render_measurement(m: Measurement) -> str:
    """The report document of ``m`` as JSON text (the same bytes a stored baseline's report holds)."""
    return dumps(measurement_to_dict(m))


def render_check(r: CheckResult, paint: Painter = PLAIN) -> str:
    """:func:`check_to_dict` as JSON text (``paint`` is unused: JSON has no colour)."""
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


def _side(s: Side | None) -> dict[str, Any] | None:
    return None if s is None else {"density": s.density, "density_stderr": s.density_stderr,
                                   "error_rate": s.error_rate, "size_bytes": s.size_bytes}


def check_to_dict(r: CheckResult) -> dict[str, Any]:
    models = []
    for v in r.models:
        d = v.decomposition
        models.append({
            "name": v.name,
            "verdict": v.verdict,
            "status": v.status,
            "renamed_from": v.renamed_from,
            "current": model_to_dict(v.current) if v.current else None,
            "baseline": model_to_dict(v.baseline) if v.baseline else None,
            "baseline_commit": r.baseline_commit if v.baseline else None,
            "compared": {"current": _side(v.cur), "baseline": _side(v.base)},
            "delta": {"density_abs": v.delta, "density_rel": v.delta_rel},
            "decomposition": None if d is None else {
                "log_ratio": d.total, "accuracy": d.accuracy, "size": d.size,
                "break_even_size_bytes": d.break_even_bytes},
            "within_noise": v.within_noise,
            "comparability": {"missing_in_pr": list(v.missing_in_pr), "new_in_pr": list(v.new_in_pr),
                              "metric_changed": list(v.metric_changed)},
            "policy": v.policy.as_dict(),
            "reasons": list(v.reasons),
            **({"bench": [change_to_dict(c) for c in v.bench]} if v.bench else {}),
            **({"groups": [group_change(c) for c in v.groups]} if v.groups else {}),
            **({"worst_group": v.current.worst_group.name}
               if v.current is not None and v.current.worst_group is not None else {}),
        })
    return {
        "version": 1,
        "kind": "check",
        "tool_version": __version__,
        "verdict": r.verdict,
        "log_base": r.log_base,
        "unit": r.log_base.unit,
        "merge_base": r.merge_base,
        "baseline_commit": r.baseline_commit,
        "baseline_distance": r.baseline_distance,
        "baseline_date": r.baseline_date,
        "head_commit": r.head_commit,
        "notices": list(r.notices),
        "models": models,
    }
