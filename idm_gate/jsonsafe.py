"""Strict JSON for files a user (or an untrusted PR) hands us.

- duplicate keys in one object are an error (Python's json silently keeps the last);
- nesting too deep to parse, and integers too long to convert, are errors, not crashes;
- a file that ends early says so ("truncated?") with the line and column where it stops;
- ``NaN`` / ``Infinity`` / ``-Infinity`` are accepted only with ``allow_nan`` (lm-eval writes them;
  idm-gate's own reports never hold them, so reading one back refuses them).

Every error is one ``InputError`` line: ``<file>: <place>: <what is wrong>; <what would be valid>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NoReturn

from .errors import InputError, one_line


def _fail(file: str, place: str | None, what: str, valid: str) -> InputError:
    return InputError(one_line(f"{file}: {place}: {what}; {valid}" if place else f"{file}: {what}; {valid}"))


def _key(k: str) -> str:
    r = repr(k)
    return one_line(r if len(r) <= 40 else r[:37] + "...")


def _no_duplicates(file: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise _fail(file, f"key {_key(k)}", "appears twice in one JSON object",
                            "each key may appear once; remove or rename the duplicate")
            out[k] = v
        return out

    return hook


def _no_constant(file: str) -> Callable[[str], NoReturn]:
    def hook(token: str) -> NoReturn:
        raise _fail(file, None, f"holds {token}, which is not a JSON number", "write finite numbers only")

    return hook


def load_json(data: bytes, file: str, *, allow_nan: bool) -> Any:
    """Parse ``data`` (UTF-8) strictly; ``file`` names it in messages."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _fail(file, f"byte {e.start}", "not UTF-8 text (binary file?)", "a JSON file is UTF-8 text") from None
    parse_constant = None if allow_nan else _no_constant(file)
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates(file), parse_constant=parse_constant)
    except json.JSONDecodeError as e:
        end = len(text.rstrip())
        if e.pos >= end or (e.msg.startswith("Unterminated string") and '"' not in text[e.pos + 1:]):
            line = text.count("\n", 0, end) + 1
            col = end - (text.rfind("\n", 0, end) + 1) + 1
            raise _fail(file, f"line {line} column {col}", "the file ends before the JSON does (truncated?)",
                        "re-export or re-download the complete file") from None
        raise _fail(file, f"line {e.lineno} column {e.colno}", f"invalid JSON ({e.msg})",
                    "fix the file or re-export it") from None
    except RecursionError:
        raise _fail(file, None, "JSON nested too deeply to read", "this is not a file idm-gate reads") from None
    except ValueError as e:  # e.g. an integer literal with more digits than Python converts
        raise _fail(file, None, f"JSON holds a number that cannot be read ({str(e)[:80]})",
                    "write ordinary decimal numbers") from None
