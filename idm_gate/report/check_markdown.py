"""The PR comment (and job summary) for a gate run: what a reviewer reads in ten seconds.

Layout, most important first, so that whatever a size limit leaves out is the least important part:

- the *head*: the verdict; counts; the largest change (by size of the relative change, up or down);
  one table row per failing, warning, changed and new model, in that order (unchanged models are one
  line: "12 models unchanged"); under it, for each of those models, what changed in plain terms and
  what would pass or keep the baseline's density; the notices; and where the figures come from (the
  measured commit and the baseline commit, linked when the server is known, and the baseline's date);
- the *details*: one folded section per model (``MODEL_SECTIONS``: per-task baseline → PR, changed
  tasks first; the files counted), the sections about the whole PR (``PR_SECTIONS``), and one folded
  table of the unchanged models.

Both parts fit a budget counted in UTF-8 bytes, which is never less than the characters GitHub counts:
``head_limit`` for the head (failing and warning models are always named, as rows while they fit and
then by name), ``limit`` for the whole. At 10,000 models the head is the counts, the rows that fit, the
names of the failing and warning models, and the provenance line.

Untrusted text (model, task, metric and file names, notices) goes through ``esc`` in Markdown and
``esc_html`` inside HTML elements such as ``<summary>``, where Markdown escapes are not processed and a
backslash would show.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..data import VERDICT_RANK, LogBase, ModelStatus, TaskScore, Verdict
from ..verdicts import CheckResult, ModelVerdict
from .benchfmt import change_text as bench_change
from .benchfmt import setup_text, value_text
from .charts import frontier_section, history_section
from .costfmt import DEPARTURE, costed_tasks, has_costs, pair_text
from .explain import ARROW, advice
from .fmt import NBSP, count, num, percent, pm, size, size_pair
from .groupfmt import change_text as group_change
from .groupfmt import tasks_text
from .markdown import esc, esc_html, files_details

ICON = {Verdict.PASS: "✅", Verdict.WARN: "⚠️", Verdict.FAIL: "❌"}
TITLE = {Verdict.PASS: "no efficiency regression", Verdict.WARN: "efficiency warnings",
         Verdict.FAIL: "efficiency regression"}
_STATUS_ORDER = {ModelStatus.CHANGED: 0, ModelStatus.NEW: 1, ModelStatus.REMOVED: 2, ModelStatus.UNCHANGED: 3}
_HEX = re.compile(r"[0-9a-f]{7,64}")
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
# GitHub refuses a comment over 65,536 characters; less room for the sticky comment's marker line
COMMENT_BUDGET = 65_536 - 200
_NAMES_SHOWN = 500  # failing/warning models named beyond the table, at most (then a count)


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


@dataclass(frozen=True)
class Provenance:
    """Where the figures come from, for the line at the end of the head.

    ``server_url`` and ``repository`` (``GITHUB_SERVER_URL``, ``GITHUB_REPOSITORY``) turn commit SHAs
    into links; without both, SHAs are shown as code. ``pr_head`` is the PR's head commit, named when
    the measured commit is another one (the merge commit a ``pull_request`` run checks out).
    """

    server_url: str | None = None
    repository: str | None = None
    pr_head: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], pr_head: str | None = None) -> Provenance:
        server = (env.get("GITHUB_SERVER_URL") or "").strip().rstrip("/")
        repo = (env.get("GITHUB_REPOSITORY") or "").strip()
        ok = server.startswith(("https://", "http://")) and not re.search(r"[\s()<>\[\]]", server) \
            and _REPO.fullmatch(repo) is not None
        return cls(server if ok else None, repo if ok else None, pr_head)

    def commit(self, sha: str) -> str:
        short = sha[:7]
        if not _HEX.fullmatch(sha):
            return f"`{esc(short)}`"
        if self.server_url and self.repository:
            return f"[`{short}`]({self.server_url}/{self.repository}/commit/{sha})"
        return f"`{short}`"


# -- pieces -----------------------------------------------------------------------------------------

def change_cell(v: ModelVerdict) -> str:
    """``▼ -49.9 %`` with non-breaking spaces, so the arrow never wraps away from its number."""
    if v.delta_rel is None:
        return "n/a"
    arrow = "▲" if v.delta_rel > 0 else ("▼" if v.delta_rel < 0 else "=")
    return f"{arrow}{NBSP}{percent(v.delta_rel, space=NBSP)}"


def _pair(a: str, b: str, bold: bool = False) -> str:
    """``a → b`` when they differ (the arrow kept with ``a``), else one value."""
    if a == b:
        return f"**{b}**" if bold else b
    return f"{a}{NBSP}{ARROW} {'**' + b + '**' if bold else b}"


def _bpp(x: float | None) -> str:
    return num(x, 3) if x is not None else "n/a"


def row(v: ModelVerdict) -> str:
    cur, base = v.current, v.baseline
    if v.status is ModelStatus.REMOVED and base is not None:
        dens = f"{num(base.density)}{NBSP}{ARROW} removed"
    elif v.cur and v.base:
        dens = _pair(num(v.base.density), num(v.cur.density), bold=True)
    elif base is not None and cur is not None:  # a baseline, but no task in common with it
        dens = f"{num(base.density)}{NBSP}{ARROW} **{pm(cur.density, cur.density_stderr)}**, not comparable"
    elif cur is not None:
        dens = f"new{NBSP}{ARROW} **{pm(cur.density, cur.density_stderr)}**"
    else:
        dens = "n/a"
    if cur is not None and base is not None:
        sz = _pair(*size_pair(base.size_bytes, cur.size_bytes, space=NBSP))
        err = _pair(num(base.error_rate), num(cur.error_rate))
        params = _pair(count(base.params), count(cur.params))
        bpp = _pair(_bpp(base.bits_per_param), _bpp(cur.bits_per_param))
    else:
        one = cur or base
        assert one is not None
        sz, err = size(one.size_bytes, space=NBSP), num(one.error_rate)
        params, bpp = count(one.params), _bpp(one.bits_per_param)
    return f"| {ICON[v.verdict]} | {esc(v.name)} | {dens} | {change_cell(v)} | {sz} | {err} | {params} | {bpp} |"


def cost_note(v: ModelVerdict, unit: str) -> list[str]:
    """One line under the model's row in the PR comment: both numbers."""
    if not (has_costs(v.current) or has_costs(v.baseline)):
        return []
    shown = v.current or v.baseline
    assert shown is not None
    tasks = ", ".join(esc(t) for t in costed_tasks(shown) if t not in v.plain_compared)
    pair = pair_text(v.baseline, v.current, unit, ARROW, NBSP)
    if v.plain_compared:
        changed = ", ".join(esc(t) for t in v.plain_compared)
        counted = f"; the cost-weighted error of {tasks} counts" if tasks else ""
        return [f"- Error costs ({DEPARTURE}): the PR changed the costs of {changed}, compared on the plain error"
                f"{counted}; without costs, {pair}."]
    return [f"- Error costs ({DEPARTURE}): density and error rate count the cost-weighted error of {tasks or 'none'}; "
            f"without costs, {pair}."]


