"""The strict YAML loader: libyaml speed, the pure-Python loader's strictness, an alias cap that
counts what aliases add (not the document's own nodes)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idm_gate import yamlsafe
from idm_gate.errors import InputError
from idm_gate.manifest import parse_manifest
from idm_gate.yamlsafe import MAX_ALIAS_NODES, load_yaml
from strategies import mutated

needs_libyaml = pytest.mark.skipif(yamlsafe._FastStrictLoader is None, reason="PyYAML built without libyaml")


def pure(data: bytes, **kw):
    """``load_yaml`` with the libyaml loader switched off: the reference behaviour."""
    saved = yamlsafe._FastStrictLoader
    yamlsafe._FastStrictLoader = None
    try:
        return load_yaml(data, "f.yaml", **kw)
    finally:
        yamlsafe._FastStrictLoader = saved


def outcome(fn, data: bytes, **kw):
    try:
        return ("ok", repr(fn(data, **kw)))
    except InputError as e:
        return ("refused", str(e))


def fast(data: bytes, **kw):
    return load_yaml(data, "f.yaml", **kw)


def bomb_free(copies: int, width: int = 999) -> bytes:
    """One anchored list of ``width`` scalars, aliased ``copies`` times.

    Nodes the aliases add: each alias stands for the list node plus its ``width`` scalars, so
    ``copies * (width + 1)``; with width 999 that is ``copies * 1,000``.
    """
    return (f"a: &a [{', '.join(['1'] * width)}]\n" f"b: [{', '.join(['*a'] * copies)}]\n").encode()


def test_alias_cap_counts_the_nodes_aliases_add():
    doc = fast(bomb_free(100))  # 100 * 1,000 = 100,000 added nodes: at the cap, accepted
    assert len(doc["b"]) == 100 and all(x is doc["a"] for x in doc["b"]) and len(doc["a"]) == 999
    assert MAX_ALIAS_NODES == 100_000
    with pytest.raises(InputError, match=r"^f\.yaml: expands to over 100,000 more YAML nodes through its "
                                         r"aliases \(an alias bomb\?\)"):
        fast(bomb_free(101))  # 101,000 added nodes


def test_a_large_document_without_aliases_is_not_an_alias_bomb():
    # 150,001 nodes (a list and its scalars) and no alias: the old cap on all nodes refused this.
    doc = fast(("[" + ", ".join(["0.5"] * 150_000) + "]").encode())
    assert len(doc) == 150_000 and math.fsum(doc) == 75_000.0


def test_a_10000_model_manifest_is_accepted():
    models = "".join(f"- {{name: m{i}, size_gb: 1.5, evals: [{{scores: {{x: 0.5}}}}]}}\n" for i in range(10_000))
    man = parse_manifest(b"version: 1\nmodels:\n" + models.encode(), Path("/r/idm.yaml"), "idm.yaml")
    assert len(man.models) == 10_000
    assert man.models[-1].name == "m9999" and man.models[-1].size_gb == 1.5


@pytest.mark.parametrize("text,msg", [
    ("a: &a [*a]\n", "f.yaml: line 1, column 4: an alias refers to a node that contains it"),
    ("a: 1\nb: 2\na: 3\n", "f.yaml: line 3, column 1: duplicate key 'a' (first at line 1)"),
    ("a: !!python/object/apply:os.system [true]\n", "f.yaml: line 1, column 4: tag '!!python/object/apply:os.system' is not allowed"),
    ("a: [1,\n", "f.yaml: line 2, column 1: invalid YAML"),
    ("a: \x07\n", "f.yaml: line 1, column 4: invalid YAML (control character #x0007 is not allowed)"),
    ("a: *x\n", "f.yaml: line 1, column 4: invalid YAML (found undefined alias 'x')"),
    ("".join(f"{'  ' * i}k:\n" for i in range(202)), "f.yaml: nested more than 200 levels deep"),
])
def test_every_strictness_check_holds_on_both_loaders(text, msg):
    for fn in (fast, pure):
        with pytest.raises(InputError) as ei:
            fn(text.encode())
        assert str(ei.value).startswith(msg), (fn.__name__, str(ei.value))


def test_no_anchors_where_aliases_are_refused_on_both_loaders():
    for text in ("a: &x 1\nb: *x\n", "a: *x\n"):
        for fn in (fast, pure):
            with pytest.raises(InputError, match="anchors and aliases .* are not accepted here"):
                fn(text.encode(), aliases=False)
    assert fast(b"a: 'R&D * 2'\n", aliases=False) == {"a": "R&D * 2"}


@needs_libyaml
def test_the_libyaml_loader_is_the_one_used(monkeypatch):
    used = []
    real = yamlsafe._load
    monkeypatch.setattr(yamlsafe, "_load", lambda cls, *a: used.append(cls) or real(cls, *a))
    assert load_yaml(b"a: [1, 2]\n", "f.yaml") == {"a": [1, 2]}
    assert used == [yamlsafe._FastStrictLoader]


YAMLISH = st.text(alphabet="ab1.:-[]{},&*!#'\"\n \t|>?%@~\\x0", max_size=80)
GOOD = b"version: 1\nx: &x {a: [1, 2.5, 'q'], b: !!str 3}\ny: [*x, *x]\nz: |\n  text\n"


TAG = re.compile(r"tag '[^']*' is not allowed")


def same_tag_refusal(f: tuple[str, str], p: tuple[str, str]) -> bool:
    """Both refuse a tag at the same place (the tags' spelling aside), or the outcomes are equal."""
    if f == p:
        return True
    return f[0] == p[0] == "refused" and bool(TAG.search(p[1])) and TAG.sub("tag", f[1]) == TAG.sub("tag", p[1])


def test_a_tag_with_a_comma_in_a_flow_collection_is_refused_by_both_loaders():
    # the Hypothesis example that showed the two scanners' one difference in tags
    f, p = outcome(fast, b"- [!$,str 1]"), outcome(pure, b"- [!$,str 1]")
    assert (f, p) == (("refused", "f.yaml: line 1, column 4: tag '!$' is not allowed; only plain YAML values are"),
                      ("refused", "f.yaml: line 1, column 4: tag '!$,str' is not allowed; only plain YAML values are"))
    assert same_tag_refusal(f, p)


@needs_libyaml
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(YAMLISH.map(str.encode), mutated(GOOD)), aliases=st.booleans())
def test_libyaml_and_pure_loaders_agree(data, aliases):
    # "Faster, never weaker": whatever the pure loader accepts, libyaml reads to the same value;
    # whatever libyaml refuses gets the pure loader's message. The one difference allowed: libyaml
    # reads some spellings the pure scanner calls invalid YAML (a tab after a value, "0\t"), never
    # one that a strictness check (duplicate key, tag, alias, depth, character) refuses.
    f, p = outcome(fast, data, aliases=aliases), outcome(pure, data, aliases=aliases)
    if p[0] == "ok":
        assert f == p  # same value
    elif ": invalid YAML (" not in p[1] or "control character" in p[1]:
        # a strictness refusal: the same one. Where a tag holds a ',' in a flow collection ('[!a,b 1]'),
        # libyaml ends the tag at the ',' (a flow indicator, as YAML 1.2 reads it) and PyYAML's scanner keeps
        # it in the tag: both refuse the tag at the same place, spelling it differently
        assert same_tag_refusal(f, p) if "," in data.decode("utf-8", "replace") else f == p
    else:  # a syntax error to the pure scanner: libyaml may read it, or refuse it (maybe for a tag)
        assert f[0] == "ok" or f[1].startswith("f.yaml: ")


