"""Renderers: one module per output format, each found by its name in :data:`FORMATS`.

=========  ===================  ==============================================================
format     module               renders
=========  ===================  ==============================================================
text       report/text.py       a measurement and a gate run (check), for a terminal or CI log
json       report/json.py       the same for machines: the report document (``idm_gate.serialize``)
                                and the check document
markdown   report/markdown.py   the same for GitHub: job summary; the PR comment is check_markdown.py
csv        report/history.py    ``history`` only
html       report/leaderboard.py  ``leaderboard`` only
=========  ===================  ==============================================================

``history`` and ``leaderboard`` render their own documents in each format they offer (see those modules).

Which format a command writes (:func:`output_format`): ``-f/--format`` when given; otherwise the
extension of ``-o FILE`` (case ignored) when it is one of a format the command offers (``.json``,
``.md``/``.markdown``, ``.txt``, ``.csv``, ``.html``/``.htm``); otherwise the command's default
(``text``; ``markdown`` for ``leaderboard``). So ``check -o check.json`` writes JSON, and
``check -f text -o check.json`` writes text, as asked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from ..color import Painter
    from ..compare import CheckResult
    from ..data import Measurement


class Renderer(Protocol):
    """What a format module offers for ``measure`` and ``check``: the whole report as one string."""

    def render_measurement(self, m: Measurement) -> str:
        """``measure``'s report of every model."""
        ...

    def render_check(self, r: CheckResult, paint: Painter) -> str:
        """``check``'s report of a gate run; ``paint`` colours verdicts where the format has colour (text)."""
        ...


class OutputFormat(NamedTuple):
    """One row of :data:`FORMATS`."""

    suffixes: tuple[str, ...]
    """File name endings (lower case, with the dot) that ``-o FILE`` infers this format from."""
    renderer: Callable[[], Renderer] | None
    """Imports and returns the format's module (on first use, so ``--help`` loads none of them); None for
    the formats only one command's own module renders (csv: history, html: leaderboard)."""


def _text() -> Renderer:
    from . import text

    return text


def _json() -> Renderer:
    from . import json

    return json


def _markdown() -> Renderer:
    from . import markdown

    return markdown


FORMATS: dict[str, OutputFormat] = {
    "text": OutputFormat((".txt",), _text),
    "json": OutputFormat((".json",), _json),
    "markdown": OutputFormat((".md", ".markdown"), _markdown),
    "csv": OutputFormat((".csv",), None),
    "html": OutputFormat((".html", ".htm"), None),
}

# The formats of measure's and check's reports (the CLI's --format choices for them).
REPORT_FORMATS: tuple[str, ...] = tuple(name for name, f in FORMATS.items() if f.renderer is not None)


def renderer(name: str) -> Renderer:
    """The module rendering ``measure`` and ``check`` reports as ``name`` (one of :data:`REPORT_FORMATS`).

    Raises ``KeyError`` for a name not in :data:`REPORT_FORMATS` (argparse's choices keep users from it).
    """
    load = FORMATS[name].renderer
    if load is None:
        raise KeyError(name)
    return load()


def output_format(explicit: str | None, output: str | None, offered: Sequence[str], default: str) -> str:
    """The format to write: ``explicit`` (``--format``) if given, else the one of ``offered`` whose
    suffix ``output`` (``-o``; None or ``-`` for standard output) ends in, else ``default``."""
    if explicit is not None:
        return explicit
    if output and output != "-":
        low = output.lower()
        for name in offered:
            if low.endswith(FORMATS[name].suffixes):
                return name
    return default