def worst_line(v: ModelVerdict, unit: str) -> str | None:
    """``Worst group: **code**, 0.4236 nats/GB (▼ -38.9 %).`` under a model in the PR comment's head."""
    worst = v.current.worst_group if v.current else None
    if worst is None:
        return None
    c = next((c for c in v.groups if c.current is worst), None)
    change = f" ({group_change(c, NBSP)})" if c is not None and c.delta_rel is not None else ""
    return f"Worst group: **{esc(worst.name)}**, {num(worst.density)}{NBSP}{unit}{change}."


def explanation(v: ModelVerdict, log_base: LogBase) -> list[str]:
    """The model's reasons on one line, then what changed and what would pass, as a short list."""
    reasons = "; ".join(esc(x, 400).replace(" %", NBSP + "%") for x in v.reasons)
    lines = advice(v, log_base, space=NBSP)
    worst = worst_line(v, log_base.unit)
    lines += [worst] if worst else []
    costs = cost_note(v, log_base.unit)
    if not reasons and not lines and not costs:
        return []
    out = [f"**{ICON[v.verdict]} {esc(v.name)}**" + (f": {reasons}" if reasons else "")]
    out += [f"- {line}" for line in lines]
    return out + costs + [""]


def _sources(tasks: Iterable[TaskScore]) -> str:
    by: dict[str, int] = {}
    for t in tasks:
        by[t.source] = by.get(t.source, 0) + 1
    if len(by) == 1:
        return esc(next(iter(by)), 300)
    return ", ".join(f"{esc(s, 300)} ({n} task{'s' if n != 1 else ''})" for s, n in by.items())


