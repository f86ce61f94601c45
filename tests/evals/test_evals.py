"""The eval readers: what a user's results file turns into, and every way a bad file is refused."""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idm_gate.data import EvalResult, EvalSource, Scale
from idm_gate.errors import InputError
from idm_gate.evals import EVAL_FORMATS, FORMATS, FRACTION_FORMATS, rates, read_eval, skipped_tasks

DATA = Path(__file__).parents[1] / "data" / "evals"
LMEVAL = "lm-eval/results_2025-03-14T09-26-53.118402.json"
CARD = "model-card/README.md"
CARD_V2 = "model-card-v2/README.md"


def read_fixture(path: str, overrides=None, **kw) -> EvalResult:
    src = EvalSource(path=path, field="models[0].evals[0]", **kw)
    return read_eval(src, DATA, DATA, "idm.yaml", overrides or {})


def read_bytes(tmp_path: Path, name: str, content: bytes | str, overrides=None, **kw) -> EvalResult:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    src = EvalSource(path=name, field="models[0].evals[0]", **kw)
    return read_eval(src, tmp_path, tmp_path, "idm.yaml", overrides or {})


def refused(fn, *args, match: str | None = None, **kw) -> str:
    """Call and require an InputError whose message is one line (and, when given, contains ``match``)."""
    with pytest.raises(InputError) as info:
        fn(*args, **kw)
    msg = str(info.value)
    assert "\n" not in msg and "\r" not in msg, msg
    assert "Traceback" not in msg
    if match is not None:
        assert match in msg, msg
    return msg


def lmeval_doc() -> dict:
    return json.loads((DATA / LMEVAL).read_text(encoding="utf-8"))


def by_task(result: EvalResult) -> dict:
    return {t.task: t for t in result.tasks}


# --- lm-eval -------------------------------------------------------------------------------------

def test_lmeval_fixture_counts_each_task_once_with_the_primary_metric():
    r = read_fixture(LMEVAL)
    tasks = by_task(r)
    assert list(tasks) == ["arc_challenge", "gsm8k", "hellaswag", "mmlu", "truthfulqa_mc2", "winogrande"]
    assert tasks["arc_challenge"].metric == "acc_norm,none"
    assert tasks["hellaswag"].metric == "acc_norm,none"
    assert tasks["mmlu"].metric == "acc,none"
    assert tasks["gsm8k"].metric == "exact_match,strict-match"
    assert tasks["winogrande"].metric == "acc,none"
    assert tasks["truthfulqa_mc2"].metric == "acc,none"
    t = tasks["arc_challenge"]
    assert t.error == pytest.approx(1 - 0.5443686006825939)
    assert t.stderr == pytest.approx(0.014555949760496439)
    assert (t.scale, t.scale_inferred, t.source) == (Scale.FRACTION, True, LMEVAL)
    assert tasks["winogrande"].stderr is None  # "N/A" in the file


def test_lmeval_mmlu_group_counts_once_not_with_its_subjects():
    tasks = by_task(read_fixture(LMEVAL))
    assert "mmlu" in tasks
    assert not [t for t in tasks if t.startswith("mmlu_")]


def test_lmeval_perplexity_task_is_skipped_with_a_parseable_notice():
    r = read_fixture(LMEVAL)
    assert "wikitext" in skipped_tasks(r)
    assert "perplexity" in skipped_tasks(r)["wikitext"]
    notice = [n for n in r.notices if ": wikitext: skipped: " in n]
    assert len(notice) == 1 and notice[0].startswith(LMEVAL + ": wikitext: skipped: ")


def test_lmeval_group_without_aggregate_counts_its_subgroups_then_leaves(tmp_path):
    doc = lmeval_doc()
    for section in ("results", "groups"):
        doc[section]["mmlu"] = {"alias": "mmlu"}
    tasks = by_task(read_bytes(tmp_path, "r.json", json.dumps(doc)))
    assert {"mmlu_humanities", "mmlu_other", "mmlu_social_sciences", "mmlu_stem"} <= set(tasks)
    assert "mmlu" not in tasks and "mmlu_formal_logic" not in tasks

    for g in ("mmlu_humanities", "mmlu_other", "mmlu_social_sciences", "mmlu_stem"):
        for section in ("results", "groups"):
            doc[section][g] = {"alias": g}
    tasks = by_task(read_bytes(tmp_path, "r.json", json.dumps(doc)))
    leaves = [t for t in tasks if t.startswith("mmlu_")]
    assert len(leaves) == 8 and "mmlu_formal_logic" in leaves
    # the NaN stderr of a counted subtask is unknown, not an error
    assert tasks["mmlu_college_physics"].stderr is None


