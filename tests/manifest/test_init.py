"""`idm-gate init`: scan a repository, write a commented idm.yaml that validates and measures.

Every repository here is a real git repository (tests/support/gitrepo.py) holding files written by the formats'
own libraries (tests/support/modelfiles.py); init runs in a subprocess, and what it writes is then measured by
`idm-gate measure --format json`, whose sizes are checked against the files' byte counts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from gitrepo import make_repo
from modelfiles import lfs_pointer, lmeval_results, onnx_file, safetensors_file
from weightfiles import gguf_model, hf_shards


def gguf_file(path: Path, rows: int = 8, arch: str = "llama") -> Path:
    """One GGUF file (gguf-py's writer): a float32 embedding of rows x 32 and a float16 norm of 32."""
    gguf_model(path, {"token_embd.weight": np.zeros((rows, 32), dtype=np.float32),
                      "blk.0.attn_norm.weight": np.ones(32, dtype=np.float16)}, arch=arch)
    return path


def sharded_safetensors(folder: Path, shards: int, n: int = 128) -> list[Path]:
    """``shards`` shards of one float32 tensor of ``n`` values each, split by huggingface_hub's splitter."""
    tensors = {f"layers.{i}.weight": np.full(n, i, dtype=np.float32) for i in range(1, shards + 1)}
    index = hf_shards(folder, tensors, max_shard_size=n * 4)
    names = sorted(set(index["weight_map"].values()))
    assert len(names) == shards
    return [folder / f for f in names]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "model-repo"


def idm(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "idm_gate", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def measured(cwd: Path, manifest: str = "idm.yaml") -> dict:
    p = idm(cwd, "measure", "-m", manifest, "--format", "json")
    assert p.returncode == 0, p.stderr
    return {m["name"]: m for m in json.loads(p.stdout)["models"]}


def manifest_models(path: Path) -> dict:
    return {m["name"]: m for m in yaml.safe_load(path.read_text())["models"]}


def repo_with(tmp_path: Path) -> Path:
    """An empty git repository (no commit needed: init lists untracked files too)."""
    work = tmp_path / "repo"
    work.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=work, check=True)
    return work


# ---------------------------------------------------------------------------------------------
# the bundled example: init finds what the hand-written manifest lists


def test_init_on_the_example_finds_the_four_models_the_handwritten_manifest_lists(tmp_path):
    work = tmp_path / "model-repo"
    shutil.copytree(EXAMPLE, work)
    (work / "idm.yaml").unlink()
    p = idm(work, "init")
    assert p.returncode == 0, p.stderr
    assert "wrote idm.yaml with 4 models" in p.stdout
    models = manifest_models(work / "idm.yaml")
    assert models["bonsai-mini-Q8_0"]["artifacts"] == ["weights/bonsai-mini/bonsai-mini-Q8_0.gguf"]
    assert models["bonsai-mini-Q8_0"]["evals"] == [
        {"path": "evals/bonsai-mini/results_2026-11-01T10-00-00.123456.json"}]
    assert models["edge-classifier"]["evals"] == [{"path": "evals/edge-classifier.csv"}]
    assert models["student-distilled"]["evals"] == [{"path": "models/student-distilled/README.md"}]
    # a confusion matrix CSV is placed by its name as a task,score CSV is (the costs are the user's to add)
    assert models["fraud-screen"]["evals"] == [{"path": "evals/fraud-screen.csv"}]
    assert "# confusion matrix, 1 task (placed here: it names the model 'fraud-screen')" in (
        work / "idm.yaml").read_text()
    # the same densities as the example's own manifest, model for model
    mine = measured(work)
    shutil.copy(EXAMPLE / "idm.yaml", work / "handwritten.yaml")
    theirs = measured(work, "handwritten.yaml")
    assert mine["bonsai-mini-Q8_0"]["density"] == theirs["bonsai-mini"]["density"]
    for name in ("edge-classifier", "student-distilled"):
        assert mine[name]["density"] == theirs[name]["density"]
        assert mine[name]["size_bytes"] == theirs[name]["size_bytes"]
    # without the handwritten costs:, fraud-screen's density is the plain one the handwritten report lists beside
    assert "plain_density" not in mine["fraud-screen"]
    assert mine["fraud-screen"]["density"] == theirs["fraud-screen"]["plain_density"]


def test_init_never_overwrites_without_force(tmp_path):
    work = tmp_path / "model-repo"
    shutil.copytree(EXAMPLE, work)
    before = (work / "idm.yaml").read_bytes()
    p = idm(work, "init")
    assert p.returncode == 2
    assert p.stderr.strip() == ("idm-gate: error: init: idm.yaml already exists; pass --force to replace it, "
                                "or --dry-run to print what init would write")
    assert (work / "idm.yaml").read_bytes() == before
    # --dry-run prints the manifest on stdout and writes nothing
    p = idm(work, "init", "--dry-run")
    assert p.returncode == 0, p.stderr
    assert yaml.safe_load(p.stdout)["version"] == 1
    assert "scanned" in p.stderr
    assert (work / "idm.yaml").read_bytes() == before
    p = idm(work, "init", "--force")
    assert p.returncode == 0, p.stderr
    assert (work / "idm.yaml").read_bytes() != before
    assert set(manifest_models(work / "idm.yaml")) == {"bonsai-mini-Q8_0", "edge-classifier", "student-distilled",
                                                        "fraud-screen"}


def test_init_writes_a_manifest_with_comments(tmp_path):
    work = tmp_path / "model-repo"
    shutil.copytree(EXAMPLE, work)
    (work / "idm.yaml").unlink()
    assert idm(work, "init").returncode == 0
    text = (work / "idm.yaml").read_text()
    assert text.startswith("# idm-gate manifest, written by `idm-gate init`")
    assert "max_drop: 5%     # a density drop beyond this" in text
    # the names init writes carry the quantization (bonsai-mini-Q8_0): a requantization renames the model,
    # so the manifest says how to keep its baseline (issue 12, item 5)
    assert ("# Baselines are matched by name: name models by role, and when one is renamed (a requantization,\n"
            "# say), keep its old name in previous_names: [...] so the check compares it with the old baseline.\n"
            "version: 1\n") in text
    assert "# lm-eval results, 5 tasks (placed here: it names weights/bonsai-mini/bonsai-mini-Q8_0.gguf)" in text


# ---------------------------------------------------------------------------------------------
# weights: shards, quantizations, external data, duplicates, pointers, DVC


def test_sharded_safetensors_are_one_model_sized_whole(tmp_path):
    work = repo_with(tmp_path)
    shards = sharded_safetensors(work / "llm", 3)
    (work / "llm" / "config.json").write_text('{"model_type": "llama"}')
    lmeval_results(work / "evals" / "llm" / "results_2026-01-02T03-04-05.000001.json",
                   "pretrained=./llm,dtype=bfloat16", "./llm")
    p = idm(work, "init")
    assert p.returncode == 0, p.stderr
    assert "3 shards, as model.safetensors.index.json lists" in p.stdout
    (model,) = manifest_models(work / "idm.yaml").values()
    assert model["name"] == "llm"
    assert model["artifacts"] == ["llm/*.safetensors"]
    m = measured(work)["llm"]
    # three shards of 128 float32 values each: 3 * 128 = 384 parameters; the size is the three files'
    assert m["params"] == 384
    assert m["size_bytes"] == sum(s.stat().st_size for s in shards)


def test_an_incomplete_shard_set_is_not_placed(tmp_path):
    work = repo_with(tmp_path)
    shards = sharded_safetensors(work / "llm", 3)
    shards[1].unlink()
    lmeval_results(work / "results_2026-01-02T03-04-05.000001.json", "pretrained=llm", "llm")
    p = idm(work, "init")
    assert p.returncode == 2
    assert "llm/model-00001-of-00003.safetensors: shard set model-*-of-00003.safetensors is incomplete " \
           "(2 of 3 present" in p.stdout
    assert "found no weight files" in p.stderr
    assert not (work / "idm.yaml").exists()


def test_an_index_naming_a_missing_shard_is_not_placed(tmp_path):
    work = repo_with(tmp_path)
    sharded_safetensors(work / "llm", 2)
    idx = work / "llm" / "model.safetensors.index.json"
    doc = json.loads(idx.read_text())
    doc["weight_map"]["extra.weight"] = "model-00003-of-00003.safetensors"
    idx.write_text(json.dumps(doc))
    safetensors_file(work / "other" / "model.safetensors")
    lmeval_results(work / "other" / "results_2026-01-02T03-04-05.000001.json", "pretrained=other", "other")
    p = idm(work, "init")
    assert p.returncode == 0, p.stderr
    assert "model.safetensors.index.json lists model-00003-of-00003.safetensors, which is not in the repository" \
        in p.stdout
    assert set(manifest_models(work / "idm.yaml")) == {"other"}


def test_gguf_one_model_per_quantization_and_split_files_are_one(tmp_path):
    work = repo_with(tmp_path)
    q4 = gguf_file(work / "gguf" / "tiny-Q4_K_M.gguf", rows=8)
    q8 = gguf_file(work / "gguf" / "tiny-Q8_0.gguf", rows=16)
    # split as convert_hf_to_gguf.py --split-max-tensors 1 writes it: tiny-F16-0000i-of-00003.gguf
    splits = gguf_model(work / "gguf" / "tiny-F16.gguf",
                        {f"blk.{i}.w": np.zeros((4, 32), dtype=np.float32) for i in range(3)}, split_max_tensors=1)
    assert [p.name for p in splits] == [f"tiny-F16-0000{i}-of-00003.gguf" for i in (1, 2, 3)]
    for quant in ("Q4_K_M", "Q8_0", "F16"):
        lmeval_results(work / "evals" / quant / "results_2026-01-02T03-04-05.000001.json",
                       f"pretrained=gguf,gguf_file=tiny-{quant}.gguf" if quant != "F16"
                       else "pretrained=gguf,gguf_file=tiny-F16-00001-of-00003.gguf", f"tiny-{quant}")
    p = idm(work, "init")
    assert p.returncode == 0, p.stderr
    models = manifest_models(work / "idm.yaml")
    assert set(models) == {"tiny-Q4_K_M", "tiny-Q8_0", "tiny-F16"}
    assert models["tiny-F16"]["artifacts"] == ["gguf/tiny-F16-*-of-00003.gguf"]
    assert models["tiny-Q8_0"]["evals"] == [{"path": "evals/Q8_0/results_2026-01-02T03-04-05.000001.json"}]
    m = measured(work)
    assert m["tiny-Q4_K_M"]["size_bytes"] == q4.stat().st_size
    assert m["tiny-Q8_0"]["size_bytes"] == q8.stat().st_size
    assert m["tiny-F16"]["size_bytes"] == sum(s.stat().st_size for s in splits)
    # each split holds one 4 x 32 tensor; the model is the three together: 3 * 128 = 384
    assert m["tiny-F16"]["params"] == 384


def test_a_vision_projector_goes_with_each_quantization_beside_it(tmp_path):
    work = repo_with(tmp_path)
    q4 = gguf_file(work / "tiny-Q4_K_M.gguf", rows=8)
    q8 = gguf_file(work / "tiny-Q8_0.gguf", rows=16)
    proj = gguf_file(work / "mmproj-tiny-f16.gguf", rows=2, arch="clip")  # llama.cpp's mmproj files are 'clip'
    for quant in ("Q4_K_M", "Q8_0"):
        lmeval_results(work / "evals" / quant / "results_2026-01-02T03-04-05.000001.json",
                       f"pretrained=.,gguf_file=tiny-{quant}.gguf", f"tiny-{quant}")
    p = idm(work, "init")
    assert p.returncode == 0, p.stderr
    models = manifest_models(work / "idm.yaml")
    assert set(models) == {"tiny-Q4_K_M", "tiny-Q8_0"}
    assert models["tiny-Q4_K_M"]["artifacts"] == ["tiny-Q4_K_M.gguf", "mmproj-tiny-f16.gguf"]
    assert "with the vision projector mmproj-tiny-f16.gguf" in p.stdout
    m = measured(work)
    assert m["tiny-Q4_K_M"]["size_bytes"] == q4.stat().st_size + proj.stat().st_size
    assert m["tiny-Q8_0"]["size_bytes"] == q8.stat().st_size + proj.stat().st_size
    # two projectors: which goes with which model is not said, so neither is attached
    gguf_file(work / "mmproj-tiny-q8.gguf", rows=2, arch="clip")
    p = idm(work, "init", "--dry-run")
    assert p.returncode == 0, p.stderr
    assert "mmproj-tiny-q8.gguf: one of 2 vision projectors beside 2 GGUF models" in p.stderr
    assert yaml.safe_load(p.stdout)["models"][0]["artifacts"] == ["tiny-Q4_K_M.gguf"]


def test_a_model_card_beside_several_quantizations_is_not_guessed(tmp_path):
    work = repo_with(tmp_path)
    gguf_file(work / "tiny-Q4_K_M.gguf")
    gguf_file(work / "tiny-Q8_0.gguf")
    shutil.copy(ROOT / "tests" / "data" / "evals" / "model-card" / "README.md", work / "README.md")
    p = idm(work, "init")
    assert p.returncode == 2
    assert "README.md: model card: its folder holds 2 models (tiny-Q4_K_M, tiny-Q8_0); add it to the one it " \
           "measured" in p.stdout


def test_onnx_takes_its_external_data(tmp_path):
    work = repo_with(tmp_path)
    model = onnx_file(work / "onnx" / "model.onnx", external="model.onnx_data")
    data = work / "onnx" / "model.onnx_data"
    assert data.stat().st_size == 64 * 32 * 4  # the initializer, float32
    lmeval_results(work / "onnx" / "results_2026-01-02T03-04-05.000001.json", "pretrained=onnx", "onnx")
    p = idm(work, "init")
    assert p.returncode == 0, p.stderr
    (model_entry,) = manifest_models(work / "idm.yaml").values()
    # sizing counts the external data the graph names; the manifest lists the model file
    assert model_entry["artifacts"] == ["onnx/model.onnx"]
    assert "with its external data model.onnx_data" in p.stdout
    m = measured(work)["onnx"]
    assert m["size_bytes"] == model.stat().st_size + 64 * 32 * 4
    assert m["params"] == 64 * 32


def test_pytorch_copy_of_safetensors_and_trainer_state_are_left_out(tmp_path):
    work = repo_with(tmp_path)
    st = safetensors_file(work / "model.safetensors")
    (work / "pytorch_model.bin").write_bytes(b"PK\x03\x04" + b"\0" * 3000)  # torch.save's zip
    (work / "training_args.bin").write_bytes(b"\x80\x04" + b"\0" * 100)
    (work / "sub").mkdir()
    (work / "sub" / "vocab.bin").write_bytes(b"\x00\x01 not a checkpoint" * 10)
    lmeval_results(work / "results_2026-01-02T03-04-05.000001.json", "pretrained=.", "example-org/repo")
    p = idm(work, "init")
    assert p.returncode == 0, p.stderr
    assert "pytorch_model.bin: the same weights as model*.safetensors in PyTorch format" in p.stdout
    assert "training_args.bin: training state (optimizer, scheduler, RNG), not weights" in p.stdout
    assert "sub/vocab.bin: named like pytorch weights, but its first bytes are not" in p.stdout
    (model,) = manifest_models(work / "idm.yaml").values()
    assert model["name"] == "repo"  # the folder names a model stored as model.safetensors
    assert measured(work)["repo"]["size_bytes"] == st.stat().st_size


def test_git_lfs_pointers_are_sized_from_their_size_line(tmp_path):
    work = repo_with(tmp_path)
    lfs_pointer(work / "big" / "model.safetensors", 7_000_000_000)
    lmeval_results(work / "big" / "results_2026-01-02T03-04-05.000001.json", "pretrained=big", "big")
    p = idm(work, "init")
    assert p.returncode == 0, p.stderr
    assert "Git LFS pointer" in p.stdout
    assert measured(work)["big"]["size_bytes"] == 7_000_000_000


def test_dvc_tracked_weights_and_dvc_lock(tmp_path):
    work = repo_with(tmp_path)
    (work / "weights").mkdir()
    # as `dvc add weights/model.gguf` writes it (and puts the file itself in .gitignore)
    (work / "weights" / "model.gguf.dvc").write_text(
        "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 1500000000\n  hash: md5\n  path: model.gguf\n")
    (work / "weights" / ".gitignore").write_text("/model.gguf\n")
    gguf_file(work / "weights" / "model.gguf")  # pulled locally, ignored by git
    (work / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  quantize:\n    cmd: python quantize.py\n    outs:\n"
        "    - path: out/model-q4.gguf\n      hash: md5\n      md5: 00112233445566778899aabbccddeeff\n"
        "      size: 400000000\n")
    lmeval_results(work / "evals" / "results_2026-01-02T03-04-05.000001.json",
                   "pretrained=weights,gguf_file=model.gguf", "weights")
    lmeval_results(work / "evals" / "q4" / "results_2026-01-02T03-04-05.000001.json",
                   "pretrained=out,gguf_file=model-q4.gguf", "out")
    p = idm(work, "init")
    assert p.returncode == 0, p.stderr
    models = manifest_models(work / "idm.yaml")
    assert models["model"]["artifacts"] == ["weights/model.gguf"]
    assert models["model-q4"]["artifacts"] == ["out/model-q4.gguf"]
    assert "output of DVC stage quantize (dvc.lock records its size)" in p.stdout
    assert "weights/model.gguf: ignored by git" not in p.stdout  # the .dvc file stands for it
    # in a checkout without the pulled file (CI), the .dvc file's size is used; dvc.lock's for its output
    (work / "weights" / "model.gguf").unlink()
    m = measured(work)
    assert m["model"]["size_bytes"] == 1_500_000_000
    assert m["model-q4"]["size_bytes"] == 400_000_000


def test_symlinks_out_of_the_repository_are_not_read(tmp_path):
    work = repo_with(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    lmeval_results(outside / "results_2026-01-02T03-04-05.000001.json", "pretrained=m", "m")
    safetensors_file(work / "m" / "model.safetensors")
    (work / "m" / "results_2026-01-02T03-04-05.000001.json").symlink_to(
        outside / "results_2026-01-02T03-04-05.000001.json")
    (work / "README.md").symlink_to("/etc/passwd")
    p = idm(work, "init")
    assert p.returncode == 2
    assert "m/results_2026-01-02T03-04-05.000001.json: a symlink that leads out of the scanned folder; not read" \
        in p.stdout
    assert "README.md: a symlink that leads out of the scanned folder" in p.stdout
    assert "root:" not in p.stdout + p.stderr
    assert not (work / "idm.yaml").exists()


def test_git_ignored_weights_are_reported(tmp_path):
    work = repo_with(tmp_path)
    (work / ".gitignore").write_text("*.gguf\n")
    gguf_file(work / "local-Q4_0.gguf")
    p = idm(work, "init")
    assert p.returncode == 2
    assert "local-Q4_0.gguf: ignored by git, so a checkout in CI will not have it" in p.stdout


# ---------------------------------------------------------------------------------------------
# eval results: placing, reruns, formats not readable yet


def test_weights_without_evals_are_written_commented_out(tmp_path):
    work = repo_with(tmp_path)
    safetensors_file(work / "a" / "model.safetensors")
    safetensors_file(work / "b" / "model.safetensors")
    lmeval_results(work / "a" / "results_2026-01-02T03-04-05.000001.json", "pretrained=a", "a")
    p = idm(work, "init")
    assert p.returncode == 0, p.stderr
    text = (work / "idm.yaml").read_text()
    assert set(manifest_models(work / "idm.yaml")) == {"a"}
    assert "  # - name: b\n  #   artifacts:\n  #     - \"b/*.safetensors\"\n" in text
    assert "    no eval results found for it: written commented out" in p.stdout


def test_no_evals_anywhere_writes_nothing(tmp_path):
    work = repo_with(tmp_path)
    safetensors_file(work / "model.safetensors")
    p = idm(work, "init")
    assert p.returncode == 2
    assert "found 1 set(s) of weights but no eval results idm-gate can place on them" in p.stderr
    assert "Traceback" not in p.stderr
    assert not (work / "idm.yaml").exists()


def test_a_rerun_of_the_same_tasks_keeps_the_newest(tmp_path):
    work = repo_with(tmp_path)
    safetensors_file(work / "m" / "model.safetensors")
    lmeval_results(work / "out" / "m" / "results_2026-01-01T00-00-00.000001.json", "pretrained=m", "m",
                   date=1767225600.0)
    lmeval_results(work / "out" / "m" / "results_2026-02-01T00-00-00.000001.json", "pretrained=m", "m",
                   date=1769904000.0)
    p = idm(work, "init")
    assert p.returncode == 0, p.stderr
    assert manifest_models(work / "idm.yaml")["m"]["evals"] == [
        {"path": "out/m/results_2026-02-01T00-00-00.000001.json"}]
    assert ("- out/m/results_2026-01-01T00-00-00.000001.json (left out: the same tasks as the newer "
            "out/m/results_2026-02-01T00-00-00.000001.json)") in p.stdout


def test_lighteval_and_mteb_results_are_placed_by_the_model_name_they_record(tmp_path):
    # real outputs (tests/data/evals/): lighteval's results_<time>.json for HuggingFaceTB/SmolLM-135M,
    # and MTEB's results/<org__name>/<revision>/<Task>.json with model_meta.json for intfloat/e5-small-v2
    work = repo_with(tmp_path)
    evals = ROOT / "tests" / "data" / "evals"
    safetensors_file(work / "models" / "SmolLM-135M" / "model.safetensors")
    safetensors_file(work / "models" / "e5-small-v2" / "model.safetensors", seed=1)
    (work / "results" / "lighteval").mkdir(parents=True)
    shutil.copy(evals / "lighteval" / "results_2024-08-20T10-02-41.536718.json", work / "results" / "lighteval")
    rev = work / "results" / "mteb" / "intfloat__e5-small-v2" / "dca8b1a9dae0d4575df2bf423a5edb485a431236"
    rev.mkdir(parents=True)
    for f in ("Banking77Classification.json", "STS17.json", "model_meta.json"):
        shutil.copy(evals / "mteb" / "new" / f, rev / f)
    p = idm(work, "init")
    assert p.returncode == 0, p.stderr
    models = manifest_models(work / "idm.yaml")
    assert models["SmolLM-135M"]["evals"] == [
        {"path": "results/lighteval/results_2024-08-20T10-02-41.536718.json"}]
    rev_rel = rev.relative_to(work).as_posix()
    assert models["e5-small-v2"]["evals"] == [{"path": f"{rev_rel}/Banking77Classification.json"},
                                              {"path": f"{rev_rel}/STS17.json"}]
    assert "it names the model 'SmolLM-135M'" in p.stdout
    assert "it names the model 'e5-small-v2'" in p.stdout
    m = measured(work)
    assert len(m["e5-small-v2"]["tasks"]) == 2


def test_an_opencompass_summary_is_placed_by_its_model_column(tmp_path):
    # OpenCompass's summary_<time>.csv (tests/data/evals/): dataset,version,metric,mode,qwen2-1.5b-instruct-hf
    work = repo_with(tmp_path)
    safetensors_file(work / "qwen2-1.5b-instruct-hf" / "model.safetensors")
    safetensors_file(work / "other" / "model.safetensors", seed=2)
    summary = work / "outputs" / "default" / "20240801_143012" / "summary" / "summary_20240801_143012.csv"
    summary.parent.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "data" / "evals" / "opencompass" / "summary_20240801_143012.csv", summary)
    p = idm(work, "init")
    assert p.returncode == 0, p.stderr
    assert manifest_models(work / "idm.yaml")["qwen2-1.5b-instruct-hf"]["evals"] == [
        {"path": summary.relative_to(work).as_posix()}]
    assert "it names the model 'qwen2-1.5b-instruct-hf'" in p.stdout
    assert measured(work)["qwen2-1.5b-instruct-hf"]["tasks"]


def test_an_unreadable_results_file_is_reported_with_the_readers_error(tmp_path):
    work = repo_with(tmp_path)
    safetensors_file(work / "m" / "model.safetensors")
    (work / "m" / "results_2026-01-02T03-04-05.000001.json").write_text(
        json.dumps({"results": {"arc": {"perplexity,none": 12.5}}}))
    p = idm(work, "init")
    assert p.returncode == 2
    assert "m/results_2026-01-02T03-04-05.000001.json: lm-eval results that cannot be read:" in p.stdout
    assert not (work / "idm.yaml").exists()


def test_init_of_a_subfolder_writes_paths_relative_to_it(tmp_path):
    repo = make_repo(tmp_path, {"README.md": "top\n"})
    sub = repo.path / "models"
    safetensors_file(sub / "m" / "model.safetensors")
    lmeval_results(sub / "m" / "results_2026-01-02T03-04-05.000001.json", "pretrained=m", "m")
    p = idm(repo.path, "init", "models")
    assert p.returncode == 0, p.stderr
    assert manifest_models(sub / "idm.yaml")["m"]["artifacts"] == ["m/*.safetensors"]
    assert idm(sub, "measure").returncode == 0


# ---------------------------------------------------------------------------------------------
# --workflow


def _check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "check-jsonschema"
    tool = str(exe) if exe.exists() else (shutil.which("check-jsonschema") or "check-jsonschema")
    return subprocess.run([tool, "--builtin-schema", schema, str(path)], capture_output=True, text=True, timeout=120)


def test_init_workflow_checks_prs_and_merge_queues_and_records_the_default_branch(tmp_path):
    from idm_gate import __version__

    repo = make_repo(tmp_path, {"models/README.md": "x\n"})
    # origin's HEAD names the default branch, whatever is checked out
    repo.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    repo.git("checkout", "-q", "-b", "feature")
    p = idm(repo.path, "init", "--workflow", "models")
    assert p.returncode == 0, p.stderr
    assert "record on pushes to main (origin's HEAD), gating models/idm.yaml" in p.stdout
    assert "models/idm.yaml does not exist yet; run idm-gate init" in p.stdout
    path = repo.path / ".github" / "workflows" / "idm-gate.yml"
    result = _check_jsonschema("vendor.github-workflows", path)
    assert result.returncode == 0, result.stdout + result.stderr
    wf = yaml.safe_load(path.read_text())
    on = wf[True]  # YAML 1.1 reads the key `on` as true
    assert set(on) == {"pull_request", "merge_group", "push"}
    assert on["push"] == {"branches": ["main"]}
    assert wf["permissions"] == {}
    jobs = wf["jobs"]
    assert jobs["check"]["permissions"] == {"contents": "read", "pull-requests": "write", "statuses": "write"}
    assert jobs["record"]["permissions"] == {"contents": "write"}
    assert jobs["check"]["if"] == "github.event_name == 'pull_request' || github.event_name == 'merge_group'"
    assert jobs["record"]["if"] == "github.event_name == 'push'"
    assert jobs["check"]["concurrency"]["cancel-in-progress"] is True
    assert jobs["record"]["concurrency"]["cancel-in-progress"] is False
    for job, mode in (("check", "check"), ("record", "record")):
        checkout, gate = jobs[job]["steps"]
        assert checkout["uses"] == "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"
        assert checkout["with"] == {"fetch-depth": 0, "lfs": False}
        assert gate["uses"] == f"idm-gate/idm-gate@v{__version__}"
        assert gate["with"] == {"mode": mode, "manifest": "models/idm.yaml"}
    # never replaced without --force
    before = path.read_text()
    path.write_text(before + "# my edit\n")
    p = idm(repo.path, "init", "--workflow", "models")
    assert p.returncode == 2
    assert "already exists; pass --force to replace it" in p.stderr
    assert path.read_text().endswith("# my edit\n")
    assert idm(repo.path, "init", "--workflow", "models", "--force").returncode == 0
    assert path.read_text() == before


def test_init_workflow_without_a_remote_uses_the_branch_checked_out(tmp_path):
    work = repo_with(tmp_path)
    subprocess.run(["git", "checkout", "-q", "-b", "trunk"], cwd=work, check=True)
    p = idm(work, "init", "--workflow", "--dry-run")
    assert p.returncode == 0, p.stderr
    assert yaml.safe_load(p.stdout)[True]["push"] == {"branches": ["trunk"]}
    assert not (work / ".github").exists()


def test_the_workflow_schema_check_can_fail(tmp_path):
    from idm_gate.init import render_workflow

    broken = tmp_path / "broken.yml"
    broken.write_text(render_workflow("idm.yaml", "main").replace("statuses: write", "statuses: admin"))
    assert _check_jsonschema("vendor.github-workflows", broken).returncode != 0
