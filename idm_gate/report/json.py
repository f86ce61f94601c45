"""The ``json`` format: ``measure``'s report is the report document (:mod:`idm_gate.serialize`, read back
by merge, ``--report`` and publish); ``check``'s is the check document (``"kind": "check"``), which
``badge --check`` and the action's ``report`` output read. Both are written by ``serialize.dumps``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import __version__
from ..color import PLAIN, Painter
from ..serialize import dumps, measurement_to_dict, model_to_dict
from .benchfmt import change_to_dict
from .groupfmt import change_to_dict as group_change

if TYPE_CHECKING:
    from ..compare import CheckResult, Side
    from ..data import Measurement


def render_measurement(m: Measurement) -> str:
    """The report document of ``m`` as JSON text (the same bytes a stored baseline's report holds)."""
    return dumps(measurement_to_dict(m))


def render_check(r: CheckResult, paint: Painter = PLAIN) -> str:
    """:func:`check_to_dict` as JSON text (``paint`` is unused: JSON has no colour)."""
    return dumps(check_to_dict(r))


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