def task_section(v: ModelVerdict, r: CheckResult) -> list[str]:
    """Per task: metric, error rate at the baseline and in the PR, and the change; changed tasks first."""
    cur = {t.task: t for t in v.current.tasks} if v.current else {}
    base = {t.task: t for t in v.baseline.tasks} if v.baseline else {}
    names = list(cur) + [t for t in base if t not in cur]
    rows = []
    for name in names:
        c, b = cur.get(name), base.get(name)
        if c and b and c.metric != b.metric:
            metric_txt, change, moved = f"{esc(b.metric)}{NBSP}{ARROW} {esc(c.metric)}", "metric changed", True
        else:
            metric_txt = esc((c or base[name]).metric)  # a name comes from the PR's tasks or the baseline's
            if c and b:
                d = c.error - b.error
                change = "=" if d == 0 else ("+" if d > 0 else "-") + num(abs(d))
                moved = d != 0
            elif v.current is None or v.baseline is None:
                change, moved = "—", False  # a new or removed model: one side only, nothing to compare
            else:
                change, moved = ("new in the PR" if c else "missing in the PR"), True
        row_txt = (f"| {esc(name)} | {metric_txt} | {num(b.error) if b else '—'} | "
                   f"{num(c.error) if c else '—'} | {change} |")
        rows.append((not moved, row_txt))
    rows.sort(key=lambda x: x[0])  # stable: changed tasks first, each group in the PR's order
    shown = v.current or v.baseline
    assert shown is not None
    out = [f"Source: {_sources(shown.tasks)}"]
    if v.current and v.baseline and _sources(v.baseline.tasks) != _sources(v.current.tasks):
        out[0] = f"Source: {_sources(v.current.tasks)} (baseline: {_sources(v.baseline.tasks)})"
    out += ["", "| task | metric | error, baseline | error, PR | change |", "|---|---|---:|---:|---:|"]
    out += [t for _, t in rows]
    return out


def files_section(v: ModelVerdict, r: CheckResult) -> list[str]:
    """The files counted in the PR's size and where each size came from (folded; none when declared)."""
    return files_details(v.current) if v.current else []


def bench_section(v: ModelVerdict, r: CheckResult) -> list[str]:
    """The model's inference benchmark figures (``bench:``), beside density: a table, or nothing without them."""
    if not v.bench:
        return []
    out = ["Inference benchmarks (beside density, not part of it):", "",
           "| figure | baseline | PR | change | setup |", "|---|---:|---:|---:|---|"]
    for c in v.bench:
        shown = c.current or c.baseline
        assert shown is not None
        base = value_text(c.baseline, NBSP) if c.baseline else "—"
        cur = value_text(c.current, NBSP) if c.current else "—"
        setup = esc(setup_text(shown)) or "—"
        out.append(f"| {esc(c.key)} | {base} | {cur} | {esc(bench_change(c, NBSP))} | {setup} |")
    return out


def group_section(v: ModelVerdict, r: CheckResult) -> list[str]:
    """The model's domains (``groups:``), baseline -> PR per group (nothing without groups)."""
    unit = r.log_base.unit
    if not v.groups:
        return []
    worst = v.current.worst_group if v.current else None
    head = f"Groups (worst: **{esc(worst.name)}**):" if worst is not None else "Groups:"
    out = [head, "", f"| group | tasks | density, baseline ({unit}) | density, PR | change |",
           "|---|---|---:|---:|---:|"]
    for c in v.groups:
        shown = c.current or c.baseline
        assert shown is not None
        base = num(c.base.density if c.base else c.baseline.density) if c.baseline else "—"
        cur = num(c.cur.density if c.cur else c.current.density) if c.current else "—"
        if worst is not None and c.current is worst:
            cur = f"**{cur}**"
        out.append(f"| {esc(c.name)} | {esc(tasks_text(shown.tasks), 400)} | {base} | {cur} | "
                   f"{esc(group_change(c, NBSP))} |")
    return out


