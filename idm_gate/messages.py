"""The one printer of warnings, errors and notes on standard error: ``idm-gate: <kind>: <message>``."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from .color import Painter, wanted
from .errors import one_line


class Messages:
    """Warnings and errors on standard error, one line each: each distinct warning once per run, the
    kind coloured when wanted (``--color``, ``NO_COLOR``, ``FORCE_COLOR``: :func:`idm_gate.color.wanted`).

    The CLI makes one per run; a store opened without a ``warn`` callback and the terminal log of
    ``idm-gate publish`` print through one too, so every warning looks the same.
    """

    def __init__(self, color: str = "auto", stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.paint = Painter(wanted(color, self.stream, os.environ))
        self.seen: set[str] = set()

    def warn(self, msg: str) -> None:
        line = one_line(msg)
        if line in self.seen:
            return
        self.seen.add(line)
        print(f"idm-gate: {self.paint('warning', 'warning:')} {line}", file=self.stream)

    def error(self, msg: str, kind: str = "error") -> None:
        print(f"idm-gate: {self.paint(kind, kind + ':')} {one_line(msg)}", file=self.stream)
