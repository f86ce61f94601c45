"""The PR comment as a reviewer reads it: rendered by cmark-gfm (GitHub's Markdown) and read back as text.

Each case is a real comparison (tests/support/checkcases.py: safetensors weights and CSV evals measured by the
product); its Markdown is a golden file under tests/goldens/ (``pytest --update-goldens`` rewrites
them; review the diff), and its HTML is checked for what a reviewer would notice.
"""

from __future__ import annotations

import re

import pytest

import checkcases as cc
from idm_gate.data import LogBase
from idm_gate.report.check_markdown import COMMENT_BUDGET, Provenance, render_markdown, render_markdown_parts
from idm_gate.report.markdown import esc_html

NB = "\u00a0"
PROV = Provenance("https://github.com", "acme/models", cc.PR_HEAD_SHA)
SUMMARY_BUDGET = 1024 * 1024 - 4096  # as the action renders the job summary


def rendered(res, prov=PROV, limit=COMMENT_BUDGET):
    md = render_markdown(res, prov, limit=limit)
    return md, cc.Seen(cc.to_html(md))


def head_of(seen: cc.Seen) -> str:
    """The part above the first folded section: what is read without a click."""
    return seen.all_text.split(seen.summaries[0])[0] if seen.summaries else seen.all_text


def no_wrapping_changes(seen: cc.Seen) -> None:
    """Every change cell is one unbreakable unit: "▼ -49.9 %" with non-breaking spaces only."""
    for r in seen.cells[1:]:
        if len(r) == 8 and r[3] != "change":
            assert r[3] == "n/a" or re.fullmatch(f"[▲▼=]{NB}[+-][0-9.]+{NB}%", r[3]), r[3]


def test_failing_pr(tmp_path, golden):
    md, seen = rendered(cc.failing_case(tmp_path))
    golden("comment-failing.md", md)
    head = head_of(seen)
    assert head.startswith("❌ idm-gate: fail, efficiency regression\n")
    assert "1 failing · 1 warning · 3 unchanged." in head
    # the summary title shows the name as typed: no Markdown backslash inside HTML
    assert seen.summaries[0] == "❌ acme-lm-60m-Q8_0: 3 tasks, 2 changed"
    assert not any("\\" in s for s in seen.summaries)
    # failing first, then warning; the unchanged models are one line and one folded table
    assert [r[1] for r in seen.cells[1:3]] == ["acme-lm-60m-Q8_0", "acme-lm-350m"]
    assert "3 models unchanged." in head and seen.summaries[-1] == "3 models unchanged"
    assert not any(r[1].startswith("acme-lm-1b") for r in seen.cells[:3])
    # baseline → PR wherever a value changed: the upcast shows as 16 → 32 bits per parameter.
    # 30,000 fp16 parameters: 60,000 bytes + a 72-byte safetensors header = 60,072 -> 60.1 KB; fp32:
    # 120,072 -> 120 KB.
    (row,) = seen.rows_with("acme-lm-60m-Q8_0")
    assert row[2:] == [f"6759{NB}→ 3388", f"▼{NB}-49.9{NB}%", f"60.1{NB}KB{NB}→ 120{NB}KB",
                       f"0.6663{NB}→ 0.6658", "30K", f"16{NB}→ 32"]
    no_wrapping_changes(seen)
    # the split in plain terms and what would pass: D_base = -ln(0.6663) / 60,072e-9 GB = 6759;
    # passing needs 0.95 * 6759: at most -ln(0.6658) / (0.95 * 6759) GB = 63.35 KB at this error rate,
    # or exp(-0.95 * 6759 * 120,072e-9) = 0.4625 at this size (both rounded down)
    assert (f"Size ×2.00 (60.1{NB}KB → 120{NB}KB) at about the same accuracy (error rate 0.6663 → 0.6658)."
            in head)
    assert (f"To pass (a drop of at most 5.0{NB}%): at most 63.3{NB}KB at this error rate, or an error rate "
            "of at most 0.4625 at this size.") in head
    # the warning keeps the baseline's density at 700 MB (its old size) or an error of 0.335^(721/700)
    assert (f"To keep the baseline density: at most 700{NB}MB at this error rate, or an error rate of at "
            "most 0.3241 at this size.") in head
    # one percent format throughout
    assert not re.search(r"\d%", seen.all_text)
    # provenance: measured commit, PR head and baseline as links, and the baseline's date
    hrefs = {text: href for href, text in seen.links}
    assert hrefs["4f0c2b9"] == f"https://github.com/acme/models/commit/{cc.HEAD_SHA}"
    assert hrefs["9a8b7c6"] == f"https://github.com/acme/models/commit/{cc.PR_HEAD_SHA}"
    assert hrefs["0123456"] == f"https://github.com/acme/models/commit/{cc.BASE_SHA}"
    assert "(the merge base, committed 2026-11-28)" in head
    # per task: baseline, PR and change, changed tasks first, the source file once
    table = [r for r in seen.cells if len(r) == 5]
    assert table[0] == ["task", "metric", "error, baseline", "error, PR", "change"]
    assert table[1:4] == [["arc_easy", "score", "0.6663", "0.6658", "-0.0005"],
                          ["piqa", "score", "0.6663", "0.6653", "-0.001"],
                          ["hellaswag", "score", "0.6663", "0.6663", "="]]
    assert seen.all_text.count("Source: evals/acme-lm-60m-q8_0.csv") == 1
    # the files counted, folded inside the model's section
    assert "acme-lm-60m-Q8_0: 1 file counted, 120,072 bytes" in seen.summaries