def test_lmeval_subtask_under_two_groups_counts_once(tmp_path):
    doc = {"results": {"g1": {"alias": "g1"}, "g2": {"alias": "g2"}, "t": {"acc,none": 0.5}},
           "group_subtasks": {"g1": ["t"], "g2": ["t"], "t": []}}
    r = read_bytes(tmp_path, "r.json", json.dumps(doc))
    assert [t.task for t in r.tasks] == ["t"]


def test_lmeval_group_cycle_is_refused(tmp_path):
    doc = {"results": {"a": {"alias": "a"}, "b": {"alias": "b"}}, "group_subtasks": {"a": ["b"], "b": ["a"]}}
    refused(read_bytes, tmp_path, "r.json", json.dumps(doc), match="group_subtasks")


@pytest.mark.parametrize("override, metric", [
    ({"hellaswag": "acc"}, "acc,none"),
    ({"gsm8k": "exact_match,flexible-extract"}, "exact_match,flexible-extract"),
    ({"gsm8k": "exact_match"}, "exact_match,strict-match"),
])
def test_lmeval_manifest_overrides_the_primary_metric(override, metric):
    task = next(iter(override))
    assert by_task(read_fixture(LMEVAL, override))[task].metric == metric


def test_lmeval_override_naming_a_missing_metric_lists_what_the_task_has():
    msg = refused(read_fixture, LMEVAL, {"hellaswag": "mc2"}, match="results.hellaswag")
    assert "acc,none" in msg and "acc_norm,none" in msg and msg.startswith(LMEVAL + ": ")


def test_lmeval_override_naming_a_non_rate_is_refused():
    refused(read_fixture, LMEVAL, {"wikitext": "word_perplexity"}, match="perplexity")


def test_lmeval_nan_in_chosen_metric_is_refused_but_ignored_elsewhere(tmp_path):
    base = {"results": {"arc": {"acc,none": 0.5, "acc_norm,none": 0.6, "acc_stderr,none": 0.01}}}
    doc = json.loads(json.dumps(base))
    doc["results"]["arc"]["acc_norm,none"] = math.nan
    msg = refused(read_bytes, tmp_path, "r.json", json.dumps(doc), match="acc_norm,none")
    assert "not finite" in msg
    # the user can pick the other metric
    assert by_task(read_bytes(tmp_path, "r.json", json.dumps(doc), {"arc": "acc"}))["arc"].score == 0.5
    doc = json.loads(json.dumps(base))
    doc["results"]["arc"]["acc,none"] = -math.inf  # not chosen: ignored
    assert by_task(read_bytes(tmp_path, "r.json", json.dumps(doc)))["arc"].score == 0.6


def test_lmeval_infinity_literal_in_chosen_metric_is_refused(tmp_path):
    text = '{"results": {"t": {"acc,none": Infinity, "acc_stderr,none": NaN}}}'
    refused(read_bytes, tmp_path, "r.json", text, match="not finite")


def test_lmeval_nan_and_infinite_stderr_are_unknown(tmp_path):
    text = '{"results": {"a": {"acc,none": 0.5, "acc_stderr,none": NaN}, "b": {"acc,none": 0.5, "acc_stderr,none": Infinity}}}'
    assert [t.stderr for t in read_bytes(tmp_path, "r.json", text).tasks] == [None, None]


def test_lmeval_value_above_one_is_refused_with_a_scale_hint(tmp_path):
    doc = {"results": {"arc": {"acc,none": 54.4}}}
    refused(read_bytes, tmp_path, "r.json", json.dumps(doc), match="scale: percent")


def test_lmeval_declared_percent_scale_is_honoured(tmp_path):
    doc = {"results": {"arc": {"acc,none": 54.4, "acc_stderr,none": 1.2}}}
    t = read_bytes(tmp_path, "r.json", json.dumps(doc), scale=Scale.PERCENT).tasks[0]
    assert (t.error, t.stderr, t.scale, t.scale_inferred) == (pytest.approx(0.456), pytest.approx(0.012), Scale.PERCENT, False)


def test_lmeval_higher_is_better_decides_direction(tmp_path):
    doc = {"results": {"t": {"acc,none": 0.2}}, "higher_is_better": {"t": {"acc": False}}}
    assert read_bytes(tmp_path, "r.json", json.dumps(doc)).tasks[0].error == pytest.approx(0.2)
    doc = {"results": {"t": {"top1_error,none": 0.3}}}
    assert read_bytes(tmp_path, "r.json", json.dumps(doc)).tasks[0].error == pytest.approx(0.3)


