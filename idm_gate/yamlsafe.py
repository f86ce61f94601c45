"""YAML loading that refuses what PyYAML's ``safe_load`` lets through.

- duplicate mapping keys (PyYAML silently keeps the last one);
- alias bombs ("billion laughs"): the nodes that aliases add when expanded are counted and capped
  (``MAX_ALIAS_NODES``); the document's own nodes are not, so a 10,000-model manifest is fine;
- recursive aliases (a node that contains itself), which no manifest needs and which would send
  every later walk over the document into endless recursion;
- any tag outside the safe set (``!!python/object`` ...), as ``safe_load`` does;
- values PyYAML's own constructors fail on with ``ValueError`` (an impossible date, ``!!int abc``,
  an integer longer than Python converts): a user error with the value's line, not a crash;
- text that is not UTF-8.

Parsing uses PyYAML's libyaml binding (``CSafeLoader``) where it is installed, about five times
faster than the pure-Python loader; every check above runs on the node graph or in the constructor,
so it applies to both. A document libyaml refuses is parsed again with the pure-Python loader for
its message, so errors read the same with or without libyaml.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import yaml

from .errors import InputError
from .jsonsafe import collector_paused

MAX_ALIAS_NODES = 100_000  # nodes added by expanding aliases (the document's own nodes are free)
MAX_DEPTH = 200


if TYPE_CHECKING:  # a mixin over PyYAML's constructor: type it as one
    _ConstructorBase = yaml.constructor.SafeConstructor
else:
    _ConstructorBase = object


_STR_TAG = "tag:yaml.org,2002:str"


class _Strict(_ConstructorBase):
    """The constructor checks shared by the pure-Python and the libyaml loaders."""

    line_offset = 0  # added to line numbers in messages

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as e:
            why = str(e).split(";")[0][:100]
            raise yaml.constructor.ConstructorError(
                None, None, f"value cannot be read ({why}); write a plain number, or quote it to make it text",
                node.start_mark,
            ) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[Hashable, int] = {}
        for key_node, _ in node.value:
            if type(key_node) is yaml.ScalarNode and key_node.tag == _STR_TAG:
                key: Any = key_node.value  # what the str constructor returns for it, without its call chain
            else:
                key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                ) from None
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None,
                    f"duplicate key {key!r} (first at line {seen[key] + 1 + self.line_offset}); "
                    "each key may appear once",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


class _StrictLoader(_Strict, yaml.SafeLoader):
    pass


_CSafeLoader = getattr(yaml, "CSafeLoader", None)  # None when PyYAML was built without libyaml
_FastStrictLoader = type("_FastStrictLoader", (_Strict, _CSafeLoader), {}) if _CSafeLoader else None

_IN_PROGRESS = -1


class _NoAliasLoader(_StrictLoader):
    """For documents that never need anchors or aliases (model-card front matter)."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name) are not accepted here; write the values out",
                event.start_mark)
        return super().compose_node(parent, index)


def _expanded_size(node: yaml.Node, memo: dict[int, int], depth: int = 0) -> int:
    """Nodes below and including ``node`` with every alias expanded; ``memo`` (id -> size) ends up
    holding each distinct node once."""
    key = id(node)
    if key in memo:
        if memo[key] == _IN_PROGRESS:  # reached again from inside itself: a recursive alias
            raise _Recursive(node)
        return memo[key]
    if depth > MAX_DEPTH:
        raise _TooDeep()
    memo[key] = _IN_PROGRESS
    if isinstance(node, yaml.SequenceNode):
        n = 1 + sum(_expanded_size(c, memo, depth + 1) for c in node.value)
    elif isinstance(node, yaml.MappingNode):
        n = 1 + sum(_expanded_size(k, memo, depth + 1) + _expanded_size(v, memo, depth + 1)
                    for k, v in node.value)
    else:
        n = 1
    memo[key] = n
    return n


def alias_expansion(node: yaml.Node, *, tree: bool = False) -> int:
    """How many nodes expanding every alias of the document ``node`` would add to it.

    0 for a document without aliases, whatever its size. ``_TooDeep`` beyond ``MAX_DEPTH`` levels,
    ``_Recursive`` for an alias inside the node it names. ``tree``: the caller knows the document has no
    alias (its text has no ``&``, so no anchor an alias could name): only the depth is checked, in one
    pass over its collections.
    """
    if tree:
        _check_depth(node)
        return 0
    memo: dict[int, int] = {}
    return _expanded_size(node, memo) - len(memo)


def _check_depth(root: yaml.Node) -> None:
    """``_TooDeep`` when a node of the tree ``root`` (depth 0) lies more than ``MAX_DEPTH`` levels down:
    exactly when :func:`_expanded_size` raises it for a document without aliases."""
    collections = (yaml.SequenceNode, yaml.MappingNode)
    stack: list[tuple[yaml.Node, int]] = [(root, 0)] if isinstance(root, collections) else []
    while stack:
        node, depth = stack.pop()
        if not node.value:
            continue
        if depth >= MAX_DEPTH:  # its children lie deeper than MAX_DEPTH
            raise _TooDeep()
        below = depth + 1
        if isinstance(node, yaml.SequenceNode):
            stack.extend((c, below) for c in node.value if isinstance(c, collections))
        else:
            stack.extend((c, below) for pair in node.value for c in pair if isinstance(c, collections))


class _TooDeep(Exception):
    pass


class _Recursive(Exception):
    def __init__(self, node: yaml.Node) -> None:
        super().__init__()
        self.node = node


# What libyaml refuses while reading, scanning, parsing or composing; constructor errors come from
# the same Python code on both paths.
_PARSE_ERRORS = (yaml.reader.ReaderError, yaml.scanner.ScannerError, yaml.parser.ParserError,
                 yaml.composer.ComposerError)