def test_passing_pr_names_the_largest_change_not_the_worst_verdict(tmp_path, golden):
    md, seen = rendered(cc.passing_case(tmp_path))
    golden("comment-passing.md", md)
    head = head_of(seen)
    # Pe 0.40 -> 0.34979: -ln(0.34979) / -ln(0.40) = 1.146, so +14.6 %; the other model moved -1.0 %
    assert f"Largest change: acme-lm-60m, density ▲{NB}+14.6{NB}%." in head
    assert "Same size (120 MB) at higher accuracy (error rate 0.4 → 0.3498)." in head.replace(NB, " ")
    assert "2 commits before the merge base fedcba9, committed 2026-11-28" in head
    no_wrapping_changes(seen)


def test_renamed_model_is_reported_as_removed_and_new(tmp_path, golden):
    # a rename the manifest does not declare (no previous_names): removed and new, and the reason says how
    md, seen = rendered(cc.renamed_case(tmp_path))
    golden("comment-renamed.md", md)
    assert [r[:2] for r in seen.cells[1:3]] == [["⚠️", "bonsai"], ["✅", "bonsai-v2"]]
    assert seen.rows_with("bonsai")[0][2] == f"0.5249{NB}→ removed"
    assert ("removed in this PR (if it was renamed, list this name under the new name's previous_names so the "
            "comparison follows it)") in head_of(seen)


def test_a_thousand_models_fit_with_the_failing_ones_first(golden):
    md, seen = rendered(cc.synthetic(1000, {"fail": 3, "warn": 5, "smaller": 20}))
    golden("comment-1000-models.md", md)
    assert len(md.encode()) <= COMMENT_BUDGET
    head = head_of(seen)
    assert "3 failing · 5 warning · 20 passing · 972 unchanged." in head
    # the failing models are last in the manifest and first in the comment, each with its row
    assert [r[1] for r in seen.cells[1:4]] == [f"model-{i:05d}-fail-" for i in (997, 998, 999)]
    assert all(seen.rows_with(f"model-{i:05d}-warn-") for i in range(992, 997))
    # the unchanged ones are one line and one folded table, not a row and a section each
    assert "972 models unchanged." in head
    assert seen.summaries[-1] == "972 models unchanged" and len(seen.summaries) == 1 + 28 + 1
    # the frontier chart (28 changed models: too many to show open) sits before the unchanged table
    assert seen.summaries[-2] == "🎯 Efficiency frontier: 20 changed models at baseline and PR"
    no_wrapping_changes(seen)


@pytest.mark.parametrize("n", [600, 10_000])
def test_many_models_fit_githubs_limits_with_every_failing_model_named(n):
    res = cc.synthetic(n, {"fail": 3, "warn": 5, "smaller": 20})
    head, details = render_markdown_parts(res, PROV, limit=COMMENT_BUDGET)
    comment = head + "\n\n" + details
    assert len(comment.encode()) <= COMMENT_BUDGET  # UTF-8 bytes >= the characters GitHub counts
    for i in range(n - 8, n):
        kind = "fail" if i >= n - 3 else "warn"
        assert f"| {'❌' if kind == 'fail' else '⚠️'} | model-{i:05d}-{kind}-" in head
    assert f"{n - 28:,} models unchanged." in head
    summary = render_markdown(res, PROV, limit=SUMMARY_BUDGET)
    assert len(summary.encode()) <= SUMMARY_BUDGET < 1024 * 1024