def test_lmeval_unknown_metric_is_skipped_and_needs_a_direction_when_picked(tmp_path):
    doc = {"results": {"t": {"bypass,none": 0.5}, "u": {"acc,none": 0.5}}}
    r = read_bytes(tmp_path, "r.json", json.dumps(doc))
    assert "t" in skipped_tasks(r)
    refused(read_bytes, tmp_path, "r.json", json.dumps(doc), {"t": "bypass"}, match="direction is unknown")
    doc["higher_is_better"] = {"t": {"bypass": True}}
    assert by_task(read_bytes(tmp_path, "r.json", json.dumps(doc), {"t": "bypass"}))["t"].error == 0.5


def test_lmeval_wer_counts_only_when_named(tmp_path):
    doc = {"results": {"asr": {"wer,none": 0.12}, "u": {"acc,none": 0.5}}}
    assert "asr" in skipped_tasks(read_bytes(tmp_path, "r.json", json.dumps(doc)))
    t = by_task(read_bytes(tmp_path, "r.json", json.dumps(doc), {"asr": "wer"}))["asr"]
    assert t.error == pytest.approx(0.12)
    doc["results"]["asr"]["wer,none"] = 1.3  # insertions: WER above 1 is not an error fraction
    refused(read_bytes, tmp_path, "r.json", json.dumps(doc), {"asr": "wer"}, match="outside 0..1")


def test_lmeval_passed_over_non_rate_gets_a_notice(tmp_path):
    doc = {"results": {"lambada_openai": {"perplexity,none": 3.9, "perplexity_stderr,none": 0.08,
                                          "acc,none": 0.68, "acc_stderr,none": 0.006, "alias": "lambada_openai"}}}
    r = read_bytes(tmp_path, "r.json", json.dumps(doc))
    assert r.tasks[0].metric == "acc,none"
    assert any("passed over perplexity,none" in n for n in r.notices)


def test_lmeval_v03_keys_without_filter(tmp_path):
    doc = {"results": {"hellaswag": {"acc": 0.5, "acc_stderr": 0.005, "acc_norm": 0.66, "acc_norm_stderr": 0.004}},
           "versions": {"hellaswag": 0}}
    t = read_bytes(tmp_path, "r.json", json.dumps(doc)).tasks[0]
    assert (t.metric, t.stderr) == ("acc_norm", 0.004)


@pytest.mark.parametrize("doc, match", [
    ({"results": []}, "results"),
    ({"results": {"t": 0.5}}, "results.t"),
    ({"results": {"t": {"acc,none": "0.5"}}}, "not a number"),
    ({"results": {"t": {"acc,none": 0.5}}, "group_subtasks": {"g": "t"}}, "group_subtasks.g"),
    ({"results": {"t": {"acc,none": 0.5}}, "higher_is_better": []}, "higher_is_better"),
    ({"results": {"t": {"acc,none": 0.5, "acc_stderr,none": -0.1}}}, "negative"),
])
def test_lmeval_malformed_sections_are_refused(tmp_path, doc, match):
    refused(read_bytes, tmp_path, "r.json", json.dumps(doc), format="lm-eval", match=match)


def test_lmeval_all_tasks_skipped_is_an_error(tmp_path):
    doc = {"results": {"wikitext": {"word_perplexity,none": 9.6}}}
    refused(read_bytes, tmp_path, "r.json", json.dumps(doc), match="no task can be counted")


# --- model-index ---------------------------------------------------------------------------------

def test_model_card_reads_dataset_ids_in_percent():
    r = read_fixture(CARD)
    tasks = by_task(r)
    assert list(tasks) == ["ai2_arc:ARC-Challenge", "ai2_arc:ARC-Easy", "hellaswag", "cais/mmlu", "truthful_qa",
                           "winogrande", "gsm8k"]
    arc = tasks["ai2_arc:ARC-Challenge"]
    assert (arc.metric, arc.score, arc.error, arc.scale, arc.scale_inferred) == (
        "acc_norm", 54.44, pytest.approx(0.4556), Scale.PERCENT, True)
    assert tasks["ai2_arc:ARC-Easy"].metric == "acc_norm"  # the rule, over acc listed first
    assert all(t.stderr is None for t in r.tasks)
    assert "wikitext" in skipped_tasks(r)
    assert any("inferred" in n and "percent" in n for n in r.notices)
    assert any("Open LLM Leaderboard (v1)" in n for n in r.notices)
    assert not any("normalised" in n for n in r.notices)


