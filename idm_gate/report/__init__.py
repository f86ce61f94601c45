"""Renderers: one module per output format, each found by its name in :data:`FORMATS`.

=========  ===================  ==============================================================
format     module               renders
=========  ===================  ==============================================================
text       report/text.py       measure, check and history, for a terminal or CI log
json       report/json.py       the same for machines (measure: the report document of
                                ``idm_gate.serialize``; check: the check document), and the leaderboard
csv        report/csv.py        history, one row per model and recorded commit
markdown   report/markdown.py   measure (job summary), check (the PR comment, laid out by
                                check_markdown.py), history and the leaderboard, for GitHub
html       report/html.py       the leaderboard as one self-contained page with inline SVG charts
=========  ===================  ==============================================================

Each row of :data:`FORMATS` declares which report kinds its module renders, one loader per kind:
``report`` (a module satisfying :class:`Renderer`: ``measure`` and ``check``), ``history``
(:class:`HistoryRenderer`) and ``leaderboard`` (:class:`LeaderboardRenderer`); mypy checks each module
against the protocols it is declared for. What a kind's formats share and is no format's business lives
beside them: ``idm_gate.history`` and ``report/history.py`` (the rows of ``history``),
``report/leaderboard.py`` (ranking and the frontier), ``report/axis.py`` (the frontier's axis); the
SVG drawings (the page's charts, and ``badge``, whose only format is SVG) are in ``report/svg.py``.

Which format a command writes (:func:`output_format`): ``-f/--format`` when given; otherwise the
extension of ``-o FILE`` (case ignored) when it is one of a format the command offers (``.json``,
``.md``/``.markdown``, ``.txt``, ``.csv``, ``.html``/``.htm``); otherwise the command's default
(``text``; ``markdown`` for ``leaderboard``). So ``check -o check.json`` writes JSON, and
``check -f text -o check.json`` writes text, as asked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeVar

if TYPE_CHECKING:
    from ..color import Painter
    from ..data import LogBase, Measurement
    from ..history import HistoryPoint
    from ..verdicts import CheckResult
    from .axis import FrontierAxis
    from .leaderboard import Standing


class Renderer(Protocol):
    """What a format module offers for ``measure`` and ``check``: the whole report as one string."""

    def render_measurement(self, m: Measurement) -> str:
        """``measure``'s report of every model."""
        ...

    def render_check(self, r: CheckResult, paint: Painter) -> str:
        """``check``'s report of a gate run; ``paint`` colours verdicts where the format has colour (text)."""
        ...


class HistoryRenderer(Protocol):
    """What a format module offers for ``idm-gate history``."""

    def render_history(self, pts: Sequence[HistoryPoint]) -> str:
        """The recorded densities ``pts`` (``idm_gate.history.points``: oldest commit first) as one
        string; an empty history gives the format's header (or empty document) only."""
        ...


class LeaderboardRenderer(Protocol):
    """What a format module offers for ``idm-gate leaderboard``."""

    @property
    def CHARTS_HISTORY(self) -> bool:  # upper case: a module's constant satisfies it
        """Whether the format draws the branch's recorded densities: only then does the CLI read the
        baseline store for ``history``."""
        ...

    def render_leaderboard(self, rows: Sequence[Standing], log_base: LogBase, history: Sequence[HistoryPoint] = (),
                           *, axis: FrontierAxis = ...) -> str:
        """``rows`` (``leaderboard.standings``: ranked, highest density first) in ``log_base``'s unit, the
        frontier taken against ``axis`` (default: size). ``history`` (the branch's recorded densities,
        ``history.points``) is drawn by the formats whose ``CHARTS_HISTORY`` is true and ignored by the others."""
        ...


class _ReportAndHistory(Renderer, HistoryRenderer, Protocol):
    """A format rendering measure, check and history (text)."""


class _Every(Renderer, HistoryRenderer, LeaderboardRenderer, Protocol):
    """A format rendering every report kind (json, markdown)."""


class OutputFormat(NamedTuple):
    """One row of :data:`FORMATS`: a format's file endings and, per report kind it renders, the loader of
    its module (imported on first use, so ``--help`` loads none of them; None: the kind has no such format)."""

    suffixes: tuple[str, ...]
    """File name endings (lower case, with the dot) that ``-o FILE`` infers this format from."""
    report: Callable[[], Renderer] | None = None
    history: Callable[[], HistoryRenderer] | None = None
    leaderboard: Callable[[], LeaderboardRenderer] | None = None


def _text() -> _ReportAndHistory:
    from . import text

    return text


def _json() -> _Every:
    from . import json

    return json


def _csv() -> HistoryRenderer:
    from . import csv

    return csv


def _markdown() -> _Every:
    from . import markdown

    return markdown


def _html() -> LeaderboardRenderer:
    from . import html

    return html


# The order is the order of the CLI's --format choices, after each command's default.
FORMATS: dict[str, OutputFormat] = {
    "text": OutputFormat((".txt",), report=_text, history=_text),
    "json": OutputFormat((".json",), report=_json, history=_json, leaderboard=_json),
    "csv": OutputFormat((".csv",), history=_csv),
    "markdown": OutputFormat((".md", ".markdown"), report=_markdown, history=_markdown, leaderboard=_markdown),
    "html": OutputFormat((".html", ".htm"), leaderboard=_html),
}


def _offered(renders: Callable[[OutputFormat], object], default: str) -> tuple[str, ...]:
    """The formats a kind offers (those whose row has its loader), ``default`` first, then in table order."""
    names = [name for name, f in FORMATS.items() if renders(f) is not None]
    return (default, *(n for n in names if n != default))


# The --format choices of each command; the first is its default.
REPORT_FORMATS: tuple[str, ...] = _offered(lambda f: f.report, "text")  # measure and check
HISTORY_FORMATS: tuple[str, ...] = _offered(lambda f: f.history, "text")
LEADERBOARD_FORMATS: tuple[str, ...] = _offered(lambda f: f.leaderboard, "markdown")


_T = TypeVar("_T")


def _load(load: Callable[[], _T] | None, name: str) -> _T:
    if load is None:
        raise KeyError(name)
    return load()


def renderer(name: str) -> Renderer:
    """The module rendering ``measure`` and ``check`` reports as ``name`` (one of :data:`REPORT_FORMATS`).

    Raises ``KeyError`` for a name not in :data:`REPORT_FORMATS` (argparse's choices keep users from it).
    """
    return _load(FORMATS[name].report, name)


def history_renderer(name: str) -> HistoryRenderer:
    """The module rendering ``history`` as ``name`` (one of :data:`HISTORY_FORMATS`); ``KeyError`` otherwise."""
    return _load(FORMATS[name].history, name)


def leaderboard_renderer(name: str) -> LeaderboardRenderer:
    """The module rendering ``leaderboard`` as ``name`` (one of :data:`LEADERBOARD_FORMATS`); ``KeyError``
    otherwise."""
    return _load(FORMATS[name].leaderboard, name)


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