def cost_section(v: ModelVerdict, r: CheckResult) -> list[str]:
    """The model's cost-weighted tasks (``costs:``): costs, plain and cost-weighted errors, both sides."""
    cur = {t.task: t for t in v.current.tasks} if v.current else {}
    base = {t.task: t for t in v.baseline.tasks} if v.baseline else {}
    names = [n for n in list(cur) + [t for t in base if t not in cur]
             if (n in cur and cur[n].cost_error is not None) or (n in base and base[n].cost_error is not None)]
    if not names:
        return []
    out = [f"Error costs ({DEPARTURE}; the cost-weighted error counts):", "",
           "| task | costs | plain error, baseline | plain error, PR | cost-weighted, baseline | cost-weighted, PR |",
           "|---|---|---:|---:|---:|---:|"]
    for n in names:
        c, b = cur.get(n), base.get(n)
        costs = (c or base[n]).costs  # a name comes from the PR's tasks or the baseline's
        if c is not None and b is not None and c.costs != b.costs:
            costs = f"{b.costs or 'none'}{NBSP}→ {c.costs or 'none'}"
        out.append(f"| {esc(n)} | {esc(costs or 'none', 300)} | {num(b.error) if b else '—'} | "
                   f"{num(c.error) if c else '—'} | {num(b.cost_error) if b else '—'} | "
                   f"{num(c.cost_error) if c else '—'} |")
    return out


# Sections of a model's folded details, in order. Each returns Markdown lines (or none); a new kind of
# per-model content (a chart, say) is one more function here.
MODEL_SECTIONS: list[Callable[[ModelVerdict, CheckResult], list[str]]] = [
    task_section, cost_section, group_section, bench_section, files_section]

# Sections about the whole PR (a chart of every model, say), in order, after the models' sections and
# before the unchanged models' table. Each returns Markdown lines (or none) and is kept whole or left out.
# The charts (report/charts.py: Mermaid, drawn by GitHub) are the first two.
PR_SECTIONS: list[Callable[[CheckResult], list[str]]] = [history_section, frontier_section]


def model_details(v: ModelVerdict, r: CheckResult) -> str:
    shown = v.current or v.baseline
    assert shown is not None
    n = len(shown.tasks)
    moved = len(set(v.missing_in_pr) | set(v.new_in_pr) | set(v.metric_changed))
    if v.current and v.baseline:
        bt = {t.task: t.error for t in v.baseline.tasks}
        moved += sum(1 for t in v.current.tasks if t.task in bt and t.task not in v.metric_changed
                     and t.error != bt[t.task])
    what = f"{n} task{'s' if n != 1 else ''}" + (f", {moved} changed" if v.current and v.baseline else "")
    lines = [f"<details><summary>{ICON[v.verdict]} {esc_html(v.name)}: {what}</summary>", ""]
    for section in MODEL_SECTIONS:
        part = list(section(v, r))
        while part and part[-1] == "":
            part.pop()
        if part:
            lines += [*part, ""]
    return "\n".join(lines + ["</details>", ""])


def _order(v: ModelVerdict) -> tuple[Any, ...]:
    return (-VERDICT_RANK[v.verdict], _STATUS_ORDER.get(v.status, 9), -abs(v.delta_rel or 0.0), v.name)


def _folded(v: ModelVerdict) -> bool:
    return v.status is ModelStatus.UNCHANGED and v.verdict is Verdict.PASS