def test_model_card_leaderboard_v2_warns_about_normalised_scores():
    r = read_fixture(CARD_V2)
    assert len(r.tasks) == 6
    assert by_task(r)["HuggingFaceH4/ifeval"].metric == "inst_level_strict_acc and prompt_level_strict_acc"
    warn = [n for n in r.notices if "Leaderboard v2" in n]
    assert len(warn) == 1 and "normalised" in warn[0] and "BBH" in warn[0]


def test_model_card_override_by_type_or_display_name():
    assert by_task(read_fixture(CARD, {"ai2_arc:ARC-Easy": "acc"}))["ai2_arc:ARC-Easy"].score == 74.2
    assert by_task(read_fixture(CARD, {"ai2_arc:ARC-Easy": "Accuracy"}))["ai2_arc:ARC-Easy"].score == 74.2
    refused(read_fixture, CARD, {"hellaswag": "mc2"}, match="acc_norm")
    refused(read_fixture, CARD, {"wikitext": "perplexity"}, match="perplexity")


CARD_TMPL = """---
model-index:
- name: m
  results:
{results}
---
text
"""


def card(*entries: tuple[str, str, float], extra: str = "") -> str:
    rows = []
    for dtype, mtype, value in entries:
        rows.append(f"  - task: {{type: text-generation}}\n    dataset: {{name: {dtype} set, type: {dtype}}}\n"
                    f"    metrics:\n    - {{type: {mtype}, value: {value}}}{extra}")
    return CARD_TMPL.format(results="\n".join(rows))


def test_model_card_all_values_at_most_one_are_fractions(tmp_path):
    r = read_bytes(tmp_path, "README.md", card(("arc", "acc", 0.54), ("hs", "acc_norm", 0.79)))
    assert [(t.scale, t.scale_inferred, round(t.error, 4)) for t in r.tasks] == [
        (Scale.FRACTION, True, 0.46), (Scale.FRACTION, True, 0.21)]


def test_model_card_one_value_over_one_makes_the_whole_card_percent(tmp_path):
    # A card reporting 0.9 % on one hard task and 54.4 % on another is a percent card: only when every
    # value is at most 1 are they fractions.
    r = read_bytes(tmp_path, "README.md", card(("arc", "acc", 54.4), ("gpqa", "acc", 0.9)))
    assert [(t.scale, t.scale_inferred, round(t.error, 4)) for t in r.tasks] == [
        (Scale.PERCENT, True, 0.456), (Scale.PERCENT, True, 0.991)]
    # ... but 0.9 may as well be a fraction (90 %) the card mixed in: never silently 0.9 %.
    warnings = [n for n in r.notices if "warning:" in n]
    assert len(warnings) == 1 and warnings[0].startswith("README.md: warning: gpqa 0.9: at most 1 on a card whose ")
    assert "'91%' for 0.91" in warnings[0]


def test_model_card_of_percents_and_zero_gives_no_mixed_scale_warning(tmp_path):
    # 0 is 0 % and a fraction of 0 alike: nothing is ambiguous.
    r = read_bytes(tmp_path, "README.md", card(("arc", "acc", 54.4), ("aime", "acc", 0)))
    assert [round(t.error, 4) for t in r.tasks] == [0.456, 1.0]
    assert not [n for n in r.notices if "warning:" in n]


def test_model_card_declared_fraction_with_percent_values_is_refused(tmp_path):
    refused(read_bytes, tmp_path, "README.md", card(("arc", "acc", 54.4)), scale=Scale.FRACTION, match="outside 0..1")


def test_model_card_duplicate_task_is_refused(tmp_path):
    refused(read_bytes, tmp_path, "README.md", card(("arc", "acc", 54.4), ("arc", "acc", 55.0)),
            match="appears twice")


def test_model_card_duplicate_key_is_refused(tmp_path):
    text = "---\nlicense: mit\nmodel-index: []\nlicense: apache-2.0\n---\n"
    refused(read_bytes, tmp_path, "README.md", text, match="duplicate key 'license' (first at line 2)")


