"""The one JSON loader: every JSON document idm-gate reads from outside the package goes through
:func:`load_json`. The one exception is the package's own bundled JSON Schemas
(``manifest.schema``), read with :func:`json.loads`: they ship inside idm-gate, are tested, and are
not input a user or a server can change.

What it always does, whatever the options:

- nesting too deep to parse, and integers too long to convert, are errors, not crashes;
- a document that ends early says so ("truncated?") with the line and column where it stops;
- every error is one :class:`JSONError` line: ``<source>: <place>: <what is wrong>; <what would be valid>``.

What each caller chooses, explicitly, because the documents differ:

=====================  ===========  ==============  =========  =============================================
caller                 allow_nan    duplicate_keys  allow_bom  why
=====================  ===========  ==============  =========  =============================================
eval results, scan     True         "error"         True       lm-eval writes NaN for a missing stderr
bench results          False        "error"         True       a hand-written or exported table
shard index            False        "error"         True       transformers writes standard JSON
reports (``--report``, False        "error"         True       idm-gate's own output, read back from an
publish, merge)                                                untrusted PR
safetensors header     True         "last"          False      as the format's reference reader (serde_json
                                                               into a map) reads it, but NaN parses and is
                                                               refused by the tensor checks that follow;
                                                               ``fast`` (orjson), the reader re-reads a
                                                               refused header without it
baseline record        False        "last"          False      idm-gate's canonical JSON; a bad record is
                                                               warned about and skipped
baselines file         True         "last"          False      each record in it is checked on its own, so
                                                               one bad record never hides the others
event payload,         True         "last"          False      written by the runner / by idm-gate; read as
export's merge target                                          Python's json reads them
Hub tree answer,       True         "last"          True       a server's answer, read as requests' and
GitHub API answer                                              httpx's ``.json()`` read it; only the fields
                                                               used are checked, and a document that cannot
                                                               be read is a ``RemoteError`` (exit 3), not
                                                               the user's input error
=====================  ===========  ==============  =========  =============================================
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from typing import Any, Literal, NoReturn

from .errors import InputError, one_line, truncate

DuplicateKeys = Literal["error", "last"]


_FAST_DEPTH = 512
_SHALLOW_BELOW = 2 * (_FAST_DEPTH + 1)  # bytes: a shorter document cannot nest past _FAST_DEPTH


def _nests_deeper(doc: Any, levels: int) -> bool:
    """Whether ``doc`` (parsed JSON) holds objects or arrays nested more than ``levels`` deep."""
    level = [doc]
    for _ in range(levels):
        inner: list[Any] = []
        for x in level:
            if type(x) is dict:
                inner.extend(v for v in x.values() if type(v) is dict or type(v) is list)
            elif type(x) is list:
                inner.extend(v for v in x if type(v) is dict or type(v) is list)
        if not inner:
            return False
        level = inner
    return True


_orjson: Callable[[bytes], Any] | None = None


def _orjson_loads(data: bytes) -> Any:
    """``orjson.loads``, imported on first use (a measure that reads no safetensors file never loads it).
    ``ValueError`` when orjson is not installed (a virtualenv made before it was a dependency): the
    caller then parses with json, slower and the same."""
    global _orjson
    if _orjson is None:
        try:
            import orjson

            _orjson = orjson.loads
        except ImportError:
            _orjson = _no_orjson
    return _orjson(data)


def _no_orjson(data: bytes) -> NoReturn:
    raise ValueError("orjson is not installed")


class JSONError(InputError):
    """A JSON document idm-gate cannot read. Exit 2.

    ``str()`` is the whole line (``<source>: <place>: <what>; <valid>``). The parts are kept so a
    caller that frames the problem in its own words (a warning about a skipped baseline record, the
    safetensors reader's "header is not valid UTF-8 JSON") can use them:

    - ``place``: ``"line L column C"``, ``"byte N"``, ``"key 'k'"``, or None for the whole document;
    - ``reason``: the short cause, without place or hint (for a syntax error, the parser's own words,
      e.g. ``"Expecting value"``);
    - ``line``: the 1-based line of a syntax error or truncation, else None.
    """

    def __init__(self, source: str, place: str | None, what: str, valid: str, *,
                 reason: str | None = None, line: int | None = None) -> None:
        self.source, self.place, self.what, self.valid = source, place, what, valid
        self.reason = reason if reason is not None else what
        self.line = line
        head = f"{source}: {place}" if place else source
        super().__init__(one_line(f"{head}: {what}; {valid}"))


def _key(k: str) -> str:
    r = repr(k)
    return one_line(truncate(r, 40, "..."))


def _no_duplicates(source: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise JSONError(source, f"key {_key(k)}", "appears twice in one JSON object",
                                "each key may appear once; remove or rename the duplicate")
            out[k] = v
        return out

    return hook


def _no_constant(source: str) -> Callable[[str], NoReturn]:
    def hook(token: str) -> NoReturn:
        raise JSONError(source, None, f"holds {token}, which is not a JSON number", "write finite numbers only")

    return hook


class collector_paused:  # noqa: N801 (used as a statement, like contextlib's suppress)
    """``with collector_paused():`` runs its body with Python's cyclic garbage collector off, and turns it
    back on after unless it was already off (a caller's pause is left alone).

    For parsers that build a large tree (a 1,000-model baseline record, manifest or report): a tree holds
    no reference cycles, yet every few hundred containers it adds start a collection that walks what is
    already built again, and the growing heap sets off full collections over everything the process has
    imported. Paused, the collector finds the new objects on its next ordinary pass, once.
    """

    def __enter__(self) -> None:
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was:
            gc.enable()


def load_json(data: bytes, source: str, *, allow_nan: bool = False, duplicate_keys: DuplicateKeys = "error",
              allow_bom: bool = True, fast: bool = False) -> Any:
    """Parse ``data`` (UTF-8 JSON) into Python values; ``source`` names it in every message.

    Options (the defaults are standard JSON, RFC 8259, with a leading BOM skipped):

    - ``allow_nan``: accept the tokens ``NaN``, ``Infinity`` and ``-Infinity`` (as float values);
      otherwise one is an error naming the token;
    - ``duplicate_keys``: ``"error"`` refuses an object that names a key twice (naming the key);
      ``"last"`` keeps the last value, as Python's ``json`` and most parsers do;
    - ``allow_bom``: skip a leading UTF-8 byte order mark; otherwise it is a syntax error at line 1;
    - ``fast`` (with ``duplicate_keys="last"`` only): parse with orjson, about three times faster
      than :mod:`json` on a safetensors header. It reads the same documents into the same values
      (a repeated key keeps its first place and its last value, as :mod:`json` does), with one
      exception: an integer outside the 64-bit range comes back as a float. A caller may use it only
      where such a float is refused anyway, and must then read the document again without ``fast``
      to word the refusal (or to accept it, when :mod:`json`'s integer passes). Whatever orjson
      refuses (NaN and Infinity, lone surrogates, 1e400, a BOM, any error), and a document nested
      more than 512 levels deep, is read again by :mod:`json`, so the answer and every message are
      :mod:`json`'s.

    Returns what :func:`json.loads` returns (dict, list, str, int, float, bool or None).
    Raises :class:`JSONError` (an ``InputError``) for bytes that are not UTF-8, invalid or truncated
    JSON, a refused constant or duplicate key, nesting too deep to parse, or an unconvertible number.
    """
    if fast and duplicate_keys == "last":
        try:
            doc = (_orjson or _orjson_loads)(data)
        except ValueError:  # orjson.JSONDecodeError: json reads it, or words the error
            pass
        else:
            # orjson nests up to 1,024 levels, json as deep as the interpreter's recursion limit lets it
            # (about 1,000 less the caller's depth): nesting past _FAST_DEPTH is left to json, so the
            # answer is json's whatever the depth. Nesting that deep needs that many opening brackets,
            # and as many closing ones (orjson read a whole document): a shorter document cannot, and
            # in a longer one a count (a pass over the bytes each) rules most out
            if (len(data) < _SHALLOW_BELOW or data.count(b"[") + data.count(b"{") <= _FAST_DEPTH
                    or not _nests_deeper(doc, _FAST_DEPTH)):
                return doc
    try:
        text = data.decode("utf-8-sig" if allow_bom else "utf-8")
    except UnicodeDecodeError as e:
        raise JSONError(source, f"byte {e.start}", "not UTF-8 text (binary file?)", "a JSON file is UTF-8 text",
                        reason="not UTF-8") from None
    parse_constant = None if allow_nan else _no_constant(source)
    pairs_hook = _no_duplicates(source) if duplicate_keys == "error" else None
    try:
        with collector_paused():
            return json.loads(text, object_pairs_hook=pairs_hook, parse_constant=parse_constant)
    except json.JSONDecodeError as e:
        end = len(text.rstrip())
        if e.pos >= end or (e.msg.startswith("Unterminated string") and '"' not in text[e.pos + 1:]):
            line = text.count("\n", 0, end) + 1
            col = end - (text.rfind("\n", 0, end) + 1) + 1
            raise JSONError(source, f"line {line} column {col}", "the file ends before the JSON does (truncated?)",
                            "re-export or re-download the complete file", line=line) from None
        raise JSONError(source, f"line {e.lineno} column {e.colno}", f"invalid JSON ({e.msg})",
                        "fix the file or re-export it", reason=e.msg, line=e.lineno) from None
    except RecursionError:
        raise JSONError(source, None, "JSON nested too deeply to read", "this is not a file idm-gate reads") from None
    except ValueError as e:  # e.g. an integer literal with more digits than Python converts
        raise JSONError(source, None, f"JSON holds a number that cannot be read ({str(e)[:80]})",
                        "write ordinary decimal numbers") from None
