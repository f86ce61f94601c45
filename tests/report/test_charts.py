"""The Mermaid charts of the PR comment: what they hold, that they fold, and that Mermaid's own parser reads
every block idm-gate writes (tests/support/realtools.py: npm ``mermaid`` under Node)."""

from __future__ import annotations

import json
from dataclasses import replace

import checkcases as cc
from gitrepo import make_repo
from idm_gate.data import ModelStatus
from idm_gate.report.charts import FOLD_AFTER, frontier_section, history_section, label
from idm_gate.report.check_markdown import COMMENT_BUDGET, Provenance, render_markdown
from idm_gate.verdicts import RecordedDensity
from realtools import mermaid_blocks, mermaid_parse

PROV = Provenance("https://github.com", "acme/models", cc.PR_HEAD_SHA)


def test_label_cannot_end_a_mermaid_string_or_the_fence():
    assert label('a"b`c\\d\ne;f#g%h') == "a_b_c_d_e_f_g_h"
    assert label("x" * 50) == "x" * 39 + "…"
    assert label("acme-lm-60m-Q8_0 (PR)") == "acme-lm-60m-Q8_0 (PR)"


def test_history_chart_ends_with_the_pr_and_frontier_marks_both_positions(tmp_path):
    res = cc.failing_case(tmp_path)
    past = ("a" * 40, "b" * 40)
    history = tuple(RecordedDensity(commit=c, model="acme-lm-60m-Q8_0", density=d) for c, d in zip(past, (7000.0, 6759.0),
                                                                                                       strict=True))
    lines = history_section(replace(res, history=history))
    # one changed model with history (acme-lm-350m has none recorded): shown open
    assert lines[0] == "<details open><summary>📈 Density history of 1 changed model, the PR last</summary>"
    block = "\n".join(lines)
    assert 'x-axis ["aaaaaaa", "bbbbbbb", "PR"]' in block
    # 3388 nats/GB is the PR's density (the golden's row): 60.1 KB → 120 KB at the same error
    pr_density = next(v for v in res.models if v.name == "acme-lm-60m-Q8_0").current.density
    assert f"line [7000, 6759, {pr_density:.6g}]" in block and f"{pr_density:.4g}" == "3388"
    assert 'y-axis "nats/GB" 0 --> 8000' in block  # 7000 * 1.1 = 7700, rounded up to 8 × 10^3
    front = frontier_section(res)
    text = "\n".join(front)
    assert '"acme-lm-60m-Q8_0 (base)": [0.05, 0.95]' in text  # the smallest size, the highest error
    assert '"★ acme-lm-3b": [0.95, 0.05]' in text            # the largest, the lowest error
    assert front[0].startswith("<details><summary>")  # 7 models drawn: folded
    assert FOLD_AFTER < 7


def test_no_history_no_chart_and_no_change_no_frontier(tmp_path):
    res = cc.failing_case(tmp_path)
    assert history_section(res) == []
    unchanged = replace(res, models=tuple(v for v in res.models if v.status is ModelStatus.UNCHANGED))
    assert frontier_section(unchanged) == []


def test_every_chart_in_every_golden_comment_parses(tmp_path):
    cases = [cc.failing_case(tmp_path / "f"), cc.passing_case(tmp_path / "p"), cc.renamed_case(tmp_path / "r"),
             cc.synthetic(1000, {"fail": 3, "warn": 5, "smaller": 20})]
    # give the changed models of each case a recorded history, so the history charts are drawn too
    texts = []
    for res in cases:
        history = tuple(RecordedDensity(commit=f"{i:040x}", model=v.name, density=v.base.density * (1 + i / 10))
                        for i in range(3) for v in res.models if v.base is not None)
        md = render_markdown(replace(res, history=history), PROV, limit=COMMENT_BUDGET)
        assert len(md.encode()) <= COMMENT_BUDGET
        texts += mermaid_blocks(md)
    kinds = [t.split("\n", 1)[0] for t in texts]
    assert kinds.count("xychart-beta") >= 10 and kinds.count("quadrantChart") == 3  # renamed: nothing changed
    results = mermaid_parse(texts)
    bad = [(t, r["error"]) for t, r in zip(texts, results, strict=True) if not r["ok"]]
    assert not bad, bad[0]
    assert {r["type"] for r in results} == {"xychart", "quadrantChart"}


def test_hostile_model_names_still_parse():
    names = ['evil"]\n```\n@admin', "a;b#c%%d", "`code`", "x" * 300, "ünï ☃ 名前", "--> [0.1, 0.2]:"]
    texts = []
    for n in names:
        res = cc.synthetic(3, {"fail": 1})
        models = tuple(replace(v, name=n, current=replace(v.current, name=n)) if v.status is ModelStatus.CHANGED else v
                       for v in res.models)
        res = replace(res, models=models,
                      history=(RecordedDensity(commit="c" * 40, model=n, density=1.0),))
        md = render_markdown(res, PROV, limit=COMMENT_BUDGET)
        blocks = mermaid_blocks(md)
        assert len(blocks) == 2 and not any("`" in b for b in blocks)  # no backtick can end the fence early
        texts += blocks
    results = mermaid_parse(texts)
    assert all(r["ok"] for r in results), [r for r in results if not r["ok"]][:1]


def manifest(percent: float, size_bytes: int) -> dict:
    return {"version": 1, "models": [{"name": "bonsai", "size_bytes": size_bytes,
                                      "evals": [{"scores": {"arc": percent}, "scale": "percent"}]}]}


def test_check_comment_draws_the_base_branchs_records_then_the_pr(tmp_path):
    """Real git: three recorded commits on main, a PR that doubles the size; check -f markdown."""
    r = make_repo(tmp_path, {"idm.yaml": manifest(60.0, 10**9)})
    shas = [r.git("rev-parse", "HEAD")]
    assert r.idm("record").returncode == 0
    for pct in (70.0, 80.0):
        r.write("idm.yaml", manifest(pct, 10**9))
        shas.append(r.commit(f"{pct}"))
        assert r.idm("record").returncode == 0
    r.git("push", "-q", "origin", "main")
    r.git("checkout", "-q", "-b", "pr")
    r.write("idm.yaml", manifest(80.0, 2 * 10**9))
    r.commit("bigger")
    res = r.idm("check", "--base-ref", "origin/main", "-f", "markdown", "--no-fail")
    assert res.returncode == 0, res.stderr
    blocks = mermaid_blocks(res.stdout)
    assert [b.split("\n", 1)[0] for b in blocks] == ["xychart-beta", "quadrantChart"]
    # by hand: error 0.4, 0.3, 0.2 at 1 GB -> ln(2.5) = 0.916291, ln(10/3) = 1.203973, ln 5 = 1.609438;
    # the PR: ln 5 / 2 = 0.804719
    hist = blocks[0]
    assert f'x-axis ["{shas[0][:7]}", "{shas[1][:7]}", "{shas[2][:7]}", "PR"]' in hist
    assert "line [0.916291, 1.20397, 1.60944, 0.804719]" in hist
    assert all(x["ok"] for x in mermaid_parse(blocks))
    # history and check read the same records
    rows = json.loads(r.idm("history", "--rev", "origin/main", "-f", "json").stdout)["rows"]
    assert [x["commit"] for x in rows] == shas
