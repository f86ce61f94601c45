"""PR-controlled text in the Markdown report cannot open HTML, mention anyone or link an issue.

Added after a mutation check: removing the escaping of '<', '>', '@' or '#' from ``esc`` left the whole
suite green.
"""

from __future__ import annotations

import re
from pathlib import Path

from idm_gate.manifest import load_manifest
from idm_gate.measure import measure
from idm_gate.report.markdown import esc, render_measurement

HOSTILE = "<img src=x onerror=alert(1)> @octocat fixes #1 [x](http://e.test) `c` *b* | ~s~"


def test_esc_neutralises_html_mentions_issue_links_and_markdown():
    out = esc(HOSTILE)
    assert "<" not in out and ">" not in out
    assert "&lt;img" in out and "&gt;" in out
    # a zero-width space after '@' and '#': no notification, no issue cross-reference
    assert not re.search(r"@[A-Za-z0-9]", out) and "@&#8203;octocat" in out
    assert not re.search(r"(?<!&)#[0-9]", out) and "#&#8203;1" in out
    for ch in "[]`*|~":
        assert re.search(r"(?<!\\)" + re.escape(ch), out) is None, ch
    assert "\n" not in esc("a\nb\r| c")


def test_esc_keeps_entities_in_names_literal():
    # "&lt;" typed in a name must show as typed, not turn into a "<"
    assert esc("a & b") == "a &amp; b"
    assert esc("&lt;") == "&amp;lt;"


def test_hostile_model_and_task_names_are_escaped_in_the_rendered_report(tmp_path: Path):
    (tmp_path / "idm.yaml").write_text(
        "version: 1\nmodels:\n"
        f" - name: '{HOSTILE}'\n   size_gb: 1\n   evals: [{{scores: {{'<b>@admin #2': 0.5}}}}]\n"
    )
    md = render_measurement(measure(load_manifest(tmp_path / "idm.yaml", "idm.yaml"), tmp_path))
    assert "<img" not in md and "<b>" not in md
    assert not re.search(r"@(octocat|admin)", md)
    assert not re.search(r"(?<!&)#[0-9]", md)
    assert "&lt;img" in md and "&lt;b&gt;" in md