def _counts(shown: list[ModelVerdict], folded: int) -> str:
    by = {k: sum(1 for v in shown if v.verdict is k) for k in (Verdict.FAIL, Verdict.WARN, Verdict.PASS)}
    parts = []
    if by[Verdict.FAIL]:
        parts.append(f"**{by[Verdict.FAIL]:,} failing**")
    if by[Verdict.WARN]:
        parts.append(f"{by[Verdict.WARN]:,} warning")
    if by[Verdict.PASS]:
        parts.append(f"{by[Verdict.PASS]:,} passing")
    if folded:
        parts.append(f"{folded:,} unchanged")
    return " · ".join(parts) if parts else "No models in the manifest"


def provenance_line(r: CheckResult, prov: Provenance) -> str:
    log = r.log_base.symbol
    parts = []
    if r.head_commit:
        measured = f"Measured {prov.commit(r.head_commit)}"
        if prov.pr_head and prov.pr_head != r.head_commit:
            measured += f" (the merge of the PR's head {prov.commit(prov.pr_head)} into the base)"
        parts.append(measured)
    elif prov.pr_head:
        parts.append(f"Measured the PR's head {prov.commit(prov.pr_head)}")
    if r.baseline_commit is None:
        parts.append("no baseline" if parts else "No baseline")
    else:
        when = f", committed {r.baseline_date[:10]}" if r.baseline_date else ""
        where = "the merge base"
        if r.baseline_distance:
            n = r.baseline_distance
            mb = prov.commit(r.merge_base) if r.merge_base else "the merge base"
            where = f"{n} commit{'s' if n != 1 else ''} before the merge base {mb}"
        parts.append(f"baseline {prov.commit(r.baseline_commit)} ({where}{when})")
    text = ", against the ".join(parts) if len(parts) == 2 and r.baseline_commit else "; ".join(parts)
    # full size, not <sub>: which commits were compared is what a reviewer checks first when in doubt
    return (f"{text}.\n\n<sub>D = −{log}(error rate) / size in GB, in {r.log_base.unit}. "
            f"idm-gate {__version__}.</sub>")


# -- assembly ---------------------------------------------------------------------------------------

class _Budget:
    def __init__(self, limit: int | None):
        self.left = limit if limit is not None else None

    def take(self, text: str) -> bool:
        n = utf8_len(text) + 1  # the line break that joins it
        if self.left is None:
            return True
        if n > self.left:
            return False
        self.left -= n
        return True


