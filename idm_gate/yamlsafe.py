"""YAML loading that refuses what PyYAML's ``safe_load`` lets through.

- duplicate mapping keys (PyYAML silently keeps the last one);
- alias bombs ("billion laughs"): the document's size with every alias expanded is capped;
- recursive aliases (a node that contains itself), which no manifest needs and which would send
  every later walk over the document into endless recursion;
- any tag outside the safe set (``!!python/object`` ...), as ``safe_load`` does;
- values PyYAML's own constructors fail on with ``ValueError`` (an impossible date, ``!!int abc``,
  an integer longer than Python converts): a user error with the value's line, not a crash;
- text that is not UTF-8.
"""

from __future__ import annotations

import yaml

from .errors import InputError

MAX_EXPANDED_NODES = 100_000


class _StrictLoader(yaml.SafeLoader):
    line_offset = 0  # added to line numbers in messages
    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as e:
            why = str(e).split(";")[0][:100]
            raise yaml.constructor.ConstructorError(
                None, None, f"value cannot be read ({why}); write a plain number, or quote it to make it text",
                node.start_mark,
            ) from None

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
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


_IN_PROGRESS = -1


class _NoAliasLoader(_StrictLoader):
    """For documents that never need anchors or aliases (model-card front matter)."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name) are not accepted here; write the values out",
                event.start_mark)
        return super().compose_node(parent, index)


def _expanded_size(node, memo: dict, depth: int = 0) -> int:
    key = id(node)
    if key in memo:
        if memo[key] == _IN_PROGRESS:  # reached again from inside itself: a recursive alias
            raise _Recursive(node)
        return memo[key]
    if depth > 200:
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


class _TooDeep(Exception):
    pass


class _Recursive(Exception):
    def __init__(self, node) -> None:
        super().__init__()
        self.node = node


def load_yaml(data: bytes, shown: str, *, line_offset: int = 0, aliases: bool = True):
    """Parse one YAML document strictly. ``shown`` names the file in messages.

    ``line_offset`` is added to line numbers (a block that starts further down a file);
    ``aliases=False`` refuses anchors and aliases altogether.
    """

    def at(m) -> str:
        return f"line {m.line + 1 + line_offset}, column {m.column + 1}: " if m is not None else ""

    def _mark(e: yaml.YAMLError) -> str:
        return at(getattr(e, "problem_mark", None) or getattr(e, "context_mark", None))

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{shown}: not UTF-8 text (bad byte at offset {e.start}); save it as UTF-8 YAML") from None
    if "\x00" in text:
        raise InputError(f"{shown}: contains NUL bytes, so it is not a YAML text file")
    try:
        loader = (_StrictLoader if aliases else _NoAliasLoader)(text)  # PyYAML's reader checks every character
        loader.line_offset = line_offset
    except yaml.reader.ReaderError as e:
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
            size = _expanded_size(node, {})
        except _TooDeep:
            raise InputError(f"{shown}: nested more than 200 levels deep; write a shallower document") from None
        except _Recursive as e:
            raise InputError(f"{shown}: {at(e.node.start_mark)}an alias refers to a node that "
                             "contains it (a recursive structure); write the values out instead") from None
        if size > MAX_EXPANDED_NODES:
            raise InputError(
                f"{shown}: expands to over {MAX_EXPANDED_NODES:,} YAML nodes through aliases "
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
        prob = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"{shown}: {_mark(e)}invalid YAML ({prob})") from None
    except RecursionError:
        raise InputError(f"{shown}: nested too deeply to parse; write a shallower document") from None
    finally:
        loader.dispose()
