"""examples/model-repo/: reproducible from examples/make_example.py, and readable by the real tools.

A user copies this folder to try idm-gate; if a weight file stopped opening in safetensors or gguf,
or the committed files drifted from the script that documents how they were made, they would notice.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "make_example.py"
REPO = ROOT / "examples" / "model-repo"
RESULTS = REPO / "evals" / "bonsai-mini" / "results_2026-11-01T10-00-00.123456.json"
GGUF_FILE = REPO / "weights" / "bonsai-mini" / "bonsai-mini-Q8_0.gguf"


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model-repo")
    result = subprocess.run([sys.executable, str(SCRIPT), str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def drift(committed_root: Path, fresh_root: Path) -> list[str]:
    """Files that are missing, extra or different between the two trees."""
    committed, fresh = tree(committed_root), tree(fresh_root)
    return sorted(name for name in committed.keys() | fresh.keys()
                  if committed.get(name) != fresh.get(name))


def test_rerunning_the_script_reproduces_the_committed_files_byte_for_byte(regenerated):
    assert drift(REPO, regenerated) == [], "re-run examples/make_example.py and commit the result"


def test_the_reproduction_check_notices_one_changed_byte_and_a_stray_file(regenerated, tmp_path):
    copy = tmp_path / "model-repo"
    shutil.copytree(REPO, copy)
    weights = copy / "weights" / "bonsai-mini" / "bonsai-mini-Q8_0.gguf"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    (copy / "notes.txt").write_text("left over\n")
    assert drift(copy, regenerated) == ["notes.txt", "weights/bonsai-mini/bonsai-mini-Q8_0.gguf"]


def test_the_example_stays_small():
    total = sum(len(b) for b in tree(REPO).values())
    assert total < 2_000_000, f"examples/model-repo is {total:,} bytes; keep it under 2 MB"


def test_every_manifest_path_exists():
    manifest = yaml.safe_load((REPO / "idm.yaml").read_text(encoding="utf-8"))
    assert manifest["gate"] == {"max_drop": "5%", "warn_drop": "2%", "max_throughput_drop": "10%"}
    assert [m["name"] for m in manifest["models"]] == [
        "bonsai-mini", "edge-classifier", "student-distilled", "fraud-screen"]
    for model in manifest["models"]:
        for pattern in model["artifacts"]:
            assert sorted(REPO.glob(pattern)), f"{model['name']}: {pattern} matches nothing"
        for ev in model["evals"] + model.get("bench", []):
            assert (REPO / ev["path"]).is_file(), f"{model['name']}: {ev['path']} missing"


def test_bonsai_mini_is_a_q8_0_llama_gguf():
    import gguf

    reader = gguf.GGUFReader(GGUF_FILE)

    def field(key):
        f = reader.fields[key]
        value = f.parts[f.data[0]]
        return bytes(value).decode() if f.types[0] == gguf.GGUFValueType.STRING else value[0]

    assert field("general.architecture") == "llama"
    assert field("general.name") == "Bonsai Mini"
    assert field("general.file_type") == gguf.LlamaFileType.MOSTLY_Q8_0
    assert field("general.quantization_version") == gguf.GGML_QUANT_VERSION
    assert field("llama.block_count") == 2
    types = {t.name: t.tensor_type for t in reader.tensors}
    assert types["token_embd.weight"] == gguf.GGMLQuantizationType.Q8_0
    assert types["output_norm.weight"] == gguf.GGMLQuantizationType.F32
    params = sum(int(t.n_elements) for t in reader.tensors)
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    assert results["config"]["model_num_parameters"] == params


@pytest.mark.parametrize("name,dtypes", [
    ("edge-classifier", {"F32", "I64"}),
    ("student-distilled", {"F16"}),
    ("fraud-screen", {"F32"}),
])
def test_safetensors_files_open_with_pt_metadata(name, dtypes):
    from safetensors import safe_open

    path = REPO / "weights" / name / "model.safetensors"
    with safe_open(str(path), framework="numpy") as f:
        assert f.metadata() == {"format": "pt"}
        keys = list(f.keys())
        assert keys
        seen = set()
        for key in keys:
            seen.add(str(f.get_slice(key).get_dtype()))
    assert seen == dtypes


def test_lm_eval_results_have_the_harness_layout():
    doc = json.loads(RESULTS.read_text(encoding="utf-8"))
    for key in ("results", "groups", "group_subtasks", "configs", "versions", "n-shot",
                "higher_is_better", "n-samples", "config", "git_hash", "date", "model_name",
                "lm_eval_version"):
        assert key in doc, key
    res = doc["results"]
    for task in ("arc_challenge", "hellaswag", "winogrande"):
        assert {"alias", "acc,none", "acc_stderr,none"} <= set(res[task])
        assert 0.55 <= res[task]["acc,none"] <= 0.7, task
    assert {"acc_norm,none", "acc_norm_stderr,none"} <= set(res["arc_challenge"])
    assert {"exact_match,strict-match", "exact_match,flexible-extract"} <= set(res["gsm8k"])
    assert doc["group_subtasks"]["mmlu"] == ["mmlu_stem", "mmlu_humanities"]

    # Group scores are the size-weighted means of their leaves, as the harness aggregates MMLU.
    def leaves(name):
        subs = doc["group_subtasks"].get(name, [])
        return [leaf for s in subs for leaf in leaves(s)] if subs else [name]

    for group in doc["groups"]:
        sizes = {leaf: doc["n-samples"][leaf]["effective"] for leaf in leaves(group)}
        mean = sum(res[leaf]["acc,none"] * n for leaf, n in sizes.items()) / sum(sizes.values())
        assert math.isclose(doc["groups"][group]["acc,none"], mean, rel_tol=1e-12), group
        assert res[group] == doc["groups"][group]


def test_model_card_model_index_has_the_hub_fields():
    text = (REPO / "models" / "student-distilled" / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---\n")[1])
    (entry,) = front["model-index"]
    assert entry["name"] == "student-distilled"
    assert len(entry["results"]) == 6
    for result in entry["results"]:
        assert set(result["task"]) == {"type", "name"}
        assert {"name", "type", "split", "args"} <= set(result["dataset"])
        assert set(result["source"]) == {"name", "url"}
        for metric in result["metrics"]:
            assert {"type", "value"} <= set(metric)
            assert 0 <= metric["value"] <= 100


def test_edge_classifier_csv_is_fractions():
    rows = list(csv.DictReader(io.StringIO((REPO / "evals" / "edge-classifier.csv").read_text())))
    assert [r.keys() for r in rows][0] == {"task", "score", "stderr"}
    for r in rows:
        assert 0 < float(r["score"]) < 1 and 0 < float(r["stderr"]) < 0.05


def test_bonsai_mini_llama_bench_ran_the_committed_gguf():
    import gguf

    reader = gguf.GGUFReader(GGUF_FILE)
    tests = json.loads((REPO / "bench" / "bonsai-mini.llama-bench.json").read_text(encoding="utf-8"))
    assert [(t["n_prompt"], t["n_gen"]) for t in tests] == [(512, 0), (0, 128)]
    for t in tests:
        # llama_model_size(): tensor bytes by gguf's own reader, below the file size (header + tokenizer)
        assert t["model_size"] == sum(int(x.n_bytes) for x in reader.tensors) < GGUF_FILE.stat().st_size
        assert t["model_n_params"] == sum(int(x.n_elements) for x in reader.tensors)
    tg = tests[1]
    # tokens/s of each repetition: 128e9 / ns, e.g. 128e9 / 301,442,100 = 424.6255, printed to 6 digits
    assert tg["samples_ts"][0] == 424.625
    p = subprocess.run([sys.executable, "-m", "idm_gate", "measure", "--format", "json"], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    bonsai = next(m for m in json.loads(p.stdout)["models"] if m["name"] == "bonsai-mini")
    got = {b["test"]: (b["value"], b["stderr"], b["hardware"]) for b in bonsai["bench"]}
    assert got["tg128"] == (tg["avg_ts"], pytest.approx(tg["stddev_ts"] / math.sqrt(5)), "ci-x86-4core")


def test_fraud_screen_confusion_matrix_is_pandas_crosstab_output_measured_with_its_costs():
    import pandas as pd

    text = (REPO / "evals" / "fraud-screen.csv").read_text()
    assert text == "true,fraud,legit\nfraud,880,120\nlegit,450,8550\n"  # rows true, columns predicted
    # the same matrix read back by pandas: 10,000 transactions, 1,000 of them fraud
    cm = pd.read_csv(io.StringIO(text), index_col=0)
    assert int(cm.to_numpy().sum()) == 10_000 and int(cm.loc["fraud"].sum()) == 1_000
    p = subprocess.run([sys.executable, "-m", "idm_gate", "measure", "--format", "json"], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    fraud = next(m for m in json.loads(p.stdout)["models"] if m["name"] == "fraud-screen")
    # plain: 570 mistakes / 10,000 = 0.057; cost-weighted (a miss 20, an alarm 1, over the largest cost 20):
    # (120 x 20 + 450 x 1) / (10,000 x 20) = 2,850 / 200,000 = 0.01425
    assert (fraud["plain_error_rate"], fraud["error_rate"]) == (0.057, pytest.approx(0.01425, abs=1e-15))
    # D = -ln(0.01425) / (17,504 / 1e9) = 4.2509984 / 1.7504e-5 = 242,858.7; plain -ln(0.057) / 1.7504e-5
    # = 2.8647040 / 1.7504e-5 = 163,660.0
    assert fraud["size_bytes"] == 17_504
    assert fraud["density"] == pytest.approx(242_858.7, rel=1e-6)
    assert fraud["plain_density"] == pytest.approx(163_660.0, rel=1e-6)