def render_markdown_parts(r: CheckResult, prov: Provenance | None = None, *, limit: int | None = None,
                          head_limit: int | None = None) -> tuple[str, str]:
    """(head, details) for a PR comment or job summary; see the module docstring.

    ``limit`` bounds head + details together and ``head_limit`` the head (default 3/4 of ``limit``),
    both in UTF-8 bytes; None renders everything.
    """
    prov = prov or Provenance()
    if head_limit is None and limit is not None:
        head_limit = limit * 3 // 4
    models = sorted(r.models, key=_order)
    shown = [v for v in models if not _folded(v)]
    folded = [v for v in models if _folded(v)]
    u = r.log_base.unit

    top = [f"## {ICON[r.verdict]} idm-gate: **{r.verdict}**, {TITLE[r.verdict]}", ""]
    big = r.largest_change()
    line = _counts(shown, len(folded)) + "."
    if big is not None:
        line += f" Largest change: **{esc(big.name)}**, density {change_cell(big)}."
    top += [line, ""]
    bottom = [provenance_line(r, prov)]
    notices = [f"> {esc(n, 500).replace(' %', NBSP + '%')}" for n in r.notices]
    budget = _Budget(head_limit)
    for piece in top + bottom:
        budget.take(piece)
    reserve = 600  # room for the overflow lines below the table
    if budget.left is not None:
        budget.left -= reserve

    # Priority, each stage taking what the budget has left: the failing and warning rows (at most half
    # of it), the names of any failing or warning models left without a row, their explanations, then
    # the passing rows and explanations, then the notices.
    header = [f"| | model | density ({u}) | change | size | error rate | params | bits/param |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    if shown:
        budget.take("\n".join(header))
    bad = [v for v in shown if v.verdict != Verdict.PASS]
    good = [v for v in shown if v.verdict is Verdict.PASS]
    rows: dict[str, str] = {}
    notes: dict[str, list[str]] = {}
    half = None if budget.left is None else budget.left // 2
    for v in bad:
        text = row(v)
        if half is not None and budget.left is not None and budget.left - utf8_len(text) < half:
            break
        if not budget.take(text):
            break
        rows[v.name] = text
    unnamed = [v for v in bad if v.name not in rows]
    names = []
    for v in unnamed[:_NAMES_SHOWN]:
        item = f"{ICON[v.verdict]} {esc(v.name, 100)}"
        if not budget.take(item + ", "):
            break
        names.append(item)
    for group in (bad, good):
        if group is good:
            for v in good:
                text = row(v)
                if not budget.take(text):
                    break
                rows[v.name] = text
        for v in group:
            if v.name in rows:
                ex = explanation(v, r.log_base)
                if ex and budget.take("\n".join(ex)):
                    notes[v.name] = ex
    kept_notices = [n for n in notices if budget.take(n + "\n")]
    if budget.left is not None:
        budget.left += reserve

    head = list(top)
    if shown:
        head += header + [rows[v.name] for v in shown if v.name in rows]
    if unnamed:
        more = len(unnamed) - len(names)
        head += ["", f"Also failing or warning: {', '.join(names)}"
                 + (f" and {more:,} more" if more and names else f"{more:,} models" if more else "") + "."]
    passing_left = sum(1 for v in shown if v.name not in rows and v.verdict is Verdict.PASS)
    if passing_left:
        head += ["", f"{passing_left:,} more changed or new model{'s' if passing_left != 1 else ''} pass."]
    if unnamed or passing_left:
        head.append("Every model is in the JSON report (`report-path`).")
    if folded:
        head += ["", f"{len(folded):,} model{'s' if len(folded) != 1 else ''} unchanged."]
    head.append("")
    for v in shown:
        head += notes.get(v.name, [])
    for n in kept_notices:
        head += [n, ""]
    if len(kept_notices) < len(notices):
        head += [f"> {len(notices) - len(kept_notices):,} more notices are in the JSON report.", ""]
    head += bottom
    head_md = "\n".join(head)

    # 2. details: one folded section per model in the same order, then the unchanged models' table
    room = _Budget(None if limit is None else limit - utf8_len(head_md) - 2 - 300)
    details: list[str] = []
    left_out = left_out_pr = 0
    for v in shown:
        sec = model_details(v, r)
        if left_out or not room.take(sec):
            left_out += 1
            continue
        details.append(sec)
    for pr_section in PR_SECTIONS:
        part = "\n".join(pr_section(r)).strip("\n")
        if part and room.take(part + "\n"):
            details.append(part + "\n")
        elif part:
            left_out_pr += 1
    if folded:
        table = [f"<details><summary>{len(folded):,} model{'s' if len(folded) != 1 else ''} unchanged</summary>",
                 "", f"| model | density ({u}) | size | error rate |", "|---|---:|---:|---:|"]
        if room.take("\n".join(table) + "\n\n</details>\n"):
            n_rows = 0
            for v in folded:
                x = v.current
                assert x is not None
                text = f"| {esc(v.name)} | {num(x.density)} | {size(x.size_bytes, space=NBSP)} | {num(x.error_rate)} |"
                if not room.take(text):
                    break
                table.append(text)
                n_rows += 1
            if n_rows < len(folded):
                table += ["", f"{len(folded) - n_rows:,} more unchanged models are in the JSON report."]
            details.append("\n".join(table + ["", "</details>", ""]))
    if left_out_pr:
        details.append(f"{left_out_pr} more section{'s' if left_out_pr != 1 else ''} left out to fit GitHub's size "
                       "limit.")
    if left_out:
        details.append(f"Per-task results of {left_out:,} more model{'s' if left_out != 1 else ''} are in the "
                       "JSON report: left out to fit GitHub's size limit.")
    return head_md, "\n".join(details).rstrip("\n")


def render_markdown(r: CheckResult, prov: Provenance | None = None, *, limit: int | None = None) -> str:
    head, details = render_markdown_parts(r, prov, limit=limit)
    return head + "\n\n" + details + "\n" if details else head + "\n"
