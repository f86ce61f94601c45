"""Renderers for a gate run (CheckResult): text, Markdown (PR comment and job summary), JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import __version__
from ..color import PLAIN, Painter
from ..compare import CheckResult, ModelVerdict, Side
from ..data import ModelStatus
from ..serialize import model_to_dict
from . import costfmt
from .benchfmt import change_to_dict, check_lines
from .explain import advice
from .fmt import num, percent, pm, size, size_pair
from .groupfmt import change_to_dict as group_change
from .groupfmt import check_lines as group_lines
from .text import files_line

if TYPE_CHECKING:
    from .check_markdown import Provenance


def baseline_line(r: CheckResult) -> str:
    if r.baseline_commit is None:
        return "no baseline"
    sha = r.baseline_commit[:7]
    when = f", committed {r.baseline_date[:10]}" if r.baseline_date else ""
    if not r.baseline_distance:
        return f"baseline from {sha}, the merge base{when}"
    n = r.baseline_distance
    return (f"baseline from {sha}, {n} commit{'s' if n != 1 else ''} before the merge base "
            f"{(r.merge_base or '')[:7]}{when}")


def change(v: ModelVerdict) -> str:
    if v.delta_rel is None:
        return "n/a"
    arrow = "▲" if v.delta_rel > 0 else ("▼" if v.delta_rel < 0 else "=")
    return f"{arrow} {percent(v.delta_rel)}"


# -- text -------------------------------------------------------------------------------------------

def render_text(r: CheckResult, paint: Painter = PLAIN) -> str:
    """The report for a terminal or a CI log; ``paint`` colours the verdicts (PLAIN: no escape codes)."""
    u = r.log_base.unit
    lines = [f"idm-gate {__version__}: {paint(r.verdict, r.verdict.upper())}  ({baseline_line(r)})", ""]
    for v in r.models:
        cur, base = v.current, v.baseline
        head = f"{v.name}: {paint(v.verdict, v.verdict.upper())} [{v.status}]"
        lines.append(head)
        if v.cur and v.base:
            lines.append(f"  density  {num(v.base.density)} -> {num(v.cur.density)} {u}  ({change(v)})")
        elif cur:
            lines.append(f"  density  {pm(cur.density, cur.density_stderr)} {u}")
        if cur and base:
            lines.append("  size     {} -> {}".format(*size_pair(base.size_bytes, cur.size_bytes)))
            lines.append(f"  error    {num(base.error_rate)} -> {num(cur.error_rate)}")
        elif cur:
            lines.append(f"  size     {size(cur.size_bytes)}, error rate {num(cur.error_rate)}")
        if cur and cur.artifacts:
            lines.append(f"  files    {files_line(cur)}")
        lines += costfmt.check_lines(v, u)
        lines += check_lines(v)
        lines += group_lines(v, u)
        for reason in v.reasons:
            lines.append(f"  - {reason}")
        for said in advice(v, r.log_base) if v.status is not ModelStatus.UNCHANGED else ():
            lines.append(f"  {said}")
        lines.append("")
    for n in r.notices:
        lines.append(f"{paint('note', 'note:')} {n}")
    return "\n".join(lines).rstrip() + "\n"


# -- markdown: report/check_markdown.py ------------------------------------------------------------

def render_markdown_parts(r: CheckResult, prov: Provenance | None = None, **kw: Any) -> tuple[str, str]:
    """(head, details) of the PR comment; see ``check_markdown.render_markdown_parts``."""
    from .check_markdown import render_markdown_parts as parts

    return parts(r, prov, **kw)


def render_markdown(r: CheckResult, prov: Provenance | None = None, **kw: Any) -> str:
    from .check_markdown import render_markdown as whole

    return whole(r, prov, **kw)


# -- json -------------------------------------------------------------------------------------------

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