def test_model_card_alias_bomb_is_refused_quickly(tmp_path):
    lines = ["---", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    lines += ["model-index: *i", "---", ""]
    msg = refused(read_bytes, tmp_path, "README.md", "\n".join(lines), match="anchor")
    assert "line 2" in msg


def test_model_card_alias_without_anchor_error_is_refused(tmp_path):
    refused(read_bytes, tmp_path, "README.md", "---\nmodel-index: *x\n---\n", match="front matter")


def test_model_card_python_tag_is_refused(tmp_path):
    text = "---\nmodel-index: !!python/object/apply:os.system ['echo pwned']\n---\n"
    refused(read_bytes, tmp_path, "README.md", text, match="!!python/object")


@pytest.mark.parametrize("text, match", [
    ("# just a readme\n", "no YAML front matter"),
    ("---\nlicense: mit\n", "never closed"),
    ("---\nlicense: mit\n---\n", "has no model-index"),
    ("---\n- a\n- b\n---\n", "expected a mapping"),
    ("---\nmodel-index: [{name: a, results: []}, {name: b, results: []}]\n---\n", "2 models"),
    ("---\nmodel-index: [{name: a, results: [{dataset: {name: x}, metrics: [{type: acc, value: high}]}]}]\n---\n",
     "not a number"),
    ("---\nmodel-index: [{name: a, results: [{dataset: {name: x}, metrics: [{type: acc, value: .nan}]}]}]\n---\n",
     "not finite"),
    ("---\nmodel-index: [{name: a, results: [{dataset: {}, metrics: [{type: acc, value: 1}]}]}]\n---\n",
     "neither type nor name"),
    ("---\nmodel-index: [{name: a, results: [{dataset: {name: x}}]}]\n---\n", "metrics"),
    ("---\nmodel-index: [\n---\n", "invalid YAML"),
    ("---\nmodel-index: " + "[" * 20000 + "\n---\n", "front matter"),
    ("---\nx: " + "9" * 5000 + "\n---\n", "front matter"),
])
def test_model_card_malformed_is_refused(tmp_path, text, match):
    refused(read_bytes, tmp_path, "README.md", text, match=match)


def test_model_card_front_matter_over_the_cap_is_refused(tmp_path):
    text = "---\nlicense: mit\nnote: '" + "x" * (1024 * 1024 + 10) + "'\n---\n"
    refused(read_bytes, tmp_path, "README.md", text, match="limit")


def test_model_card_quoted_numbers_and_crlf_are_read(tmp_path):
    text = card(("arc", "acc", "'54.4'")).replace("\n", "\r\n")
    assert read_bytes(tmp_path, "README.md", text).tasks[0].error == pytest.approx(0.456)


# --- csv / json / inline -------------------------------------------------------------------------

def test_csv_fixture_with_bom_crlf_quoted_task_and_blank_stderr():
    r = read_fixture("scores.csv")
    tasks = by_task(r)
    assert list(tasks) == ["arc_challenge", "hellaswag", "mmlu, 5-shot", "winogrande"]
    assert tasks["mmlu, 5-shot"].stderr is None
    t = tasks["arc_challenge"]
    assert (t.metric, t.error, t.stderr, t.scale, t.scale_inferred) == (
        "score", pytest.approx(0.4556), 0.0146, Scale.FRACTION, True)


def test_csv_declared_percent_converts_score_and_stderr():
    t = by_task(read_fixture("scores-percent.csv", scale=Scale.PERCENT))["arc_challenge"]
    assert (t.score, t.error, t.stderr, t.scale, t.scale_inferred) == (
        54.44, pytest.approx(0.4556), pytest.approx(0.0146), Scale.PERCENT, False)


def test_csv_percent_values_without_scale_suggest_percent():
    msg = refused(read_fixture, "scores-percent.csv", match="set scale: percent")
    assert msg.startswith("scores-percent.csv: line 2 (arc_challenge): score 54.44 is outside 0..1")


@pytest.mark.parametrize("text, match", [
    ("arc,0.5\n", "is not a header"),
    ("task,value\narc,0.5\n", "unknown column 'value'"),
    ("task\narc\n", "lacks the score column"),
    ("task,score,sterr\narc,0.5,0.1\n", "unknown column 'sterr'"),
    ("task,score\narc,0.5,0.1\n", "line 2"),
    ("task,score\narc,0.5\narc,0.6\n", "appears twice (also on line 2)"),
    ("task,score\narc,high\n", "not a number"),
    ("task,score\narc,nan\n", "not finite"),
    ("task,score\narc,-0.1\n", "outside 0..1"),
    ("task,score\n,0.5\n", "task name is empty"),
    ("", "is empty"),
    ("task,score\n", "holds no tasks"),
    ("task,score\n\"arc,0.5\n", "line"),
])
def test_csv_malformed_is_refused(tmp_path, text, match):
    refused(read_bytes, tmp_path, "s.csv", text, match=match)


def test_csv_percent_over_100_is_refused(tmp_path):
    refused(read_bytes, tmp_path, "s.csv", "task,score\narc,101\n", scale=Scale.PERCENT, match="outside 0..100")


def test_json_fixture_mixes_plain_and_object_values():
    tasks = by_task(read_fixture("scores.json"))
    assert [(t.task, t.stderr) for t in tasks.values()] == [
        ("arc_challenge", 0.0146), ("hellaswag", None), ("mmlu", None), ("winogrande", None)]


@pytest.mark.parametrize("text, match", [
    ('{"arc": 0.5, "arc": 0.6}', "key 'arc': appears twice"),
    ('{"arc": true}', "a boolean, not a number"),
    ('{"arc": {"score": 0.5, "sd": 0.1}}', "unknown key 'sd'"),
    ('{"arc": {"stderr": 0.1}}', "has no score"),
    ('{"arc": {"score": 0.5, "stderr": "N/A"}}', "arc.stderr"),
    ('[0.5]', "top level"),
    ('{"arc": 1e400}', "not finite"),
    ('{"arc": 1' + "0" * 5000 + "}", "number that cannot be read"),
])
def test_json_malformed_is_refused(tmp_path, text, match):
    refused(read_bytes, tmp_path, "s.json", text, match=match)


def test_json_format_on_lmeval_output_hints_at_lmeval(tmp_path):
    refused(read_bytes, tmp_path, "r.json", json.dumps({"results": {"t": {"acc,none": 0.5}}}), format="json",
            match="format: lm-eval")


def test_inline_scores(tmp_path):
    src = EvalSource(scores={"arc": 54.4, "hs": {"score": 79.1, "stderr": 0.4}}, scale=Scale.PERCENT,
                     field="models[1].evals[0]")
    r = read_eval(src, tmp_path, tmp_path, "idm.yaml", {})
    assert [(t.task, t.source, round(t.error, 3), t.stderr) for t in r.tasks] == [
        ("arc", "inline", 0.456, None), ("hs", "inline", 0.209, pytest.approx(0.004))]


def test_inline_errors_name_the_manifest_field(tmp_path):
    src = EvalSource(scores={"arc": 54.4}, field="models[1].evals[0]")
    refused(read_eval, src, tmp_path, tmp_path, "idm.yaml", {}, match="idm.yaml: models[1].evals[0].scores: arc")
    src = EvalSource(scores={"arc": 0.5}, field="models[1].evals[0]")
    refused(read_eval, src, tmp_path, tmp_path, "idm.yaml", {"arc": "acc"}, match="metrics are: score")


# --- read_eval: detection, paths, hostile files --------------------------------------------------

@pytest.mark.parametrize("name, content, first", [
    ("r.json", json.dumps({"results": {"t": {"acc,none": 0.5}}}), "acc,none"),
    ("s.json", json.dumps({"t": 0.5}), "score"),
    ("s.CSV", "task,score\nt,0.5\n", "score"),
    ("README.md", card(("t", "acc", 50)), "acc"),
])
def test_format_is_detected(tmp_path, name, content, first):
    assert read_bytes(tmp_path, name, content).tasks[0].metric == first


def test_explicit_format_wins_over_the_file_name(tmp_path):
    content = json.dumps({"results": {"t": {"acc,none": 0.5}}})
    assert read_bytes(tmp_path, "results.txt", content, format="lm-eval").tasks[0].metric == "acc,none"


def test_unknown_suffix_lists_the_formats(tmp_path):
    # the whole line, one "name (what it is)" per entry of the format registry, in its order
    msg = refused(read_bytes, tmp_path, "results.txt", "t,0.5", match="results.txt: not a results format")
    assert msg == (
        "results.txt: not a results format idm-gate reads; it reads lm-eval (lm-evaluation-harness results JSON), "
        "lighteval (results JSON), mteb (one JSON per task), opencompass (summary CSV dataset,version,metric,mode,"
        "<model>), model-index (a model card's README.md), csv (task,score[,stderr]), json ({task: score}), "
        "confusion-matrix (CSV: a header of class labels, a row per true class), classification-report "
        "(scikit-learn's classification_report(output_dict=True) JSON); set format: in the manifest if the file "
        "is one of them")


def test_unknown_format_is_refused(tmp_path):
    # (an unknown scale: is refused where it is parsed, by the manifest's schema: test_manifest.py)
    msg = refused(read_bytes, tmp_path, "s.csv", "task,score\nt,0.5\n", match="unknown format", format="yaml")
    assert msg == ("idm.yaml: models[0].evals[0].format: unknown format 'yaml'; use one of lm-eval, lighteval, "
                   "mteb, opencompass, model-index, csv, json, confusion-matrix, classification-report, or leave "
                   "it out to detect it")


def test_the_format_registry_declares_each_format_once():
    # the scale convention is each tool's own: lm-eval, lighteval and mteb write fractions, OpenCompass's
    # summary percentages; the JSON formats (and only they) also read a document already parsed
    assert FORMATS == tuple(EVAL_FORMATS) and all(k == f.name for k, f in EVAL_FORMATS.items())
    assert {k: f.scale_convention for k, f in EVAL_FORMATS.items() if f.scale_convention} == {
        "lm-eval": Scale.FRACTION, "lighteval": Scale.FRACTION, "mteb": Scale.FRACTION, "opencompass": Scale.PERCENT}
    assert FRACTION_FORMATS == ("lm-eval", "lighteval", "mteb")
    assert {k for k, f in EVAL_FORMATS.items() if f.read_doc} == {"lm-eval", "lighteval", "mteb", "json",
                                                                   "classification-report"}


def test_path_escaping_the_repository_is_refused(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (tmp_path / "outside.csv").write_text("task,score\nt,0.5\n")
    src = EvalSource(path="../outside.csv", field="models[0].evals[0]")
    refused(read_eval, src, repo, repo, "idm.yaml", {}, match="outside the repository")
    os.symlink(tmp_path / "outside.csv", repo / "link.csv")
    src = EvalSource(path="link.csv", field="models[0].evals[0]")
    refused(read_eval, src, repo, repo, "idm.yaml", {}, match="outside the repository")
    src = EvalSource(path="/etc/passwd", field="models[0].evals[0]")
    refused(read_eval, src, repo, repo, "idm.yaml", {}, match="absolute path")


def test_missing_file_and_directory_are_refused(tmp_path):
    refused(read_eval, EvalSource(path="nope.csv", field="e"), tmp_path, tmp_path, "idm.yaml", {}, match="does not exist")
    (tmp_path / "d.csv").mkdir()
    refused(read_eval, EvalSource(path="d.csv", field="e"), tmp_path, tmp_path, "idm.yaml", {}, match="directory")


def test_path_and_scores_together_or_neither_are_refused(tmp_path):
    refused(read_eval, EvalSource(field="e"), tmp_path, tmp_path, "idm.yaml", {}, match="exactly one")
    refused(read_eval, EvalSource(path="a.csv", scores={"t": 0.5}, field="e"), tmp_path, tmp_path, "idm.yaml", {},
            match="exactly one")


def test_truncated_json_reports_line_and_column(tmp_path):
    text = (DATA / LMEVAL).read_text(encoding="utf-8")
    for cut in (500, 501, 1000, 4000, len(text) - 1):
        msg = refused(read_bytes, tmp_path, "r.json", text[:cut], match="truncated")
        assert f"line {text[:cut].rstrip().count(chr(10)) + 1} column " in msg


def test_deeply_nested_json_is_refused(tmp_path):
    refused(read_bytes, tmp_path, "r.json", "[" * 100_000 + "]" * 100_000, match="nested too deeply")
    refused(read_bytes, tmp_path, "r.json", '{"results": ' + "[" * 100_000, match="r.json")


def test_binary_garbage_is_refused(tmp_path):
    garbage = bytes(range(256)) * 4
    for name in ("r.json", "README.md", "s.csv"):
        refused(read_bytes, tmp_path, name, garbage, match="UTF-8")
    refused(read_bytes, tmp_path, "s.csv", b"task,score\n\x00,0.5\n", match="NUL")


def test_every_fixture_notice_is_one_line():
    for path in (LMEVAL, CARD, CARD_V2, "scores.csv", "scores.json"):
        for n in read_fixture(path).notices:
            assert "\n" not in n and n.startswith(path + ": ")


# --- rates ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, kind", [
    ("acc", rates.HIGHER), ("acc_norm", rates.HIGHER), ("exact_match", rates.HIGHER), ("pass@1", rates.HIGHER),
    ("Normalized Accuracy", rates.HIGHER), ("exact match", rates.HIGHER), ("prompt_level_strict_acc", rates.HIGHER),
    ("mc2", rates.HIGHER), ("f1", rates.HIGHER), ("top1_error", rates.LOWER), ("error_rate", rates.LOWER),
    ("wer", rates.DECLARED_ONLY), ("Test WER", rates.DECLARED_ONLY), ("word_perplexity", rates.NOT_RATE),
    ("bits_per_byte", rates.NOT_RATE), ("bleu", rates.NOT_RATE), ("chrf", rates.NOT_RATE), ("ter", rates.NOT_RATE),
    ("rouge1_max", rates.NOT_RATE), ("acc_stderr", rates.NOT_RATE), ("mcc", rates.NOT_RATE),
    ("mean_squared_error", rates.NOT_RATE), ("bypass", rates.UNKNOWN),
])
def test_rate_classification(name, kind):
    assert rates.classify(name) == kind


