"""The ``markdown`` format: GitHub-flavoured Markdown for job summaries and PR comments.

``render_measurement`` is ``measure``'s report (the job summary of ``mode: measure``);
``render_check`` is ``check``'s, the PR comment that ``check_markdown.py`` lays out; ``render_history``
is ``history``'s table and ``render_leaderboard`` ``leaderboard``'s.

Everything that comes from the PR (model names, task names, metric keys, file paths) goes through
``esc``: it cannot open HTML, links, tables, code spans or mention anyone.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Final

from .. import __version__
from ..color import PLAIN, Painter
from ..data import LogBase, Measurement, ModelMeasurement
from ..errors import truncate
from .axis import SIZE, FrontierAxis
from .costfmt import has_costs
from .fmt import NBSP, count, num, pm, score, size
from .groupfmt import tasks_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..history import HistoryPoint
    from ..verdicts import CheckResult
    from .leaderboard import Standing

# Characters that can start emphasis, code, links, images, tables or strike-through anywhere in a
# line. ("#", "-", "+" and digits matter only at the start of a line, where we never put a name.)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~!])")


def esc(text: str, limit: int = 200) -> str:
    """Escape untrusted text for a Markdown table cell or line."""
    text = text.replace("\r", " ").replace("\n", " ")
    text = truncate(text, limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # "@name" would notify and "#123" link (and cross-reference) an issue. An entity such as "&#64;" is no
    # help: GitHub decodes it before it looks for mentions. A zero-width space after "@" and "#" breaks
    # both, as Renovate and Dependabot do; "#" goes first, as the inserted entities hold one.
    return text.replace("#", "#&#8203;").replace("@", "@&#8203;").replace(":", "&#58;")


def esc_html(text: str, limit: int = 200) -> str:
    """Escape untrusted text for the inside of an HTML element (``<summary>``): entities, no backslashes.

    Markdown is not processed inside an HTML block, so ``esc``'s backslashes would show there
    (``Q8\\_0``). Mentions, issue references and emoji short codes are still broken with a zero-width
    space or an entity, as ``esc`` does: GitHub looks for them in HTML text too.
    """
    text = text.replace("\r", " ").replace("\n", " ")
    text = truncate(text, limit)
    text = html.escape(text, quote=True)
    return text.replace("#", "#&#8203;").replace("@", "@&#8203;").replace(":", "&#58;")


def measurement_table(m: Measurement) -> list[str]:
    u = m.log_base.unit
    costs = any(has_costs(x) for x in m.models)  # then the plain figures too, in two more columns
    out = [f"| model | size | params | bits/param | error rate | density ({u}) |"
           + (" plain error rate | plain density |" if costs else ""),
           "|---|---:|---:|---:|---:|---:|" + ("---:|---:|" if costs else "")]
    for x in m.models:
        out.append(f"| {esc(x.name)} | {size(x.size_bytes, space=NBSP)} | {count(x.params)} | "
                   f"{num(x.bits_per_param, 3) if x.bits_per_param is not None else 'n/a'} | "
                   f"{pm(x.error_rate, x.error_stderr)} | **{pm(x.density, x.density_stderr)}** |"
                   + (f" {num(x.plain_error_rate)} | {num(x.plain_density)} |" if has_costs(x)
                      else " = | = |" if costs else ""))
    return out


def task_details(x: ModelMeasurement) -> list[str]:
    if has_costs(x):  # the cost-weighted error beside the plain one, and the costs
        out = ["| task | metric | score | error | cost-weighted error | stderr | costs | source |",
               "|---|---|---:|---:|---:|---:|---|---|"]
        for t in x.tasks:
            out.append(f"| {esc(t.task)} | {esc(t.metric)} | {score(t.score, t.scale)} | "
                       f"{num(t.error)} | {num(t.cost_error) if t.cost_error is not None else '='} | "
                       f"{num(t.stderr)} | {esc(t.costs or '—', 300)} | {esc(t.source)} |")
        return out
    out = ["| task | metric | score | error | stderr | source |", "|---|---|---:|---:|---:|---|"]
    for t in x.tasks:
        out.append(f"| {esc(t.task)} | {esc(t.metric)} | {score(t.score, t.scale)} | "
                   f"{num(t.error)} | {num(t.stderr)} | {esc(t.source)} |")
    return out


def files_details(x: ModelMeasurement) -> list[str]:
    """A folded list of the files counted in one model's size, with the source of each size.

    ``x`` is a ``ModelMeasurement``; returns Markdown lines (empty when the size was declared).
    """
    if not x.artifacts:
        return []
    n = len(x.artifacts)
    out = [f"<details><summary>{esc_html(x.name)}: {n} file{'s' if n != 1 else ''} counted, "
           f"{x.size_bytes:,} bytes</summary>", "",
           "| file | bytes | size from | note |", "|---|---:|---|---|"]
    for a in x.artifacts:
        out.append(f"| {esc(a.path, 300)} | {a.size_bytes:,} | {esc(a.source)} | {esc(a.note or '', 300)} |")
    return [*out, "", "</details>", ""]


def group_details(x: ModelMeasurement, unit: str) -> list[str]:
    """A model's groups in the measure report's folded details: a table, or nothing without groups."""
    worst = x.worst_group
    if worst is None:
        return []
    out = [f"Groups (worst: **{esc(worst.name)}**):", "",
           f"| group | tasks | error rate | density ({unit}) |", "|---|---|---:|---:|"]
    for g in x.groups:
        out.append(f"| {esc(g.name)} | {esc(tasks_text(g.tasks), 400)} | {pm(g.error_rate, g.error_stderr)} | "
                   f"{'**' if g is worst else ''}{pm(g.density, g.density_stderr)}{'**' if g is worst else ''} |")
    return out


def render_measurement(m: Measurement, limit: int | None = None) -> str:
    """The measure report (job summary of ``mode: measure``, ``measure --format markdown``).

    With ``limit`` (UTF-8 bytes; the action passes the runner's 1 MiB less a margin) table rows and
    then per-model sections are added while they fit, and a line says how many were left out: at
    10,000 models the table alone would pass the limit, and a summary over it is dropped whole.
    """
    log = m.log_base.symbol
    left = None if limit is None else limit - 1000  # the heading, the footer and the left-out lines
    table = measurement_table(m)
    rows = [table[0], table[1]]
    for r in table[2:]:
        if left is not None and len(r.encode("utf-8")) + 1 > left:
            break
        rows.append(r)
        left = None if left is None else left - len(r.encode("utf-8")) - 1
    lines = [f"### Intelligence density: {len(m.models)} model(s)", "", *rows, ""]
    if len(rows) < len(table):
        lines += [f"{len(table) - len(rows):,} more models are in the JSON report (`report-path`): left out to "
                  "stay under GitHub's 1 MiB job summary limit.", ""]
    costs = ""
    if any(has_costs(x) for x in m.models):
        costs = (" Where an eval has `costs:`, its cost-weighted error counts in the error rate, a departure from the "
                 "published metric; the plain figures are beside it.")
    lines += [f"<sub>D = −{log}(error rate) / size in GB (bytes / 10⁹).{costs} idm-gate {__version__}.</sub>", ""]
    cut = 0
    for x in m.models:
        sec = [f"<details><summary>{esc_html(x.name)}: {len(x.tasks)} task(s)</summary>", "", *task_details(x), ""]
        groups = group_details(x, m.log_base.unit)
        sec += [*groups, ""] if groups else []
        sec += [f"- {esc(n, 500)}" for n in x.notices]
        sec += ["</details>", ""]
        sec += files_details(x)
        text = "\n".join(sec)
        if cut or (left is not None and len(text.encode("utf-8")) + 1 > left):
            cut += 1
            continue
        lines += sec
        left = None if left is None else left - len(text.encode("utf-8")) - 1
    if cut:
        lines += [f"Per-task results of {cut:,} more model{'s' if cut != 1 else ''} are in the JSON report.", ""]
    return "\n".join(lines)


def render_check(r: CheckResult, paint: Painter = PLAIN) -> str:
    """``check --format markdown``: the PR comment the action posts (report/check_markdown.py), sized for
    a comment; commits are linked when run in GitHub Actions (``GITHUB_SERVER_URL``/``GITHUB_REPOSITORY``).
    ``paint`` is unused: Markdown has no terminal colour."""
    import os

    from .check_markdown import COMMENT_BUDGET, Provenance, render_markdown

    return render_markdown(r, Provenance.from_env(os.environ), limit=COMMENT_BUDGET)


def render_history(pts: Sequence[HistoryPoint]) -> str:
    """``history``'s table, one row per model and recorded commit, oldest first (model names escaped)."""
    from .history import TABLE_HEAD, table_cells

    lines = ["| " + " | ".join(TABLE_HEAD) + " |", "|---|---|---|---:|---|---:|---:|---:|"]
    lines += [f"| `{c[0]}` | {c[1]} | {esc(c[2])} | " + " | ".join(c[3:]) + " |" for c in table_cells(pts)]
    return "\n".join(lines) + "\n"


CHARTS_HISTORY: Final = False  # the leaderboard table holds no history


def render_leaderboard(rows: Sequence[Standing], log_base: LogBase, history: Sequence[HistoryPoint] = (), *,
                       axis: FrontierAxis = SIZE) -> str:
    """``leaderboard``'s table (rank, density, size, error rate, params, bits/param; a plain density, worst
    group and ``axis`` column where they apply; ★ on the frontier), the frontier note, and the models'
    ``bench:`` figures where any list them. ``history`` is unused: only the HTML page charts it."""
    from .benchfmt import setup_text, value_text
    from .leaderboard import COSTS_NOTE, any_costed, any_grouped, bpp, frontier_note, plain_cell, worst_cell

    u = log_base.unit
    extra = "" if axis.is_size else f" {axis.title} |"
    grouped, costed = any_grouped(rows), any_costed(rows)
    lines = [f"| rank | model | density ({u}) |{' plain density |' if costed else ''} size | error rate | params | "
             f"bits/param |{' worst group |' if grouped else ''}{extra} frontier |",
             "|---:|---|---:|" + ("---:|" if costed else "") + "---:|---:|---:|---:|" + ("---|" if grouped else "")
             + ("" if axis.is_size else "---:|") + ":---:|"]
    for s in rows:
        cell = "" if axis.is_size else f" {axis.text(s.position) if s.position is not None else '—'} |"
        worst = f" {esc(worst_cell(s.model))} |" if grouped else ""
        plain = f" {plain_cell(s.model)} |" if costed else ""
        lines.append(f"| {s.rank} | {esc(s.model.name)} | {num(s.model.density)} |{plain} {size(s.model.size_bytes)} | "
                     f"{num(s.model.error_rate)} | {count(s.model.params)} | {bpp(s.model.bits_per_param)} |{worst}"
                     f"{cell} {'★' if s.on_frontier else ''} |")
    lines += ["", frontier_note(rows, axis)]
    if costed:
        lines += ["", COSTS_NOTE]
    benched = [s for s in rows if s.model.bench]
    if benched:  # only where present: a manifest without bench: files gets the table above alone
        lines += ["", "Inference benchmarks of the models that list `bench:` files (beside density, never folded "
                  "into it):", "", "| model | figure | value | setup |", "|---|---|---:|---|"]
        lines += [f"| {esc(s.model.name)} | `{b.key}` | {value_text(b)} | {esc(setup_text(b))} |"
                  for s in benched for b in s.model.bench]
    return "\n".join(lines) + "\n"
