"""Eval files as the field's tools write them: lighteval, MTEB, OpenCompass, model cards, partial runs.

Each fixture follows the real tool's output field for field (see the docstring of each reader for the
source of the shape); every expected value is worked out by hand in the test.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idm_gate.data import EvalSource, Scale, Verdict
from idm_gate.errors import InputError
from idm_gate.evals import FORMATS, detect_format, read_eval

DATA = Path(__file__).parents[1] / "data" / "evals"
LIGHTEVAL_V1 = "lighteval/results_2024-01-04T13-27-32.660899.json"   # Open LLM Leaderboard v1 file
LIGHTEVAL_SMOKE = "lighteval/results_2024-08-20T10-02-41.536718.json"  # lighteval 0.x, --max_samples 10

# The issue's example, exactly: read before as 4 tasks (Pe 0.4629); right: 2 tasks, Pe 0.471868.
ISSUE_LIGHTEVAL = {"results": {
    "all": {"acc": 0.6241, "acc_stderr": 0.0327, "acc_norm": 0.6299, "acc_norm_stderr": 0.0334},
    "harness|arc:challenge|25": {"acc": 0.5571672354948806, "acc_stderr": 0.0145,
                                 "acc_norm": 0.5938566552901023, "acc_norm_stderr": 0.0144},
    "harness|hendrycksTest-abstract_algebra|5": {"acc": 0.31, "acc_stderr": 0.0465, "acc_norm": 0.31,
                                                 "acc_norm_stderr": 0.0465},
    "harness|hendrycksTest-anatomy|5": {"acc": 0.6148148148148148, "acc_stderr": 0.0420,
                                        "acc_norm": 0.6148148148148148, "acc_norm_stderr": 0.0420}}}


def read_fixture(path: str, overrides=None, **kw):
    return read_eval(EvalSource(path=path, field="models[0].evals[0]", **kw), DATA, DATA, "idm.yaml", overrides or {})


def read_text(tmp_path: Path, name: str, content: str | bytes, overrides=None, **kw):
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return read_eval(EvalSource(path=name, field="models[0].evals[0]", **kw), tmp_path, tmp_path, "idm.yaml",
                     overrides or {})


def refused(fn, *args, match: str, **kw) -> str:
    with pytest.raises(InputError) as info:
        fn(*args, **kw)
    msg = str(info.value)
    assert "\n" not in msg and "Traceback" not in msg, msg
    assert match in msg, msg
    return msg


def by_task(result) -> dict:
    return {t.task: t for t in result.tasks}


def measure(tmp_path: Path, evals_yaml: str, *, fmt: str = "json") -> subprocess.CompletedProcess:
    """Run ``idm-gate measure`` in a subprocess on a one-model manifest of 1 GB (so density = -ln Pe)."""
    (tmp_path / "idm.yaml").write_text(
        "version: 1\nmodels:\n  - name: m\n    size_bytes: 1000000000\n    evals:\n" + evals_yaml, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "idm_gate", "measure", "-f", fmt], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)


def measured(tmp_path: Path, evals_yaml: str) -> dict:
    p = measure(tmp_path, evals_yaml)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["models"][0]


# --- lighteval -----------------------------------------------------------------------------------

def test_lighteval_issue_example_is_two_tasks_through_the_cli(tmp_path):
    (tmp_path / "results_2024-01-04T13-27-32.660899.json").write_text(json.dumps(ISSUE_LIGHTEVAL))
    m = measured(tmp_path, "      - path: results_2024-01-04T13-27-32.660899.json\n")
    tasks = {t["name"]: t for t in m["tasks"]}
    # 'all' is lighteval's aggregate, never a task; the two hendrycksTest subjects are one benchmark.
    assert list(tasks) == ["harness|arc:challenge|25", "harness|hendrycksTest|5"]
    # arc: acc_norm 0.5938566552901023 -> error 1 - 0.5938566552901023 = 0.4061433447098977
    assert tasks["harness|arc:challenge|25"]["metric"] == "acc_norm"
    assert tasks["harness|arc:challenge|25"]["error"] == pytest.approx(0.4061433447098977, abs=1e-12)
    # MMLU counts by acc (the leaderboard's choice): (0.31 + 0.6148148148148148) / 2 = 0.4624074074074074
    # -> error 0.5375925925925926; its stderr: sqrt(0.0465^2 + 0.0420^2) / 2 = 0.0313298979
    mmlu = tasks["harness|hendrycksTest|5"]
    assert mmlu["metric"] == "acc"
    assert mmlu["error"] == pytest.approx(0.5375925925925926, abs=1e-12)
    assert mmlu["stderr"] == pytest.approx(math.sqrt(0.0465 ** 2 + 0.0420 ** 2) / 2, abs=1e-12)
    # Pe = (0.4061433447098977 + 0.5375925925925926) / 2 = 0.47186796865124514 (the issue: 0.471868)
    assert m["error_rate"] == pytest.approx(0.471868, abs=5e-7)
    assert m["density"] == pytest.approx(-math.log(0.47186796865124514), rel=1e-9)
    assert any("mean of 2 subjects" in n for n in m["notices"])


# lighteval before 0.5 keys results "suite|task|num_fewshot|truncate_few_shots" and names TruthfulQA's
# metrics truthfulqa_mc1/truthfulqa_mc2 (as in lighteval's own tests/reference_scores for gpt2);
# config_tasks is keyed "suite|task".
LIGHTEVAL_04 = {
    "config_general": {"model_name": "gpt2", "max_samples": None},
    "results": {
        "lighteval|arc:challenge|25|0": {"acc": 0.20051194539249148, "acc_stderr": 0.011700318050499373,
                                         "acc_norm": 0.21928327645051193, "acc_norm_stderr": 0.012091245787615723},
        "lighteval|mmlu:abstract_algebra|5|0": {"acc": 0.21, "acc_stderr": 0.040936018074033256},
        "lighteval|mmlu:college_chemistry|5|0": {"acc": 0.2, "acc_stderr": 0.04020151261036846},
        "lighteval|mmlu:computer_security|5|0": {"acc": 0.16, "acc_stderr": 0.03684529491774709},
        "lighteval|truthfulqa:mc|0|0": {"truthfulqa_mc1": 0.22766217870257038, "truthfulqa_mc1_stderr": 0.01467925503211107,
                                        "truthfulqa_mc2": 0.40693581786045147, "truthfulqa_mc2_stderr": 0.014921948720110469},
        "lighteval|gsm8k|5|0": {"qem": 0.006065200909780136, "qem_stderr": 0.0021386703014604626},
        "lighteval|mmlu:_average|5|0": {"acc": 0.19, "acc_stderr": 0.04},
        "all": {"acc": 0.2, "acc_stderr": 0.03},
    },
    "config_tasks": {"lighteval|gsm8k": {"effective_num_docs": 10, "original_num_docs": 1319}},
}


def test_lighteval_before_0_5_keys_with_truncation_flag_group_subjects_and_read_truthfulqa(tmp_path):
    (tmp_path / "results_2024-03-01T10-00-00.000000.json").write_text(json.dumps(LIGHTEVAL_04))
    m = measured(tmp_path, "      - path: results_2024-03-01T10-00-00.000000.json\n")
    tasks = {t["name"]: t for t in m["tasks"]}
    # MMLU's three subjects are one benchmark (not three tasks); _average and all are never tasks.
    assert list(tasks) == ["lighteval|arc:challenge|25|0", "lighteval|mmlu|5|0", "lighteval|truthfulqa:mc|0|0",
                           "lighteval|gsm8k|5|0"]
    assert {k: t["metric"] for k, t in tasks.items()} == {
        "lighteval|arc:challenge|25|0": "acc_norm", "lighteval|mmlu|5|0": "acc",
        "lighteval|truthfulqa:mc|0|0": "truthfulqa_mc2", "lighteval|gsm8k|5|0": "qem"}
    # errors: arc 1 - 0.21928327645051193 = 0.78071672354948807
    #         mmlu 1 - (0.21 + 0.2 + 0.16) / 3 = 1 - 0.19 = 0.81
    #         truthfulqa 1 - 0.40693581786045147 = 0.59306418213954853
    #         gsm8k 1 - 0.006065200909780136 = 0.993934799090219864
    # Pe = (0.78071672354948807 + 0.81 + 0.59306418213954853 + 0.993934799090219864) / 4 = 0.79442892619481412
    assert tasks["lighteval|mmlu|5|0"]["error"] == pytest.approx(0.81, abs=1e-12)
    assert m["error_rate"] == pytest.approx(0.79442892619481412, abs=1e-12)
    # config_tasks keyed "suite|task" still marks the partial gsm8k run
    assert tasks["lighteval|gsm8k|5|0"]["partial"] == "10 of 1319 examples"


def test_lighteval_leaderboard_v1_file_counts_each_benchmark_once():
    r = read_fixture(LIGHTEVAL_V1)
    tasks = by_task(r)
    assert list(tasks) == ["harness|arc:challenge|25", "harness|hellaswag|10", "harness|hendrycksTest|5",
                           "harness|truthfulqa:mc|0", "harness|winogrande|5", "harness|gsm8k|5"]
    assert {k: t.metric for k, t in tasks.items()} == {
        "harness|arc:challenge|25": "acc_norm", "harness|hellaswag|10": "acc_norm", "harness|hendrycksTest|5": "acc",
        "harness|truthfulqa:mc|0": "mc2", "harness|winogrande|5": "acc", "harness|gsm8k|5": "acc"}
    # MMLU over its three subjects: (0.31 + 0.6148148148148148 + 0.6513157894736842) / 3 = 0.5253768680961663
    assert tasks["harness|hendrycksTest|5"].score == pytest.approx(0.5253768680961663, abs=1e-12)
    assert tasks["harness|hendrycksTest|5"].error == pytest.approx(0.4746231319038337, abs=1e-12)
    # truthfulqa: mc2 0.435601924823795 -> 0.564398075176205; hellaswag: 1 - 0.826229834694284 = 0.173770165305716
    assert tasks["harness|truthfulqa:mc|0"].error == pytest.approx(0.564398075176205, abs=1e-12)
    assert tasks["harness|hellaswag|10"].error == pytest.approx(0.173770165305716, abs=1e-12)
    assert tasks["harness|gsm8k|5"].stderr == pytest.approx(0.01314694594139722)
    assert all(t.partial is None for t in r.tasks)  # max_samples null, config_tasks are strings in v1 files
    assert not any("partial run" in n for n in r.notices)


def test_lighteval_smoke_run_reads_subjects_not_the_average_and_says_it_is_partial():
    r = read_fixture(LIGHTEVAL_SMOKE)
    tasks = by_task(r)
    # 'leaderboard|mmlu:_average|5' and 'all' are lighteval's aggregates: the subjects are read instead.
    assert list(tasks) == ["leaderboard|arc:challenge|25", "leaderboard|mmlu|5"]
    # mmlu: (0.3 + 0.5) / 2 = 0.4 -> error 0.6; stderr sqrt(0.15275252316519466^2 + 0.16666666666666666^2) / 2
    assert tasks["leaderboard|mmlu|5"].error == pytest.approx(0.6, abs=1e-12)
    assert tasks["leaderboard|mmlu|5"].stderr == pytest.approx(
        math.sqrt(0.15275252316519466 ** 2 + 0.16666666666666666 ** 2) / 2, abs=1e-12)
    # max_samples 10: arc scored 10 of 1172 examples, mmlu 10 + 10 of 100 + 135.
    assert tasks["leaderboard|arc:challenge|25"].partial == "10 of 1172 examples"
    assert tasks["leaderboard|mmlu|5"].partial == "20 of 235 examples"
    notice = next(n for n in r.notices if "partial run" in n)
    assert "smoke test" in notice and "max_samples is 10" in notice and "10 of 1172" in notice


def test_lighteval_metric_override_applies_to_the_benchmark_not_a_subject(tmp_path):
    doc = {"results": {"all": {"acc": 0.5},
                       "lighteval|mmlu:anatomy|0": {"acc": 0.5, "acc_norm": 0.25},
                       "lighteval|mmlu:virology|0": {"acc": 0.7, "acc_norm": 0.75}}}
    # default for MMLU: acc -> (0.5 + 0.7) / 2 = 0.6; asked for acc_norm -> (0.25 + 0.75) / 2 = 0.5
    assert read_text(tmp_path, "r.json", json.dumps(doc)).tasks[0].score == pytest.approx(0.6)
    t = read_text(tmp_path, "r.json", json.dumps(doc), {"lighteval|mmlu|0": "acc_norm"}).tasks[0]
    assert (t.metric, t.score) == ("acc_norm", pytest.approx(0.5))
    refused(read_text, tmp_path, "r.json", json.dumps(doc), {"lighteval|mmlu:anatomy|0": "acc_norm"},
            match="name the benchmark instead")


def test_lighteval_subject_missing_the_benchmark_metric_is_named(tmp_path):
    doc = {"results": {"leaderboard|arc:challenge|0": {"acc": 0.5, "acc_norm": 0.6},
                       "leaderboard|arc:easy|0": {"acc": 0.7}}}
    refused(read_text, tmp_path, "r.json", json.dumps(doc), match="results.leaderboard|arc:easy|0['acc_norm']: missing")


def test_lighteval_newest_keys_without_suite_and_generative_metrics(tmp_path):
    # lighteval 0.10+: 'task|num_fewshot' keys; gsm8k scored by extractive_match; config_tasks keyed with the few-shot.
    doc = {"config_general": {"max_samples": None, "model_name": "m"},
           "results": {"gsm8k|0": {"extractive_match": 0.25, "extractive_match_stderr": 0.0},
                       "all": {"extractive_match": 0.25}},
           "config_tasks": {"gsm8k|0": {"generation_size": 8192, "original_num_docs": 1319,
                                        "effective_num_docs": 1319}}}
    r = read_text(tmp_path, "results_2025-10-05T14-34-11.098252.json", json.dumps(doc))
    assert [(t.task, t.metric, t.error, t.partial) for t in r.tasks] == [("gsm8k|0", "extractive_match", 0.75, None)]


@pytest.mark.parametrize("doc, fmt", [
    (ISSUE_LIGHTEVAL, "lighteval"),
    ({"config_general": {}, "results": {}}, "lighteval"),
    ({"results": {"arc_easy": {"acc,none": 0.5}}}, "lm-eval"),
    ({"arc": 0.5, "mmlu": {"score": 0.6, "stderr": 0.01}}, "json"),
    ({"task_name": "STS12", "scores": {"test": []}, "dataset_revision": "a0d554a64d88156834ff5ae9920b964011b16384"},
     "mteb"),
    ({"mteb_dataset_name": "STS12", "mteb_version": "1.0.3.dev0", "test": {"cos_sim": {"spearman": 0.7}}}, "mteb"),
    ({"name": "intfloat/e5-small-v2", "revision": "dca8b1a9dae0d4575df2bf423a5edb485a431236", "framework": []}, None),
])
def test_detect_format_from_content(doc, fmt):
    assert fmt is None or fmt in FORMATS
    assert detect_format(json.dumps(doc).encode(), "results.json") == fmt


def test_detect_format_text_formats():
    assert detect_format(b"---\nmodel-index: []\n---\n", "README.md") == "model-index"
    assert detect_format(b"\xef\xbb\xbftask,score,stderr\r\narc,0.5,\r\n", "s.txt") == "csv"
    assert detect_format(bytes(range(256)), "x.json") is None
    assert detect_format(b'{"results": ', "r.json") is None


def test_a_file_of_no_known_format_is_one_line_naming_the_formats(tmp_path):
    # mteb's model_meta.json sits beside the task files; it holds no scores.
    text = (DATA / "mteb/new/model_meta.json").read_text()
    msg = refused(read_text, tmp_path, "model_meta.json", text, match="model_meta.json: not a results format")
    assert "revision" not in msg  # never a complaint about an unrelated field
    for f in FORMATS:
        assert f in msg


# --- MTEB ----------------------------------------------------------------------------------------

def test_mteb_classification_file_is_its_main_score_on_test():
    r = read_fixture("mteb/new/Banking77Classification.json")
    (t,) = r.tasks
    # main_score 0.816 (the mean accuracy of the 10 experiments) -> error 1 - 0.816 = 0.184
    assert (t.task, t.metric, t.score, t.stderr) == ("Banking77Classification", "main_score", 0.816, None)
    assert t.error == pytest.approx(0.184, abs=1e-12)
    assert r.notices == ()  # accuracy is an accuracy: nothing to say


def test_mteb_multilingual_task_is_the_mean_over_subsets_with_a_notice_on_correlations():
    r = read_fixture("mteb/new/STS17.json")
    (t,) = r.tasks
    # (0.876513 + 0.771208 + 0.702964) / 3 = 2.350685 / 3 = 0.7835616666666667 -> error 0.2164383333333333
    assert t.score == pytest.approx(0.7835616666666667, abs=1e-12)
    assert t.error == pytest.approx(0.2164383333333333, abs=1e-12)
    assert any("mean of 3 subsets of the test split" in n for n in r.notices)
    assert any("cosine_spearman" in n and "not an accuracy" in n for n in r.notices)


def test_mteb_task_without_a_test_split_reads_its_only_split_and_says_so():
    r = read_fixture("mteb/new/MSMARCO.json")
    assert r.tasks[0].error == pytest.approx(1 - 0.41952, abs=1e-12)
    assert any("no test split; read on 'dev'" in n for n in r.notices)


def test_mteb_several_splits_without_test_is_refused(tmp_path):
    doc = json.loads((DATA / "mteb/new/MSMARCO.json").read_text())
    doc["scores"]["train"] = doc["scores"]["dev"]
    refused(read_text, tmp_path, "MSMARCO.json", json.dumps(doc), match="has the splits 'dev', 'train' but no 'test'")


def test_mteb_old_file_needs_its_main_metric_named():
    msg = refused(read_fixture, "mteb/old/Banking77Classification.json", match="has no main_score")
    assert "metrics: {Banking77Classification: accuracy}" in msg
    t = read_fixture("mteb/old/Banking77Classification.json", {"Banking77Classification": "accuracy"}).tasks[0]
    assert (t.metric, t.score) == ("accuracy", 0.7876623376623376)
    # per language before 1.11: (0.5541694687289846 + 0.6971082716879623) / 2 = 0.6256388702084735
    t = read_fixture("mteb/old/MassiveIntentClassification.json", {"MassiveIntentClassification": "accuracy"}).tasks[0]
    assert t.score == pytest.approx(0.6256388702084735, abs=1e-12)


def test_mteb_negative_correlation_is_refused_not_read_as_an_error_over_one(tmp_path):
    doc = json.loads((DATA / "mteb/new/STS17.json").read_text())
    for entry in doc["scores"]["test"]:
        entry["main_score"] = entry["cosine_spearman"] = -0.05
    refused(read_text, tmp_path, "STS17.json", json.dumps(doc), match="outside 0..1")


def test_mteb_files_through_the_cli(tmp_path):
    for name in ("Banking77Classification.json", "STS17.json"):
        (tmp_path / name).write_bytes((DATA / "mteb/new" / name).read_bytes())
    m = measured(tmp_path, "      - path: Banking77Classification.json\n      - path: STS17.json\n")
    assert [t["name"] for t in m["tasks"]] == ["Banking77Classification", "STS17"]
    # Pe = (0.184 + 0.2164383333333333) / 2 = 0.20021916666666667
    assert m["error_rate"] == pytest.approx(0.20021916666666667, abs=1e-12)


# --- OpenCompass ---------------------------------------------------------------------------------

OPENCOMPASS = "opencompass/summary_20240801_143012.csv"


def test_opencompass_summary_counts_datasets_not_aggregates():
    r = read_fixture(OPENCOMPASS)
    tasks = by_task(r)
    assert list(tasks) == ["ARC-c", "gsm8k", "hellaswag", "openai_humaneval"]
    assert tasks["openai_humaneval"].metric == "humaneval_pass@1"
    # percent, as OpenCompass prints: ARC-c 73.56 -> error 0.2644
    assert (tasks["ARC-c"].scale, tasks["ARC-c"].scale_inferred) == (Scale.PERCENT, True)
    assert tasks["ARC-c"].error == pytest.approx(0.2644, abs=1e-12)
    notices = " | ".join(r.notices)
    assert "not counted: mmlu (naive_average)" in notices
    assert "no result for winogrande, flores_100" in notices
    assert "mbpp: skipped: no rate metric (score: what it measures depends on the dataset" in notices


def test_opencompass_summary_through_the_cli_with_a_named_metric(tmp_path):
    (tmp_path / "summary.csv").write_bytes((DATA / OPENCOMPASS).read_bytes())
    m = measured(tmp_path, "      - path: summary.csv\n")
    # Pe = (0.2644 + 0.3821 + 0.4259 + 0.5793) / 4 = 1.6517 / 4 = 0.412925
    assert m["error_rate"] == pytest.approx(0.412925, abs=1e-12)
    (tmp_path / "idm.yaml").write_text((tmp_path / "idm.yaml").read_text() + "    metrics: {mbpp: score}\n")
    p = subprocess.run([sys.executable, "-m", "idm_gate", "measure", "-f", "json"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    # + mbpp 37.40 -> 0.626: (1.6517 + 0.626) / 5 = 0.45554
    assert json.loads(p.stdout)["models"][0]["error_rate"] == pytest.approx(0.45554, abs=1e-12)


def test_opencompass_summary_of_several_models_is_refused(tmp_path):
    text = "dataset,version,metric,mode,model-a,model-b\ngsm8k,1d7fe4,accuracy,gen,61.79,55.10\n"
    msg = refused(read_text, tmp_path, "summary.csv", text, match="has 2 model columns ('model-a', 'model-b')")
    assert msg.startswith("summary.csv: line 1: ")


def test_opencompass_header_is_not_called_a_missing_header(tmp_path):
    (tmp_path / "summary.csv").write_text("dataset,version,metric,mode,m\ngsm8k,1d7fe4,accuracy,gen,not-a-number\n")
    p = measure(tmp_path, "      - path: summary.csv\n")
    assert p.returncode == 2
    assert p.stderr.strip().endswith("summary.csv: line 2 (gsm8k, accuracy): the value 'not-a-number' is not a number; "
                                     "OpenCompass writes a number with two decimals, or '-' for no result")
    assert "not a header" not in p.stderr


# --- model cards ---------------------------------------------------------------------------------

def test_model_card_rows_sharing_a_dataset_type_are_distinct_tasks_and_other_scales_are_left_out():
    r = read_fixture("model-card-chat/README.md")
    tasks = by_task(r)
    assert list(tasks) == ["ai2_arc", "instruction-following [name=IFEval]", "instruction-following [name=FollowBench]",
                           "gsm8k [split=test]", "gsm8k [split=train]"]
    # percent card: "55.4%" -> 0.554, "51.2" (text) -> 0.512, 40.1 -> 0.401
    assert tasks["instruction-following [name=IFEval]"].error == pytest.approx(0.446, abs=1e-12)
    assert tasks["instruction-following [name=FollowBench]"].error == pytest.approx(0.488, abs=1e-12)
    assert tasks["gsm8k [split=train]"].error == pytest.approx(0.543, abs=1e-12)
    skipped = dict(r.skipped)
    assert skipped["drop"] == "not reported (value -1)"
    assert skipped["hendrycks/competition_math"] == "not reported (value None)"
    # MT-Bench's 7.34 is a 1-10 rating and the arena's 1023 an Elo rating, though typed accuracy / pass@1.
    # (its dataset type is the placeholder 'unknown', so the row is named by its dataset name)
    assert skipped["MT-Bench"].startswith("MT-Bench rates answers 1-10, not a percent")
    assert skipped["lmsys/chatbot_arena_conversations"].startswith("an Elo rating")
    assert any("README.md: MT-Bench: skipped: MT-Bench rates answers 1-10" in n for n in r.notices)


def test_model_card_chat_through_the_cli(tmp_path):
    (tmp_path / "README.md").write_bytes((DATA / "model-card-chat/README.md").read_bytes())
    m = measured(tmp_path, "      - path: README.md\n")
    # Pe = (0.3796928327645052 + 0.446 + 0.488 + 0.599 + 0.543) / 5 = 2.4556928327645052 / 5
    assert m["error_rate"] == pytest.approx(0.49113856655290104, abs=1e-12)


def test_speech_recognition_card_counts_word_error_rates_through_the_cli(tmp_path):
    (tmp_path / "README.md").write_bytes((DATA / "model-card-asr/README.md").read_bytes())
    m = measured(tmp_path, "      - path: README.md\n")
    tasks = {t["name"]: t for t in m["tasks"]}
    # WER first (CER 3.1 on 'other' is passed over); percent card: 3.4 -> 0.034, 8.6 -> 0.086
    assert {k: (t["metric"], t["error"]) for k, t in tasks.items()} == {
        "librispeech_asr:clean": ("wer", pytest.approx(0.034, abs=1e-12)),
        "librispeech_asr:other": ("wer", pytest.approx(0.086, abs=1e-12))}
    assert m["error_rate"] == pytest.approx(0.06, abs=1e-12)  # (0.034 + 0.086) / 2


def test_speech_error_rate_over_one_is_an_input_error(tmp_path):
    text = (DATA / "model-card-asr/README.md").read_text().replace("value: 8.6", "value: 1.3").replace(
        "value: 3.4", "value: 0.2").replace("value: 3.1", "value: 0.9")
    refused(read_text, tmp_path, "README.md", text, scale=Scale.FRACTION, match="error rate 1.3 is outside 0..1")


@pytest.mark.parametrize("value, fraction_card, expected", [
    ('"85%"', False, 0.15),        # percent card
    ('"85%"', True, 0.15),         # beside fractions: the % sign says its own scale
    ('"0.91"', True, 0.09),
    ("' 72.5 '", False, 0.275),
])
def test_model_card_text_values_are_read_when_unambiguous(tmp_path, value, fraction_card, expected):
    other = "0.5" if fraction_card else "50"
    text = ("---\nmodel-index:\n- name: m\n  results:\n"
            f"  - dataset: {{type: a}}\n    metrics: [{{type: acc, value: {value}}}]\n"
            f"  - dataset: {{type: b}}\n    metrics: [{{type: acc, value: {other}}}]\n---\n")
    t = by_task(read_text(tmp_path, "README.md", text))["a"]
    assert t.error == pytest.approx(expected, abs=1e-12)


def test_model_card_decimal_comma_is_refused_quoting_it(tmp_path):
    text = "---\nmodel-index:\n- name: m\n  results:\n  - dataset: {type: a}\n    metrics: [{type: acc, value: '0,912'}]\n---\n"
    msg = refused(read_text, tmp_path, "README.md", text, match="'0,912' has a decimal comma")
    assert msg.startswith("README.md: model-index[0].results[0].metrics[0].value: ")


# --- partial lm-eval runs (--limit) --------------------------------------------------------------

LMEVAL_FULL = "lm-eval/results_2025-03-14T09-26-53.118402.json"
LMEVAL_LIMIT = "lm-eval-limit/results_2025-03-15T08-12-40.553121.json"  # the same run with --limit 10


def test_lmeval_limit_run_is_a_smoke_test_with_its_sample_counts():
    r = read_fixture(LMEVAL_LIMIT)
    tasks = by_task(r)
    # n-samples: effective 10 of each task's original; mmlu sums its 8 leaves: 8 x 10 of
    # 126 + 311 + 100 + 166 + 114 + 201 + 100 + 102 = 1220
    assert {k: t.partial for k, t in tasks.items()} == {
        "arc_challenge": "10 of 1172 examples", "gsm8k": "10 of 1319 examples", "hellaswag": "10 of 10042 examples",
        "mmlu": "80 of 1220 examples", "truthfulqa_mc2": "10 of 817 examples", "winogrande": "10 of 1267 examples"}
    notice = next(n for n in r.notices if "partial run" in n)
    assert "config.limit is 10.0" in notice and "smoke test" in notice and "arc_challenge: 10 of 1172" in notice
    assert all(t.partial is None for t in read_fixture(LMEVAL_FULL).tasks)


def _measure_file(tmp_path: Path, rel: str) -> dict:
    (tmp_path / "results.json").write_bytes((DATA / rel).read_bytes())
    return measured(tmp_path, "      - path: results.json\n")


def test_sample_count_is_part_of_the_fingerprint_and_of_the_report(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "part").mkdir()
    full = _measure_file(tmp_path / "full", LMEVAL_FULL)
    part = _measure_file(tmp_path / "part", LMEVAL_LIMIT)
    # A full run's fingerprint is the metric key alone, as in reports stored before this change.
    assert full["fingerprint"]["arc_challenge"] == "acc_norm,none"
    assert all("partial" not in t for t in full["tasks"])
    assert part["fingerprint"]["arc_challenge"] == "acc_norm,none [10 of 1172 examples]"
    assert {t["name"]: t["partial"] for t in part["tasks"]}["mmlu"] == "80 of 1220 examples"
    # Pe = (0.4 + 0.7 + 0.5 + 0.6 + 0.6 + 0.3) / 6 = 3.1 / 6
    assert part["error_rate"] == pytest.approx(3.1 / 6, abs=1e-12)


def test_a_partial_run_is_not_compared_with_a_full_one(tmp_path):
    from idm_gate.compare import compare
    from idm_gate.serialize import measurement_from_dict

    def load(rel: str, sub: str):
        folder = tmp_path / sub
        folder.mkdir()
        (folder / "results.json").write_bytes((DATA / rel).read_bytes())
        (folder / "idm.yaml").write_text("version: 1\nmodels:\n  - name: m\n    size_bytes: 1000000000\n"
                                         "    evals:\n      - path: results.json\n")
        p = subprocess.run([sys.executable, "-m", "idm_gate", "measure", "-f", "json"], cwd=folder,
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return measurement_from_dict(json.loads(p.stdout), sub)  # as a stored baseline is read back

    full, part, part2 = load(LMEVAL_FULL, "full"), load(LMEVAL_LIMIT, "part"), load(LMEVAL_LIMIT, "part2")
    v = compare(part, full, {}).models[0]
    assert v.verdict is Verdict.WARN and v.delta is None  # nothing in common: not comparable, never a pass or fail
    assert any(r.startswith("sample count changed for arc_challenge (full run -> 10 of 1172 examples)")
               for r in v.reasons), v.reasons
    assert any("no task in common" in r for r in v.reasons)
    same = compare(part2, part, {}).models[0]
    assert same.verdict is Verdict.PASS and same.delta == 0 and not same.metric_changed


# --- globs ---------------------------------------------------------------------------------------

def _copy(tmp_path: Path, rel: str, to: str) -> None:
    dest = tmp_path / to
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes((DATA / rel).read_bytes())


def test_glob_takes_each_task_from_the_newest_run_and_names_the_file(tmp_path):
    _copy(tmp_path, LMEVAL_FULL, "evals/results_2025-03-14T09-26-53.118402.json")
    _copy(tmp_path, LMEVAL_LIMIT, "evals/results_2025-03-15T08-12-40.553121.json")
    m = measured(tmp_path, "      - path: evals/results_*.json\n")
    newest = "evals/results_2025-03-15T08-12-40.553121.json"
    assert {t["source"] for t in m["tasks"]} == {newest}
    assert m["error_rate"] == pytest.approx(3.1 / 6, abs=1e-12)  # the --limit run's values, as above
    assert any(n.startswith("evals/results_*.json: arc_challenge, gsm8k, hellaswag, mmlu, truthfulqa_mc2, winogrande "
                            f"from {newest}, the newest run; older results in "
                            "evals/results_2025-03-14T09-26-53.118402.json not used") for n in m["notices"]), m["notices"]


def test_glob_keeps_older_results_for_tasks_the_newest_run_did_not_cover(tmp_path):
    _copy(tmp_path, LMEVAL_FULL, "evals/results_2025-03-14T09-26-53.118402.json")
    rerun = json.loads((DATA / LMEVAL_FULL).read_text())
    rerun["results"] = {"arc_challenge": {"alias": "arc_challenge", "acc,none": 0.5, "acc_norm,none": 0.75}}
    for key in ("groups", "group_subtasks"):
        rerun.pop(key, None)
    (tmp_path / "evals/results_2025-04-01T12-00-00.000001.json").write_text(json.dumps(rerun))
    r = read_eval(EvalSource(path="evals/results_*.json", field="models[0].evals[0]"), tmp_path, tmp_path,
                  "idm.yaml", {})
    tasks = by_task(r)
    assert tasks["arc_challenge"].source == "evals/results_2025-04-01T12-00-00.000001.json"
    assert tasks["arc_challenge"].error == pytest.approx(0.25)
    assert tasks["gsm8k"].source == "evals/results_2025-03-14T09-26-53.118402.json"


def test_glob_without_run_times_in_the_names_cannot_pick_and_says_so(tmp_path):
    _copy(tmp_path, LMEVAL_FULL, "evals/a.json")
    _copy(tmp_path, LMEVAL_LIMIT, "evals/b.json")
    refused(read_eval, EvalSource(path="evals/*.json", field="models[0].evals[0]"), tmp_path, tmp_path, "idm.yaml", {},
            match="task 'arc_challenge' is in both 'evals/a.json' and 'evals/b.json'")


def test_glob_over_an_mteb_folder_skips_model_meta(tmp_path):
    for name in ("Banking77Classification.json", "STS17.json", "MSMARCO.json", "model_meta.json"):
        _copy(tmp_path, f"mteb/new/{name}", f"results/e5-small-v2/dca8b1a9/{name}")
    r = read_eval(EvalSource(path="results/**/*.json", field="models[0].evals[0]"), tmp_path, tmp_path,
                  "idm.yaml", {})
    assert sorted(by_task(r)) == ["Banking77Classification", "MSMARCO", "STS17"]
    assert any(n == "results/**/*.json: skipped results/e5-small-v2/dca8b1a9/model_meta.json: not a results format "
               "idm-gate reads" for n in r.notices), r.notices


def test_glob_matching_nothing_is_refused(tmp_path):
    refused(read_eval, EvalSource(path="evals/results_*.json", field="models[0].evals[0]"), tmp_path, tmp_path,
            "idm.yaml", {}, match="idm.yaml: models[0].evals[0].path: 'evals/results_*.json' matches no file")


# --- declared scale against the values -----------------------------------------------------------

def test_declared_percent_on_fractions_is_a_warning(tmp_path):
    r = read_fixture(LMEVAL_FULL, scale=Scale.PERCENT)
    warn = [n for n in r.notices if "warning" in n]
    assert warn == [f"{LMEVAL_FULL}: warning: scale: percent is declared, but lm-eval writes fractions (0..1), so each "
                    "is read as at most 1 % (an error rate near 1); use scale: fraction or leave scale out"]
    # arc acc_norm 0.5443686006825939 read as 0.544 %: error 1 - 0.005443686006825939 (what the warning is about)
    assert by_task(r)["arc_challenge"].error == pytest.approx(1 - 0.005443686006825939, abs=1e-12)
    r = read_text(tmp_path, "s.csv", "task,score\narc,0.54\nmmlu,0.61\n", scale=Scale.PERCENT)
    assert any("every value is at most 1" in n for n in r.notices)
    inline = read_eval(EvalSource(scores={"arc": 0.54}, scale=Scale.PERCENT, field="models[0].evals[1]"), tmp_path,
                       tmp_path, "idm.yaml", {})
    assert any(n.startswith("idm.yaml: models[0].evals[1].scores: warning: scale: percent") for n in inline.notices)
    # Real percentages under scale: percent: no warning.
    r = read_text(tmp_path, "s.csv", "task,score\narc,54.4\nmmlu,0.9\n", scale=Scale.PERCENT)
    assert not any("warning" in n for n in r.notices)


def test_declared_percent_warning_reaches_the_cli(tmp_path):
    (tmp_path / "results.json").write_bytes((DATA / LMEVAL_FULL).read_bytes())
    p = measure(tmp_path, "      - path: results.json\n        scale: percent\n", fmt="text")
    assert p.returncode == 0, p.stderr
    assert "results.json: warning: scale: percent is declared, but lm-eval writes fractions" in p.stdout + p.stderr


# --- any input: a result or one line -------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12)
_FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _any(tmp_path: Path, name: str, data: bytes, **kw) -> None:
    try:
        r = read_text(tmp_path, name, data, **kw)
    except InputError as e:
        assert "\n" not in str(e) and str(e)
        return
    for t in r.tasks:
        assert 0.0 <= t.error <= 1.0 and (t.stderr is None or t.stderr >= 0), t
    assert all("\n" not in n for n in r.notices)


@_FUZZ
@given(results=st.dictionaries(st.sampled_from(["all", "h|arc:challenge|25", "h|mmlu:a|5", "h|mmlu:b|5",
                                                "h|hendrycksTest-x|5", "h|mmlu:_average|5", "gsm8k|0", "odd"]),
                               st.dictionaries(st.sampled_from(["acc", "acc_norm", "acc_stderr", "em", "qem",
                                                                "ppl", "extractive_match"]),
                                               _json | st.floats(0, 1), max_size=3), max_size=5),
       general=_json, configs=_json)
def test_any_lighteval_shaped_document(tmp_path, results, general, configs):
    doc = {"config_general": general if isinstance(general, dict) else {"max_samples": general},
           "results": results, "config_tasks": configs}
    _any(tmp_path, "r.json", json.dumps(doc).encode())


@_FUZZ
@given(scores=st.dictionaries(st.sampled_from(["test", "dev", "validation"]),
                              st.lists(st.dictionaries(st.sampled_from(["main_score", "hf_subset", "languages",
                                                                        "accuracy"]),
                                                       _json | st.floats(-1, 1), max_size=4), max_size=3)
                              | _json, max_size=2),
       old=st.booleans(), override=st.sampled_from([None, "accuracy", "main_score", "cos_sim_spearman"]))
def test_any_mteb_shaped_document(tmp_path, scores, old, override):
    doc = ({"mteb_dataset_name": "T", "mteb_version": "1.0.0", **scores} if old
           else {"task_name": "T", "mteb_version": "1.12.0", "scores": scores})
    (tmp_path / "T.json").write_text(json.dumps(doc))
    try:
        r = read_eval(EvalSource(path="T.json", field="e"), tmp_path, tmp_path, "idm.yaml",
                      {"T": override} if override else {})
    except InputError as e:
        assert "\n" not in str(e)
        return
    assert all(0.0 <= t.error <= 1.0 for t in r.tasks)


@_FUZZ
@given(rows=st.lists(st.lists(st.sampled_from(["gsm8k", "-", "accuracy", "naive_average", "score", "61.5", "1e9",
                                               "nan", "", "gen", "x,y", '"q'] ), min_size=4, max_size=6), max_size=5))
def test_any_opencompass_rows(tmp_path, rows):
    text = "dataset,version,metric,mode,m\n" + "\n".join(",".join(r) for r in rows) + "\n"
    _any(tmp_path, "summary.csv", text.encode())


@_FUZZ
@given(values=st.lists(_json | st.sampled_from(["85%", "0,912", "-1", "", "7.5", " 0.91 ", "1e999%"]),
                       min_size=1, max_size=3),
       dtype=st.sampled_from(["a", "mt_bench", "lmsys/chatbot_arena"]),
       mtype=st.sampled_from(["acc", "wer", "cer", "elo", "pass@1"]))
def test_any_model_card_values(tmp_path, values, dtype, mtype):
    results = [{"task": {"type": "text-generation"}, "dataset": {"type": dtype, "split": f"s{i}"},
                "metrics": [{"type": mtype, "value": v}]} for i, v in enumerate(values)]
    text = "---\n" + json.dumps({"model-index": [{"name": "m", "results": results}]}) + "\n---\n"
    _any(tmp_path, "README.md", text.encode())


def test_model_card_rows_differing_in_args_or_task_type_get_those_in_their_names(tmp_path):
    def row(task: str, args: str) -> str:
        return (f"  - task: {{type: {task}}}\n    dataset: {{type: glue, config: mrpc, split: validation, args: {args}}}\n"
                "    metrics: [{type: accuracy, value: 80}]\n")
    text = ("---\nmodel-index:\n- name: m\n  results:\n" + row("text-classification", "{shots: 0}")
            + row("text-classification", "{shots: 5}") + row("zero-shot-classification", "{shots: 0}") + "---\n")
    names = [t.task for t in read_text(tmp_path, "README.md", text).tasks]
    # config and split are shared, so not named; args alone leaves rows 1 and 3 equal, so the task type
    # is added too, for all three
    assert names == ['glue [args={"shots":0}, task=text-classification]',
                     'glue [args={"shots":5}, task=text-classification]',
                     'glue [args={"shots":0}, task=zero-shot-classification]']
    same = "---\nmodel-index:\n- name: m\n  results:\n" + row("t", "{}") + row("t", "{}") + "---\n"
    refused(read_text, tmp_path, "README.md", same, match="model-index[0].results[1]: task 'glue:mrpc [split=validation, args={}, task=t, name=-]' appears twice")


def test_lmeval_limit_without_n_samples_is_tagged_with_the_limit(tmp_path):
    # lm-eval 0.4.0 and 0.4.1 write config.limit but no n-samples: the limit itself tells runs apart.
    doc = json.loads((DATA / LMEVAL_LIMIT).read_text())
    del doc["n-samples"]
    r = read_text(tmp_path, "results_2024-01-10T10-00-00.000000.json", json.dumps(doc))
    assert {t.partial for t in r.tasks} == {"limit 10.0"}
    assert any("a partial run (config.limit is 10.0)" in n for n in r.notices)
