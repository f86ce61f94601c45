"""Colour for terminal output: ANSI SGR codes, only where the user wants them.

``--color auto`` (the default) colours a stream when it is a terminal, unless ``NO_COLOR`` is set to
a non-empty value (https://no-color.org); ``FORCE_COLOR`` (non-empty) turns it on for a stream that is
not a terminal, such as a CI log; ``TERM=dumb`` turns it off. ``--color always`` and ``--color never``
override every one of these, as the no-color convention asks of a command-line flag. Reports written
to a file (``-o``) and the JSON and Markdown formats are never coloured.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

MODES = ("auto", "always", "never")

# by word: a verdict's value (Verdict is not imported, so that ``idm-gate --version`` loads no stage) and the
# message kinds of Messages.error
_SGR = {"pass": "32", "warn": "33", "fail": "1;31", "error": "1;31", "internal error": "1;31", "over budget": "1;31",
        "warning": "33", "note": "36"}


def wanted(mode: str, stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Whether to colour ``stream`` under ``--color mode`` and the environment's conventions."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    if environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


class Painter:
    """``paint(kind, text)``: ``text`` wrapped in the colour of ``kind`` (a verdict, "error", ...) or unchanged."""

    def __init__(self, on: bool) -> None:
        self.on = on

    def __call__(self, kind: str, text: str) -> str:
        code = _SGR.get(kind)
        return f"\x1b[{code}m{text}\x1b[0m" if self.on and code else text


PLAIN = Painter(False)
