"""The one JSON loader (idm_gate.jsonsafe.load_json): each strictness option, and every refusal as one line."""

from __future__ import annotations

import math

import pytest

from idm_gate.errors import InputError
from idm_gate.jsonsafe import JSONError, load_json


def refused(data: bytes, **options) -> JSONError:
    with pytest.raises(JSONError) as ei:
        load_json(data, "r.json", **options)
    assert isinstance(ei.value, InputError)  # exit 2, printed as one line by the CLI
    assert "\n" not in str(ei.value) and str(ei.value).startswith("r.json: ")
    return ei.value


def test_standard_json_reads_as_pythons_json_does():
    assert load_json(b'{"a": [1, 2.5, "x", true, null], "b": {}}', "r.json") == \
        {"a": [1, 2.5, "x", True, None], "b": {}}


# -- allow_nan ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_by_default_naming_the_token(token):
    e = refused(f'{{"stderr": {token}}}'.encode())
    assert str(e) == f"r.json: holds {token}, which is not a JSON number; write finite numbers only"
    assert (e.place, e.line) == (None, None)


def test_allow_nan_reads_them_as_floats():
    doc = load_json(b'[NaN, Infinity, -Infinity]', "r.json", allow_nan=True)
    assert math.isnan(doc[0]) and doc[1] == math.inf and doc[2] == -math.inf


# -- duplicate_keys ------------------------------------------------------------------------------------

def test_a_repeated_key_is_refused_by_default_naming_it_at_any_depth():
    e = refused(b'{"results": {"arc": 0.5, "arc": 0.6}}')
    assert str(e) == ("r.json: key 'arc': appears twice in one JSON object; "
                      "each key may appear once; remove or rename the duplicate")
    assert e.place == "key 'arc'"


def test_a_repeated_key_with_a_line_break_is_quoted_on_one_line():
    e = refused(b'{"a\\nb": 1, "a\\nb": 2}')
    assert "key 'a\\nb'" in str(e)


def test_duplicate_keys_last_keeps_the_last_value_as_pythons_json_does():
    assert load_json(b'{"a": 1, "b": {"c": 2, "c": 3}, "a": 4}', "r.json", duplicate_keys="last") == \
        {"a": 4, "b": {"c": 3}}


def test_the_same_key_in_two_objects_is_no_duplicate():
    assert load_json(b'[{"a": 1}, {"a": 2}]', "r.json") == [{"a": 1}, {"a": 2}]


# -- allow_bom -----------------------------------------------------------------------------------------

def test_a_leading_utf8_bom_is_skipped_by_default():
    assert load_json(b'\xef\xbb\xbf{"a": 1}', "r.json") == {"a": 1}


def test_allow_bom_false_refuses_it_at_line_1_column_1():
    e = refused(b'\xef\xbb\xbf{"a": 1}', allow_bom=False)
    assert (e.place, e.line) == ("line 1 column 1", 1)
    assert e.reason.startswith("Unexpected UTF-8 BOM")


# -- what every caller gets ----------------------------------------------------------------------------

def test_bytes_that_are_not_utf8_name_the_byte():
    e = refused(b'{"a": "\xff"}')
    assert str(e) == "r.json: byte 7: not UTF-8 text (binary file?); a JSON file is UTF-8 text"
    assert (e.reason, e.line) == ("not UTF-8", None)


def test_a_syntax_error_names_line_column_and_the_parsers_words():
    e = refused(b'{\n  "a": 1,\n  "b" 2\n}')
    # line 3 is '  "b" 2': the colon is missing before column 7
    assert str(e) == "r.json: line 3 column 7: invalid JSON (Expecting ':' delimiter); fix the file or re-export it"
    assert (e.reason, e.line, e.place) == ("Expecting ':' delimiter", 3, "line 3 column 7")


# The column is the one just after the last character there is (trailing white space does not count).
@pytest.mark.parametrize("data, place", [
    (b'{"a": [1, 2', "line 1 column 12"),            # 11 characters, cut inside the list: 11 + 1
    (b'{"a": "unfinished\n\n', "line 1 column 18"),  # 17 characters, an open string: 17 + 1
    (b'{"a": 1,\n "b":  \n', "line 2 column 6"),     # line 2 is ' "b":', 5 characters: 5 + 1
])
def test_a_document_cut_short_says_truncated_where_it_stops(data, place):
    e = refused(data)
    assert str(e) == (f"r.json: {place}: the file ends before the JSON does (truncated?); "
                      "re-export or re-download the complete file")
    assert e.line == int(place.split()[1])


def test_nesting_too_deep_is_an_error_not_a_crash():
    e = refused(b"[" * 100_000 + b"]" * 100_000)
    assert str(e) == "r.json: JSON nested too deeply to read; this is not a file idm-gate reads"


