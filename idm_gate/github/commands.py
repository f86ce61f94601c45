"""Workflow commands and the runner's command files, as actions/toolkit writes them.

Pure string functions plus writers that touch only the file paths they are given: the formatting
can be tested without a runner, and nothing here prints.
"""

from __future__ import annotations

import os
import re
import uuid

from idm_gate.errors import IdmError

ANNOTATION_KINDS = ("error", "warning", "notice")
SUMMARY_LIMIT = 1024 * 1024  # the runner refuses a step summary over 1 MiB
_OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def escape_data(value: object) -> str:
    """Escape a command's message: ``%``, ``\\r``, ``\\n`` (actions/toolkit ``escapeData``)."""
    return str(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: object) -> str:
    """Escape a property value: as data, plus ``:`` and ``,`` (actions/toolkit ``escapeProperty``)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: object = "", **properties: object) -> str:
    """One workflow command line, ``::name k=v,k=v::message``, without the newline."""
    props = ",".join(f"{k}={escape_property(v)}" for k, v in properties.items() if v is not None)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def annotation(kind: str, message: str, file: str | None = None, line: int | None = None,
               title: str | None = None) -> str:
    """An ``error`` / ``warning`` / ``notice`` annotation line, pinned to ``file``:``line`` if given."""
    if kind not in ANNOTATION_KINDS:
        raise ValueError(f"annotation kind {kind!r}: use one of {', '.join(ANNOTATION_KINDS)}")
    return command(kind, message, file=file, line=line, title=title)


def add_mask(value: str) -> str:
    """The line that makes the runner mask ``value`` in the rest of the log."""
    return command("add-mask", value)


def neutralize(text: object) -> str:
    """Make untrusted text (a model name from a PR, a results file's task name) safe to print.

    The runner treats a line as a command when, after leading whitespace, it starts with ``::``
    (or the legacy ``##[``). We keep the text readable and prefix every such line with ``| ``, so no
    line of the result can start a command, whatever the text contains. (Chosen over
    ``::stop-commands::`` because it is stateless: a neutralized string can be embedded anywhere,
    and a crash between start and stop cannot leave commands disabled.) ``\\r`` counts as a line
    break, as it does for the runner.
    """
    lines = re.split(r"(\r\n|\r|\n)", str(text))
    out = []
    for i, part in enumerate(lines):
        if i % 2 == 0 and part.lstrip().startswith(("::", "##[")):
            part = "| " + part
        out.append(part)
    return "".join(out)


class OutputsError(IdmError):
    """A step output could not be written (bad name, or the value collides with the delimiter)."""


class OutputsWriter:
    """Set step outputs through the ``GITHUB_OUTPUT`` file, with the heredoc form the runner reads.

    Each value is written as ``name<<ghadelimiter_<uuid4>`` / value / delimiter, so values may hold
    newlines. Without a path (a local run) the values are only kept in ``values``.
    """

    def __init__(self, path: str | os.PathLike[str] | None):
        self.path = path
        self.values: dict[str, str] = {}

    @staticmethod
    def format(name: str, value: object, delimiter: str | None = None) -> str:
        if not _OUTPUT_NAME.match(name or ""):
            raise OutputsError(f"output {name!r}: an output name starts with a letter or '_' and "
                               "holds only letters, digits, '-' and '_'")
        if isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = "" if value is None else str(value)
        delimiter = delimiter or f"ghadelimiter_{uuid.uuid4()}"
        if delimiter in text or delimiter in name:
            raise OutputsError(f"output {name}: the value contains the delimiter {delimiter!r}; "
                               "refusing to write an output the runner would cut short")
        return f"{name}<<{delimiter}\n{text}\n{delimiter}\n"

    def set(self, name: str, value: object) -> None:
        entry = self.format(name, value)
        if self.path is not None:
            with open(self.path, "a", encoding="utf-8", newline="\n") as fh:
                fh.write(entry)
        self.values[name] = entry.split("\n", 1)[1].rsplit("\n", 2)[0]


def append_summary(path: str | os.PathLike[str] | None, markdown: str) -> bool:
    """Append ``markdown`` to the job summary file (``GITHUB_STEP_SUMMARY``).

    Returns False without writing when there is no path. A summary that would pass the runner's
    1 MiB limit is cut, with a line saying so, rather than making the runner drop all of it.
    """
    if not path:
        return False
    try:
        used = os.path.getsize(path)
    except OSError:
        used = 0
    text = markdown if markdown.endswith("\n") else markdown + "\n"
    room = SUMMARY_LIMIT - used
    if len(text.encode("utf-8")) > room:
        note = "\n\n_idm-gate: the rest of this summary was cut to stay under GitHub's 1 MiB limit._\n"
        keep = max(room - len(note.encode("utf-8")), 0)
        text = text.encode("utf-8")[:keep].decode("utf-8", "ignore") + note
        if len(text.encode("utf-8")) > room:
            return False
    with open(path, "a", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    return True