def test_primary_rule_order():
    names = ["f1", "exact_match", "truthfulqa_mc1", "acc", "mc2", "truthfulqa_mc2", "acc_norm", "pass@1",
             "accuracy", "zz_acc", "error"]
    assert sorted(names, key=rates.rank) == [
        "acc_norm", "acc", "accuracy", "mc2", "truthfulqa_mc2", "exact_match", "pass@1", "f1", "truthfulqa_mc1",
        "zz_acc", "error"]
    filters = ["flexible-extract", "strict-match", "none", "alpha"]
    assert sorted(filters, key=rates.filter_rank) == ["none", "strict-match", "alpha", "flexible-extract"]


# --- properties ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _read_any(folder: Path, name: str, data: bytes, **kw):
    (folder / name).write_bytes(data)
    try:
        r = read_eval(EvalSource(path=name, field="models[0].evals[0]", **kw), folder, folder, "idm.yaml", {})
    except InputError as e:
        assert "\n" not in str(e)
        return None
    assert isinstance(r, EvalResult)
    for t in r.tasks:
        assert 0.0 <= t.error <= 1.0 and (t.stderr is None or t.stderr >= 0)
    return r


PREFIXES = {"r.json": [b"", b'{"results": {', b'{"results": {"t": {"acc,none": '], "README.md": [b"", b"---\n",
            b"---\nmodel-index:\n- name: m\n  results:\n"], "s.csv": [b"", b"task,score\n", b"task,score,stderr\nt,"]}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(PREFIXES)), prefix_i=st.integers(0, 2), body=st.binary(max_size=300))
