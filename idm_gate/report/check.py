"""Renderers for a gate run (CheckResult): text, Markdown (PR comment and job summary), JSON."""

from __future__ import annotations

from .. import __version__, metric
from ..color import PLAIN, Painter
from ..compare import FAIL, PASS, WARN, CheckResult, ModelVerdict
from .fmt import count, gb, num, pm
from .jsonio import model_to_dict
from .markdown import esc, files_details, task_details

ICON = {PASS: "✅", WARN: "⚠️", FAIL: "❌"}


def baseline_line(r: CheckResult) -> str:
    if r.baseline_commit is None:
        return "no baseline"
    sha = r.baseline_commit[:7]
    if not r.baseline_distance:
        return f"baseline from {sha}, the merge base"
    n = r.baseline_distance
    return f"baseline from {sha}, {n} commit{'s' if n != 1 else ''} before the merge base {(r.merge_base or '')[:7]}"


def change(v: ModelVerdict) -> str:
    if v.delta_rel is None:
        return "n/a"
    arrow = "▲" if v.delta_rel > 0 else ("▼" if v.delta_rel < 0 else "=")
    return f"{arrow} {v.delta_rel * 100:+.1f} %"


def decomposition_line(v: ModelVerdict, unit_gb: str = "GB") -> str | None:
    d = v.decomposition
    if d is None:
        return None
    be = f"; break-even size {d.break_even_bytes / 1e9:.4g} {unit_gb}" if d.break_even_bytes else ""
    return (f"accuracy {d.accuracy * 100:+.1f} %, size {d.size * 100:+.1f} % "
            f"(log-points of density){be}")


# -- text -------------------------------------------------------------------------------------------

def render_text(r: CheckResult, paint: Painter = PLAIN) -> str:
    """The report for a terminal or a CI log; ``paint`` colours the verdicts (PLAIN: no escape codes)."""
    u = metric.unit(r.log_base)
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
            lines.append(f"  size     {gb(base.size_bytes)} -> {gb(cur.size_bytes)} GB")
            lines.append(f"  error    {num(base.error_rate)} -> {num(cur.error_rate)}")
        elif cur:
            lines.append(f"  size     {gb(cur.size_bytes)} GB, error rate {num(cur.error_rate)}")
        dl = decomposition_line(v) if v.status == "changed" else None
        if dl:
            lines.append(f"  split    {dl}")
        for reason in v.reasons:
            lines.append(f"  - {reason}")
        lines.append("")
    for n in r.notices:
        lines.append(f"{paint('note', 'note:')} {n}")
    return "\n".join(lines).rstrip() + "\n"


# -- markdown ---------------------------------------------------------------------------------------

def render_markdown_parts(r: CheckResult) -> tuple[str, str]:
    """(head, details): the head holds the verdict and the table and is never shortened."""
    u = metric.unit(r.log_base)
    worst = r.worst_model()
    summary = {PASS: "no efficiency regression", WARN: "efficiency warnings", FAIL: "efficiency regression"}[r.verdict]
    head = [f"## {ICON[r.verdict]} idm-gate: **{r.verdict}**, {summary}", ""]
    if worst is not None and worst.delta_rel is not None:
        head.append(f"Largest change: **{esc(worst.name)}** density {change(worst)}. "
                    f"<sub>{esc(baseline_line(r))}</sub>")
    else:
        head.append(f"<sub>{esc(baseline_line(r))}</sub>")
    head += ["", f"| | model | density ({u}), baseline → PR | change | size GB | error rate | params | bits/param |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for v in r.models:
        cur, base = v.current, v.baseline
        if v.status == "removed":
            dens = f"{num(base.density)} → removed"
        elif v.cur and v.base:
            dens = f"{num(v.base.density)} → **{num(v.cur.density)}**"
        elif base is not None:  # a baseline, but no task in common with it
            dens = f"{num(base.density)} → **{pm(cur.density, cur.density_stderr)}**, not comparable"
        else:
            dens = f"new → **{pm(cur.density, cur.density_stderr)}**"
        show = cur or base
        size = f"{gb(base.size_bytes)} → {gb(cur.size_bytes)}" if cur and base and base.size_bytes != cur.size_bytes else gb(show.size_bytes)
        err = f"{num(base.error_rate)} → {num(cur.error_rate)}" if cur and base and base.error_rate != cur.error_rate else num(show.error_rate)
        bpp = num(show.bits_per_param, 3) if show.bits_per_param is not None else "n/a"
        head.append(f"| {ICON[v.verdict]} | {esc(v.name)} | {dens} | {change(v)} | {size} | {err} | "
                    f"{count(show.params)} | {bpp} |")
    head.append("")
    for v in r.models:
        notes = [esc(x, 400) for x in v.reasons]
        dl = decomposition_line(v) if v.status == "changed" else None
        if dl:
            notes.append(dl)
        if notes:
            head.append(f"**{esc(v.name)}**: " + "; ".join(notes))
            head.append("")
    for n in r.notices:
        head.append(f"> {esc(n, 500)}")
        head.append("")
    details = []
    for v in r.models:
        x = v.current or v.baseline
        details += [f"<details><summary>{esc(v.name)}: per-task results</summary>", "", *task_details(x), ""]
        if v.current and v.baseline and v.current.fingerprint != v.baseline.fingerprint:
            details.append(f"Baseline tasks: {', '.join(esc(t.task) for t in v.baseline.tasks)}")
            details.append("")
        details += ["</details>", ""]
        if v.current:
            details += files_details(v.current)
    details.append(f"<sub>D = −{'ln' if r.log_base == 'e' else 'log2'}(mean error rate) / size in GB. "
                   f"idm-gate {__version__}.</sub>")
    return "\n".join(head), "\n".join(details)


def render_markdown(r: CheckResult) -> str:
    h, d = render_markdown_parts(r)
    return h + "\n" + d + "\n"


# -- json -------------------------------------------------------------------------------------------

def _side(s):
    return None if s is None else {"density": s.density, "density_stderr": s.density_stderr,
                                   "error_rate": s.error_rate, "size_bytes": s.size_bytes}


def check_to_dict(r: CheckResult) -> dict:
    models = []
    for v in r.models:
        d = v.decomposition
        models.append({
            "name": v.name,
            "verdict": v.verdict,
            "status": v.status,
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
        })
    return {
        "version": 1,
        "kind": "check",
        "tool_version": __version__,
        "verdict": r.verdict,
        "log_base": r.log_base,
        "unit": metric.unit(r.log_base),
        "merge_base": r.merge_base,
        "baseline_commit": r.baseline_commit,
        "baseline_distance": r.baseline_distance,
        "notices": list(r.notices),
        "models": models,
    }
