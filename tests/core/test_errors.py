"""The message helpers every error goes through (idm_gate/errors.py)."""

from __future__ import annotations

from idm_gate.errors import one_line, truncate


def test_truncate_keeps_short_text_and_ends_a_cut_one_with_the_ellipsis():
    assert truncate("abc", 3) == "abc"
    assert truncate("abcd", 3) == "ab\u2026"            # 2 characters + "…" = 3
    assert truncate("x" * 100, 60, "...") == "x" * 57 + "..."  # 57 + 3 = 60, as messages quote values
    assert len(truncate("y" * 500, 140)) == 140         # a commit status description's limit


def test_one_line_escapes_every_line_break():
    assert one_line("a\nb\r\nc\u2028d") == "a\\nb\\r\\nc\\u2028d"


def test_one_line_escapes_each_break_as_the_unicode_escape_codec_spells_it():
    breaks = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
    assert len(f"a{breaks}b".splitlines()) == len(breaks) + 1  # every one of them is a line break
    assert one_line(f"a{breaks}b") == "a" + "".join(c.encode("unicode_escape").decode("ascii") for c in breaks) + "b"