@pytest.mark.parametrize("text", [b"models: [{a: 1}, {b: [2, 3]}]\n", b"a: 1\na: 2\n", b"a: [1, 2\n",
                                  b"a: !!python/object:os.system x\n", b"a: &x [*x]\n"])
def test_the_garbage_collector_is_back_on_after_a_document_read_or_refused(text):
    # composing and constructing run with the cyclic collector paused; a refusal, at any stage, gives it back
    import gc

    for loader in (fast, pure):
        assert gc.isenabled()
        try:
            loader(text)
        except InputError:
            pass
        assert gc.isenabled()
    gc.disable()
    try:
        outcome(fast, text)
        assert not gc.isenabled()
    finally:
        gc.enable()


DEEP = "f.yaml: nested more than 200 levels deep; write a shallower document"


@pytest.mark.parametrize("text,refusal", [
    ("[" * 200 + "1" + "]" * 200, None),     # the scalar lies 200 levels down: at the limit
    ("[" * 201 + "1" + "]" * 201, DEEP),     # 201 levels down
    ("[" * 201 + "]" * 201, None),           # the innermost list, 200 levels down, is empty
    ("[" * 202 + "]" * 202, DEEP),
    ("{k: " * 100 + "[" * 100 + "]" * 100 + "}" * 100, None),
    ("{k: " * 100 + "[" * 100 + "x" + "]" * 100 + "}" * 100, None),  # "x" lies 200 down
    ("{k: " * 100 + "[" * 101 + "x" + "]" * 101 + "}" * 100, DEEP),
    # a key is a node too: at 200 levels down the depth is fine and the list key is refused as a key
    ("[" * 198 + "{? [k] : v}" + "]" * 198, "f.yaml: line 1, column 202: a mapping key must be a plain value"),
    ("[" * 199 + "{? [k] : v}" + "]" * 199, DEEP),
])
def test_the_depth_limit_is_the_same_with_and_without_anchors_in_the_text(text, refusal):
    # without an '&' the text has no anchor, so no alias: only the depth is walked; with one (here in a comment)
    # the alias walk runs. Both draw the line at the same node
    for doc in (text + "\n", text + "\n# R&D\n"):
        for fn in (fast, pure):
            got = outcome(fn, doc.encode())
            if refusal is None:
                assert got[0] == "ok", (fn.__name__, doc[-8:], got)
            else:
                assert got == ("refused", refusal), (fn.__name__, doc[-8:])


@pytest.mark.parametrize("data", [b"", b"a: 1", b"\xef\xbb\xbfa: 1", b"\xef\xbb\xbf\xef\xbb\xbfa: 1", b"a: \xff",
                                  b"\xef\xbb\xbfa: \xff", b"\xef\xbb"])
def test_text_is_decoded_as_the_utf_8_sig_codec_decodes_it(data):
    # one leading byte-order mark dropped, and a bad byte's offset counted after it, as utf-8-sig counts
    from idm_gate.yamlsafe import _decode

    def outcome(decode):
        try:
            return decode(data), None
        except UnicodeDecodeError as e:
            return None, (e.start, e.end, e.reason)

    assert outcome(_decode) == outcome(lambda d: d.decode("utf-8-sig"))