_BARE_TAG = re.compile(r"!(?=[\s,\]}]|$)")


def _decode(data: bytes) -> str:
    """``data.decode("utf-8-sig")``: one leading byte-order mark dropped, the rest UTF-8, error offsets
    counted after the mark, as that codec counts them; without looking the codec up (an import, on the
    start-up of every run that reads a manifest)."""
    return (data[3:] if data.startswith(b"\xef\xbb\xbf") else data).decode("utf-8")


def load_yaml(data: bytes, shown: str, *, line_offset: int = 0, aliases: bool = True) -> Any:
    """Parse one YAML document strictly. ``shown`` names the file in messages.

    ``line_offset`` is added to line numbers (a block that starts further down a file);
    ``aliases=False`` refuses anchors and aliases altogether. Returns plain Python values (dict,
    list, str, int, float, bool, None, date); any problem is one ``InputError`` line.
    """
    try:
        text = _decode(data)
    except UnicodeDecodeError as e:
        raise InputError(f"{shown}: not UTF-8 text (bad byte at offset {e.start}); save it as UTF-8 YAML") from None
    if "\x00" in text:
        raise InputError(f"{shown}: contains NUL bytes, so it is not a YAML text file")
    # Without a '&' there is no anchor, so an alias can only be an undefined one: libyaml refuses it
    # and the pure loader below gives the "no aliases here" message. A bare '!' (the non-specific
    # tag) on an empty value reads as None in the pure loader and '' in libyaml: such rare texts
    # take the pure loader, so a value never depends on which loader is installed.
    # The cyclic collector stays paused until the node graph is gone (freed as _load returns): the graph
    # and the values built from it hold no cycles, and it would otherwise walk every node as it grows.
    with collector_paused():
        if (_FastStrictLoader is not None and (aliases or "&" not in text)
                and not _BARE_TAG.search(text)):
            try:
                return _load(_FastStrictLoader, text, shown, line_offset)
            except _PARSE_ERRORS:
                pass  # libyaml refused it: the pure-Python loader decides, and words the message
        return _load(_StrictLoader if aliases else _NoAliasLoader, text, shown, line_offset)


def _load(cls: type[_StrictLoader], text: str, shown: str, line_offset: int) -> Any:
    """Parse with loader class ``cls``; parse errors of the libyaml loader propagate (the caller
    falls back), everything else becomes an ``InputError``."""
    fast = cls is _FastStrictLoader

    def at(m: yaml.Mark | None) -> str:
        return f"line {m.line + 1 + line_offset}, column {m.column + 1}: " if m is not None else ""

    def _mark(e: yaml.YAMLError) -> str:
        return at(getattr(e, "problem_mark", None) or getattr(e, "context_mark", None))

    try:
        loader = cls(text)  # PyYAML's pure reader checks every character here (libyaml: while parsing)
        loader.line_offset = line_offset
    except yaml.reader.ReaderError as e:
        if fast:
            raise
        line = text.count("\n", 0, e.position) + 1 + line_offset
        col = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        code = e.character if isinstance(e.character, int) else ord(e.character)
        raise InputError(f"{shown}: line {line}, column {col}: invalid YAML (control character #x{code:04x} "
                         "is not allowed); remove it") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            extra = alias_expansion(node, tree="&" not in text)
        except _TooDeep:
            raise InputError(f"{shown}: nested more than {MAX_DEPTH} levels deep; write a shallower "
                             "document") from None
        except _Recursive as e:
            raise InputError(f"{shown}: {at(e.node.start_mark)}an alias refers to a node that "
                             "contains it (a recursive structure); write the values out instead") from None
        if extra > MAX_ALIAS_NODES:
            raise InputError(
                f"{shown}: expands to over {MAX_ALIAS_NODES:,} more YAML nodes through its aliases "
                "(an alias bomb?); write the values out instead of nesting aliases"
            )
        return loader.construct_document(node)
    except yaml.constructor.ConstructorError as e:
        prob = e.problem or "cannot be constructed"
        if "could not determine a constructor" in prob:
            tag = prob.split("tag ")[-1].split()[0].strip("'") if "tag " in prob else ""
            tag = tag.replace("tag:yaml.org,2002:", "!!")
            prob = f"tag {tag!r} is not allowed; only plain YAML values are"
        raise InputError(f"{shown}: {_mark(e)}{prob}") from None
    except yaml.YAMLError as e:
        if fast and isinstance(e, _PARSE_ERRORS):
            raise
        prob = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"{shown}: {_mark(e)}invalid YAML ({prob})") from None
    except RecursionError:
        raise InputError(f"{shown}: nested too deeply to parse; write a shallower document") from None
    finally:
        loader.dispose()


class Locator:
    """Lines of a YAML document's values, for messages about a document ``load_yaml`` already read.

    ``line(path)`` is the 1-based line where the value at ``path`` (mapping keys and list indices, as
    a JSON Schema error's ``absolute_path``) is written; for a mapping member, the line of its key.
    Where the path leaves the document (a missing field), the deepest node reached counts. ``None``
    when the text cannot be composed at all.
    """

    def __init__(self, data: bytes) -> None:
        try:
            self.root = yaml.compose(_decode(data), Loader=_CSafeLoader or yaml.SafeLoader)
        except (yaml.YAMLError, UnicodeDecodeError, RecursionError):
            self.root = None

    def line(self, path: Sequence[str | int]) -> int | None:
        node = self.root
        if node is None:
            return None
        mark = node.start_mark
        for part in path:
            if isinstance(node, yaml.MappingNode):
                hit = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)),
                           None)
                if hit is None:
                    break
                mark, node = hit[0].start_mark, hit[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
                mark = node.start_mark
            else:
                break
        return mark.line + 1