def test_any_bytes_give_a_result_or_an_input_error(scratch, name, prefix_i, body):
    _read_any(scratch, name, PREFIXES[name][prefix_i] + body)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)
metric_keys = st.sampled_from(["acc,none", "acc_norm,none", "acc_stderr,none", "exact_match,strict-match",
                               "word_perplexity,none", "alias", "error", "bypass,none", "wer"])
entries = st.dictionaries(metric_keys, json_values | st.floats(0, 1), max_size=5)
task_names = st.sampled_from(["a", "b", "g", "mmlu"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(results=st.dictionaries(task_names, entries, max_size=4),
       groups=st.dictionaries(task_names, st.lists(task_names, max_size=3), max_size=3),
       hib=st.dictionaries(task_names, st.dictionaries(st.sampled_from(["acc", "error", "bypass"]), json_values,
                                                        max_size=2), max_size=2),
       extra=st.dictionaries(st.sampled_from(["groups", "group_subtasks", "higher_is_better"]), json_values, max_size=1))
def test_any_lmeval_shaped_document_gives_a_result_or_an_input_error(scratch, results, groups, hib, extra):
    doc = {"results": results, "group_subtasks": groups, "higher_is_better": hib, **extra}
    _read_any(scratch, "r.json", json.dumps(doc).encode())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scores=json_values, scale=st.sampled_from([None, *Scale]))
def test_any_inline_scores_give_a_result_or_an_input_error(scratch, scores, scale):
    try:
        r = read_eval(EvalSource(scores=scores, scale=scale, field="e"), scratch, scratch, "idm.yaml", {})
    except InputError:
        return
    assert all(0.0 <= t.error <= 1.0 for t in r.tasks)


def test_lmeval_override_on_a_group_counted_through_subtasks_says_so(tmp_path):
    doc = {"results": {"g": {"alias": "g"}, "t": {"acc,none": 0.5}}, "group_subtasks": {"g": ["t"]}}
    refused(read_bytes, tmp_path, "r.json", json.dumps(doc), {"g": "acc"}, match="counted through its subtasks")


def test_overrides_for_tasks_not_in_the_source_are_left_to_the_caller():
    assert len(read_fixture(LMEVAL, {"not_here": "acc"}).tasks) == 6


def test_lmeval_040_file_without_group_subtasks_counts_mmlu_once(tmp_path):
    # lm-eval 0.4.0 and 0.4.1 wrote results and groups but neither group_subtasks nor higher_is_better;
    # a group's subtasks follow it in results with the alias indented, as the harness prints its table.
    doc = lmeval_doc()
    del doc["group_subtasks"], doc["higher_is_better"]
    tasks = by_task(read_bytes(tmp_path, "r.json", json.dumps(doc)))
    assert list(tasks) == ["arc_challenge", "gsm8k", "hellaswag", "mmlu", "truthfulqa_mc2", "winogrande"]
    assert tasks["mmlu"].error == pytest.approx(1 - 0.5571143711722546)
