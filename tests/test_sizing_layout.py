"""What counts as a model's weights: shard indexes, shard sets, folders, GGUF splits, several models
or formats in one entry, ONNX external data, files without weights, implausible bits per parameter.

Every weight file is written by its format's own library in the layout the real tool produces
(tests/weightfiles.py); every expected size is worked out by hand in the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from idm_gate.data import SizeResult
from idm_gate.errors import InputError
from idm_gate.sizing import size_artifacts
from weightfiles import hf_shards, manifest, run_measure, safetensors_header_bytes

WHAT = "idm.yaml: models[0].artifacts"


def size(patterns, base: Path) -> SizeResult:
    return size_artifacts(list(patterns), base, base, WHAT)


def refused(patterns, base: Path) -> str:
    with pytest.raises(InputError) as ei:
        size(patterns, base)
    msg = str(ei.value)
    assert "\n" not in msg
    return msg


# Three tensors: 64 x 32 float32 (8,192 bytes), 64 x 32 float32 (8,192), 1,024 float16 (2,048):
# total_size = 8,192 + 8,192 + 2,048 = 18,432 bytes; with a 9,000-byte limit each gets its own shard.
TENSORS = {
    "model.embed_tokens.weight": np.ones((64, 32), dtype=np.float32),
    "model.layers.0.mlp.weight": np.ones((64, 32), dtype=np.float32),
    "model.norm.weight": np.ones(1024, dtype=np.float16),
}
TENSOR_BYTES = 8_192 + 8_192 + 2_048
PARAMS = 64 * 32 + 64 * 32 + 1024  # 5,120
SHARDS = [f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]


@pytest.fixture
def sharded(tmp_path: Path) -> Path:
    index = hf_shards(tmp_path / "ckpt", TENSORS, max_shard_size=9_000)
    assert index["metadata"]["total_size"] == TENSOR_BYTES
    assert sorted(set(index["weight_map"].values())) == SHARDS
    return tmp_path


def test_a_glob_over_shards_and_index_sizes_the_shards_only(sharded):
    # each shard file = its tensor bytes + 8 + its JSON header; the index (a JSON file) is not weights
    headers = sum(safetensors_header_bytes(sharded / "ckpt" / s) for s in SHARDS)
    res = size(["ckpt/model*"], sharded)
    assert res.size_bytes == TENSOR_BYTES + headers
    assert [a.path for a in res.files] == [f"ckpt/{s}" for s in SHARDS]
    assert res.params == PARAMS
    assert res.source == "stat"


def test_an_index_listed_alone_stands_for_its_shards(sharded):
    headers = sum(safetensors_header_bytes(sharded / "ckpt" / s) for s in SHARDS)
    res = size(["ckpt/model.safetensors.index.json"], sharded)
    assert res.size_bytes == TENSOR_BYTES + headers
    assert [(a.path, a.note) for a in res.files] == [
        (f"ckpt/{s}", "shard named by model.safetensors.index.json") for s in SHARDS]


def test_an_index_without_its_shards_gives_total_size(sharded):
    for s in SHARDS:
        (sharded / "ckpt" / s).unlink()
    res = size(["ckpt/model.safetensors.index.json"], sharded)
    assert res.size_bytes == TENSOR_BYTES  # 18,432: metadata.total_size
    assert res.source == "index"
    assert res.params is None  # the index gives no parameter count
    assert res.files[0].path == "ckpt/model.safetensors.index.json"
    assert any("sized from the index's metadata.total_size (18,432 bytes" in n for n in res.notices)


def test_an_index_with_a_missing_shard_names_it(sharded):
    (sharded / "ckpt" / SHARDS[1]).unlink()
    msg = refused(["ckpt/model.safetensors.index.json"], sharded)
    assert msg == (f"{WHAT}[0]: 'ckpt/model.safetensors.index.json' names shard 'model-00002-of-00003.safetensors', "
                   "which does not exist beside it (2 of 3 shards present); check it out (git lfs pull, dvc pull) "
                   "or fix the index")


def test_a_shard_set_with_a_gap_names_the_missing_shard(sharded):
    (sharded / "ckpt" / SHARDS[2]).unlink()
    msg = refused(["ckpt/*.safetensors"], sharded)
    assert msg.startswith(f"{WHAT}: shard 'ckpt/model-00003-of-00003.safetensors' of the 3-file set "
                          "model-*-of-00003.safetensors is missing (2 of 3 present)")


def test_shards_checked_out_as_lfs_pointers_are_sized_from_the_pointers(sharded):
    # a clone without LFS: each shard is a pointer; the index is plain JSON (HF does not LFS-track it)
    sizes = {s: 5_000_000_000 + i for i, s in enumerate(SHARDS)}
    for s, n in sizes.items():
        (sharded / "ckpt" / s).write_text(
            f"version https://git-lfs.github.com/spec/v1\noid sha256:{'ab' * 32}\nsize {n}\n")
    res = size(["ckpt/model.safetensors.index.json"], sharded)
    assert res.size_bytes == 3 * 5_000_000_000 + 0 + 1 + 2
    assert res.source == "lfs-pointer"


@pytest.mark.parametrize("doc, expect", [
    ({"metadata": {"total_size": 10}}, "not a shard index: expected a JSON object with a non-empty 'weight_map'"),
    ({"metadata": {"total_size": -1}, "weight_map": {"w": "a.safetensors"}}, "metadata.total_size must be a"),
    ({"metadata": {"total_size": "10"}, "weight_map": {"w": "a.safetensors"}}, "metadata.total_size must be a"),
    ({"metadata": {"total_size": 10}, "weight_map": {"w": "../a.safetensors"}}, "weight_map['w'] must name a shard"),
    ({"weight_map": {"w": "a.safetensors"}}, "has no metadata.total_size and none of its 1 shards"),
])
def test_bad_indexes_are_one_line_errors(tmp_path, doc, expect):
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(doc))
    assert expect in refused(["model.safetensors.index.json"], tmp_path)


ISSUE_INDEX = {
    "metadata": {"total_size": 7241732096},
    "weight_map": {
        "model.embed_tokens.weight": "model-00001-of-00003.safetensors",
        "model.layers.0.self_attn.q_proj.weight": "model-00001-of-00003.safetensors",
        "model.layers.31.mlp.down_proj.weight": "model-00002-of-00003.safetensors",
        "model.norm.weight": "model-00003-of-00003.safetensors",
        "lm_head.weight": "model-00003-of-00003.safetensors",
    },
}


def test_cli_issue_example_index_listed_alone(tmp_path):
    # the issue's example: the index alone (no shard checked out) -> 7,241,732,096 bytes, source index
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "model.safetensors.index.json").write_text(json.dumps(ISSUE_INDEX, indent=2))
    manifest(tmp_path, ["weights/model.safetensors.index.json"])
    p = run_measure(tmp_path, "--format", "json")
    assert p.returncode == 0, p.stderr
    m = json.loads(p.stdout)["models"][0]
    assert (m["size_bytes"], m["size_source"]) == (7_241_732_096, "index")
    # D = -ln(0.25) / 7.241732096 = 1.386294 / 7.241732096 = 0.191431
    assert m["density"] == pytest.approx(0.191431, abs=1e-6)
    t = run_measure(tmp_path)
    assert "7,241,732,096" in t.stdout and " index " in t.stdout