def test_ten_thousand_failing_models_are_named_as_far_as_the_limit_allows():
    res = cc.synthetic(10_000, {"fail": 10_000}, name_len=60)
    head, details = render_markdown_parts(res, PROV, limit=COMMENT_BUDGET)
    assert len((head + "\n\n" + details).encode()) <= COMMENT_BUDGET
    seen = cc.Seen(cc.to_html(head))
    rows = [r[1] for r in seen.cells[1:]]
    also = re.search(r"Also failing or warning: (.*) and ([0-9,]+) more\.", seen.all_text)
    assert also, seen.all_text[-500:]
    named = also.group(1).split(", ")
    # rows, then names, in order, with nobody skipped, and the rest counted
    assert rows + [x.removeprefix("❌ ") for x in named] == [
        f"model-{i:05d}-fail-".ljust(60, "x") for i in range(len(rows) + len(named))]
    assert len(rows) + len(named) + int(also.group(2).replace(",", "")) == 10_000
    # rows take at most half the head, so that hundreds more are named after them (a row is ~150 bytes,
    # a name ~65: rows alone would name about 320 models in all, rows then names over 500)
    assert len(rows) < 200 and len(named) > 300
    assert "Every model is in the JSON report" in seen.all_text
    assert "10,000 failing." in seen.all_text


def test_summary_titles_are_escaped_for_html_not_markdown():
    assert esc_html("acme-lm-60m-Q8_0") == "acme-lm-60m-Q8_0"
    assert esc_html("<img src=x> & *b* @octocat #1 :rocket:") == \
        "&lt;img src=x&gt; &amp; *b* @&#8203;octocat #&#8203;1 &#58;rocket&#58;"
    page = cc.to_html(f"<details><summary>{esc_html('a_b <b>x</b> @octocat')}</summary>\n\n</details>\n")
    (title,) = cc.Seen(page).summaries
    assert title == "a_b <b>x</b> @\u200boctocat" and "<b>" not in page


def test_without_a_server_url_commits_are_code_not_links(tmp_path):
    md, seen = rendered(cc.renamed_case(tmp_path), prov=Provenance.from_env({"GITHUB_REPOSITORY": "acme/models"}))
    assert seen.links == [] and "Measured `4f0c2b9`" in md
    prov = Provenance.from_env({"GITHUB_SERVER_URL": "https://ghe.example.com/", "GITHUB_REPOSITORY": "acme/models"})
    assert prov.commit(cc.BASE_SHA) == f"[`0123456`](https://ghe.example.com/acme/models/commit/{cc.BASE_SHA})"
    bad = Provenance.from_env({"GITHUB_SERVER_URL": "javascript:alert(1)", "GITHUB_REPOSITORY": "acme/models"})
    assert bad.commit(cc.BASE_SHA) == "`0123456`"


# -- through the CLI, with real git: the provenance and the "policy is the issue" line ----------------

def _manifest(size_bytes: int, gate: dict) -> dict:
    return {"version": 1, "gate": gate, "models": [
        {"name": "bonsai", "size_bytes": size_bytes, "evals": [{"scores": {"arc": 0.7, "gsm8k": 0.6}}]}]}


def test_a_pr_that_loosens_its_own_gate_is_told_to_change_the_base_first(tmp_path):
    from gitrepo import make_repo

    repo = make_repo(tmp_path, {"idm.yaml": _manifest(2 * 10**9, {"max_drop": "5%"})})
    assert repo.idm("record").returncode == 0
    base_sha = repo.git("rev-parse", "HEAD")
    base_date = repo.git("show", "-s", "--format=%cs", base_sha)
    repo.git("checkout", "-q", "-b", "pr")
    # 1.5x the size at the same error rate: density -33.3 %, over the base's 5 % but within the PR's 50 %
    repo.write("idm.yaml", _manifest(3 * 10**9, {"max_drop": "50%"}))
    head = repo.commit("bigger, and a looser gate")
    env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/models"}
    res = repo.idm("check", "--base-ref", "origin/main", "--format", "markdown", env_extra=env)
    assert res.returncode == 1, res.stderr
    seen = cc.Seen(cc.to_html(res.stdout))
    text = seen.all_text
    assert ("This PR's own `gate:` would pass it, but the policy is read from the base branch so a PR cannot "
            "loosen its own gate: change `gate:` on the base branch first.").replace("`", "") in text
    # D_base = -ln(0.35) / 2 = 0.5249; 95 % of it at error 0.35 allows 2 / 0.95 = 2.105 GB
    assert f"at most 2.10{NB}GB at this error rate" in text
    hrefs = {t: h for h, t in seen.links}
    assert hrefs[head[:7]] == f"https://github.com/acme/models/commit/{head}"
    assert hrefs[base_sha[:7]] == f"https://github.com/acme/models/commit/{base_sha}"
    assert f"(the merge base, committed {base_date})" in text
    # the notice quotes both policies in the comment's one percent format
    assert "this PR changes the gate policy of bonsai (max_drop 5.0 % -> max_drop 50.0 %)" in text.replace(NB, " ")
    assert not re.search(r"\d%", text)


