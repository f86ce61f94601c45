"""Markdown for PR comments and job summaries.

Everything that comes from the PR (model names, task names, metric keys, file paths) goes through
``esc``: it cannot open HTML, links, tables, code spans or mention anyone.
"""

from __future__ import annotations

import html
import re

from .. import __version__, metric
from ..measure import Measurement
from .fmt import count, gb, num, pm

# Characters that can start emphasis, code, links, images, tables or strike-through anywhere in a
# line. ("#", "-", "+" and digits matter only at the start of a line, where we never put a name.)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~!])")


def esc(text: str, limit: int = 200) -> str:
    """Escape untrusted text for a Markdown table cell or line."""
    text = text.replace("\r", " ").replace("\n", " ")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
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
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = html.escape(text, quote=True)
    return text.replace("#", "#&#8203;").replace("@", "@&#8203;").replace(":", "&#58;")


def measurement_table(m: Measurement) -> list[str]:
    u = metric.unit(m.log_base)
    out = [f"| model | size GB | params | bits/param | error rate | density ({u}) |",
           "|---|---:|---:|---:|---:|---:|"]
    for x in m.models:
        out.append(f"| {esc(x.name)} | {gb(x.size_bytes)} | {count(x.params)} | "
                   f"{num(x.bits_per_param, 3) if x.bits_per_param is not None else 'n/a'} | "
                   f"{pm(x.error_rate, x.error_stderr)} | **{pm(x.density, x.density_stderr)}** |")
    return out


def task_details(x) -> list[str]:
    out = ["| task | metric | score | error | stderr | source |", "|---|---|---:|---:|---:|---|"]
    for t in x.tasks:
        out.append(f"| {esc(t.task)} | {esc(t.metric)} | {num(t.score)}{' %' if t.scale == 'percent' else ''} | "
                   f"{num(t.error)} | {num(t.stderr)} | {esc(t.source)} |")
    return out


def files_details(x) -> list[str]:
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


def render_measurement(m: Measurement) -> str:
    log = "ln" if m.log_base == "e" else "log2"
    lines = [f"### Intelligence density: {len(m.models)} model(s)", "",
             *measurement_table(m), "",
             f"<sub>D = −{log}(error rate) / size in GB (bytes / 10⁹). idm-gate {__version__}.</sub>", ""]
    for x in m.models:
        lines += [f"<details><summary>{esc_html(x.name)}: {len(x.tasks)} task(s)</summary>", "", *task_details(x), ""]
        lines += [f"- {esc(n, 500)}" for n in x.notices]
        lines += ["</details>", ""]
        lines += files_details(x)
    return "\n".join(lines)
