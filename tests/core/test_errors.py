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