def test_the_same_pr_under_the_base_gate_alone_gets_no_such_line(tmp_path):
    from gitrepo import make_repo

    repo = make_repo(tmp_path, {"idm.yaml": _manifest(2 * 10**9, {"max_drop": "5%"})})
    assert repo.idm("record").returncode == 0
    repo.git("checkout", "-q", "-b", "pr")
    repo.write("idm.yaml", _manifest(3 * 10**9, {"max_drop": "5%"}))
    repo.commit("bigger")
    res = repo.idm("check", "--base-ref", "origin/main", "--format", "markdown")
    assert res.returncode == 1, res.stderr
    assert "base branch first" not in res.stdout and "To pass (a drop of at most 5.0" in res.stdout
    assert "Measured `" in res.stdout and "](" not in res.stdout  # no server URL: commits as code
    # the text report says the same in plain text, with the baseline's date
    base = repo.git("rev-parse", "origin/main")
    text = repo.idm("check", "--base-ref", "origin/main").stdout
    assert (f"(baseline from {base[:7]}, the merge base, committed "
            f"{repo.git('show', '-s', '--format=%cs', base)})") in text
    # 2 GB -> 3 GB at Pe 0.35: passing needs D >= 0.95 * ln(1/0.35) / 2 = 0.4987, so at most 2.105 GB,
    # or at 3 GB an error rate of exp(-0.4987 * 3) = 0.22403, floored to 4 digits: 0.2240, shown "0.224"
    assert ("  To pass (a drop of at most 5.0 %): at most 2.10 GB at this error rate, or an error rate of at "
            "most 0.224 at this size.") in text


def test_the_measure_summary_of_ten_thousand_models_stays_under_a_mebibyte():
    from idm_gate.data import Measurement
    from idm_gate.report.markdown import render_measurement

    res = cc.synthetic(10_000, {}, name_len=90)  # ~140-byte rows: the table alone would be 1.4 MB
    m = Measurement("idm.yaml", "0" * 64, LogBase.E, tuple(v.current for v in res.models if v.current))
    md = render_measurement(m, limit=SUMMARY_BUDGET)
    assert len(md.encode()) <= SUMMARY_BUDGET
    seen = cc.Seen(cc.to_html(md))
    table = seen.cells[1:]
    rows = table[:next((i for i, r in enumerate(table) if r[0] == "task"), len(table))]
    # every row shown is whole, in the manifest's order, and the rest are counted
    assert 5_000 < len(rows) < 10_000
    assert [r[0] for r in rows] == [f"model-{i:05d}-same-".ljust(90, "x") for i in range(len(rows))]
    assert f"{10_000 - len(rows):,} more models are in the JSON report" in seen.all_text
    assert "Per-task results of 10,000 more models are in the JSON report." in seen.all_text


def test_extra_sections_go_inside_each_model_and_after_the_models_within_the_limit(tmp_path, monkeypatch):
    from idm_gate.report import check_markdown

    monkeypatch.setattr(check_markdown, "MODEL_SECTIONS", [*check_markdown.MODEL_SECTIONS,
                                                            lambda v, r: [f"extra for {v.name}"]])
    monkeypatch.setattr(check_markdown, "PR_SECTIONS", [lambda r: ["<details><summary>whole PR</summary>", "",
                                                                   "x", "", "</details>"],
                                                        lambda r: ["y" * 100_000]])
    md, seen = rendered(cc.renamed_case(tmp_path))
    assert seen.summaries == ["⚠️ bonsai: 2 tasks", "✅ bonsai-v2: 2 tasks", "whole PR"]
    assert md.index("extra for bonsai") < md.index("<summary>✅ bonsai-v2") < md.index("extra for bonsai-v2")
    assert "y" * 100 not in md and "1 more section left out to fit GitHub's size limit." in md


def test_an_unchanged_model_that_fails_a_budget_is_a_row_not_folded(tmp_path):
    base, pr = cc.sides(tmp_path)
    for s in (base, pr):
        s.add("steady", {"arc_easy": 0.7}, size_bytes=10**9)   # D = ln(1/0.3) / 1 = 1.204 < 2
        s.add("other", {"arc_easy": 0.7}, size_bytes=10**8)    # D = 12.04: passes, unchanged
    md, seen = rendered(cc.run(base, pr, base_gate={"min_density": 2}))
    assert [r[:2] for r in seen.cells[1:2]] == [["❌", "steady"]]
    assert "1 failing · 1 unchanged." in seen.all_text and seen.summaries[-1] == "1 model unchanged"
    # no relative rule failed, the budget did: at this error rate at most ln(1/0.3) / 2 = 0.602 GB
    assert f"To pass (min_density 2): at most 601{NB}MB at this error rate" in seen.all_text