def test_an_integer_too_long_to_convert_is_an_error_not_a_crash():
    e = refused(b"[" + b"9" * 5000 + b"]")  # Python converts at most 4300 digits by default
    assert str(e).startswith("r.json: JSON holds a number that cannot be read (Exceeds the limit (4300 digits)")
    assert str(e).endswith("; write ordinary decimal numbers")


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        load_json(b"1", "r.json", True)  # type: ignore[misc]


@pytest.mark.parametrize("data", [b'{"models": [{"a": 1}, {"b": [2, 3]}]}', b'{"a": 1, "a": 2}', b'{"a": NaN}',
                                  b'{"a": [1, 2'])
def test_the_garbage_collector_is_back_on_after_a_parse_read_or_refused(data):
    # a large document is parsed with the cyclic collector paused (a parsed tree holds no cycles); whatever the
    # outcome, the process gets its collector back, and a caller that had paused it keeps it paused
    import gc

    assert gc.isenabled()
    try:
        load_json(data, "f.json")
    except JSONError:
        pass
    assert gc.isenabled()
    gc.disable()
    try:
        try:
            load_json(data, "f.json")
        except JSONError:
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


# -- fast (orjson, for the safetensors header) -------------------------------------------------------------

FAST = {"allow_nan": True, "duplicate_keys": "last", "allow_bom": False}


def test_fast_reads_what_json_reads_repeated_keys_included():
    doc = b'{"b": {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 12]}, "a": 1, "b": 2.5, "c": ["x", null]}'
    assert list(load_json(doc, "r.json", fast=True, **FAST).items()) == \
        list(load_json(doc, "r.json", **FAST).items()) == [("b", 2.5), ("a", 1), ("c", ["x", None])]


@pytest.mark.parametrize("doc", [b'{"stderr": NaN}', b'{"x": -Infinity}', b"[1e400]", b'["\\ud800"]'])
def test_fast_leaves_to_json_what_orjson_refuses(doc):
    # orjson refuses all four; json reads them (allow_nan): NaN, -inf, inf (1e400 overflows), a lone surrogate
    assert repr(load_json(doc, "r.json", fast=True, **FAST)) == repr(load_json(doc, "r.json", **FAST))


def test_fast_words_errors_as_json_does():
    for doc in (b'\xef\xbb\xbf{"a": 1}', b'{"a": 1,}', b'{"a": "\xff"}', b"[" * 100_000 + b"]" * 100_000):
        assert str(refused(doc, fast=True, **FAST)) == str(refused(doc, **FAST))


def test_fast_leaves_deep_nesting_to_json():
    # 1,020 levels: orjson reads up to 1,024, json refuses past the recursion limit (1,000 less the stack);
    # past 512 levels json decides, so both refuse alike
    doc = b'{"__metadata__": ' + b"[" * 1_020 + b"]" * 1_020 + b"}"
    assert str(refused(doc, fast=True, **FAST)) == str(refused(doc, **FAST)) == \
        "r.json: JSON nested too deeply to read; this is not a file idm-gate reads"
    shallow = b'{"__metadata__": ' + b"[" * 600 + b"]" * 600 + b"}"
    assert load_json(shallow, "r.json", fast=True, **FAST) == load_json(shallow, "r.json", **FAST)


def test_fast_reads_nesting_at_the_limit_as_json_does():
    # 512 levels fit in 1,024 bytes, read by orjson without counting brackets; 513 levels need 1,026 bytes
    # (513 opening brackets and 513 closing), counted and handed on to json: the same value either way
    for levels in (511, 512, 513, 514):
        doc = b"[" * levels + b"]" * levels
        assert len(doc) == 2 * levels
        assert load_json(doc, "r.json", fast=True, **FAST) == load_json(doc, "r.json", **FAST)


def test_fast_gives_a_float_for_an_integer_past_64_bits_as_documented():
    # the one difference load_json(fast=True) documents: callers refuse such a float and read again without fast
    assert load_json(b"[18446744073709551615, 18446744073709551616]", "r.json", fast=True, **FAST) == \
        [18446744073709551615, 1.8446744073709552e19]


def test_fast_without_orjson_installed_reads_with_json(monkeypatch):
    # a virtualenv made before orjson was a dependency: the same answers and messages, from json
    import sys

    from idm_gate import jsonsafe

    monkeypatch.setitem(sys.modules, "orjson", None)  # import orjson raises ImportError
    monkeypatch.setattr(jsonsafe, "_orjson", None)
    assert load_json(b'{"a": [1, 2], "a": 3}', "r.json", fast=True, **FAST) == {"a": 3}
    assert str(refused(b'{"a": 1,}', fast=True, **FAST)) == str(refused(b'{"a": 1,}', **FAST))
