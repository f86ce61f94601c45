"""The errors idm-gate raises on purpose.

Each one's ``str()`` is the single line a user reads: the file, the place in it, what is wrong and
what would be valid. ``cli.main`` maps them to exit codes; anything else is a crash (exit 3).
"""

from __future__ import annotations


class IdmError(Exception):
    """Base of every error idm-gate raises deliberately."""

    exit_code = 3


class InputError(IdmError):
    """Bad input from the user: a manifest, a results file, a weight file, a flag. Exit 2."""

    exit_code = 2


class InputErrors(InputError):
    """Several problems found in one input (a manifest), reported together: each a complete line.

    ``str()`` is the first problem with a count of the others, for callers that print one line;
    ``cli.main`` prints every one of ``problems``.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = [one_line(p) for p in problems]
        more = len(self.problems) - 1
        super().__init__(self.problems[0] + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""))


class StoreError(IdmError):
    """The baseline store could not be read or written (nothing was lost; retry). Exit 3."""

    exit_code = 3


class GitError(IdmError):
    """git failed, or is not on PATH: the message names the git command, the folder and git's own first
    line of complaint. Exit 3 (a ref the user named that git cannot resolve is an ``InputError``)."""

    exit_code = 3


class RemoteError(IdmError):
    """A remote service (Hugging Face Hub, an HTTP server, GitHub) failed in a way that is not the user's
    input: a 5xx answer, a timeout, a refused connection, an answer that is not what the API documents.
    Exit 3; retrying may help."""

    exit_code = 3


# Every line break ``str.splitlines`` knows, escaped: a message quoting a name from a user's file
# (a task, a model, a mapping key) must still be one line.
# (repr's escape of each is the unicode_escape codec's, without importing that codec at start-up)
_BREAKS = str.maketrans({c: repr(c)[1:-1] for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})


def one_line(text: str) -> str:
    """``text`` with its line breaks escaped (``\\n``, ``\\u2028``, ...)."""
    return text.translate(_BREAKS)


def truncate(text: str, limit: int, ellipsis: str = "\u2026") -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``ellipsis`` when it was cut."""
    return text if len(text) <= limit else text[: limit - len(ellipsis)] + ellipsis


def where(file: str, field: str | None = None) -> str:
    """Format the ``file: field`` prefix every message starts with."""
    return f"{file}: {field}" if field else file
