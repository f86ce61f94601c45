"""What counts as a model's weights: shard indexes, shard sets, folders, GGUF splits, several models
or formats in one entry, ONNX external data, files without weights, implausible bits per parameter.

Every weight file is written by its format's own library in the layout the real tool produces
(tests/support/weightfiles.py); every expected size is worked out by hand in the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from safetensors.numpy import save_file

from idm_gate.data import SizeResult
from idm_gate.errors import InputError
from idm_gate.sizing import size_artifacts
from strategies import mutated, scratch_dir
from weightfiles import (
    gguf_model,
    hf_shards,
    manifest,
    run_measure,
    safetensors_header_bytes,
)

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


# ---------------------------------------------------------------- GGUF: splits and complete models

# Three 32 x 64 float32 tensors (2,048 parameters each): 6,144 parameters in all.
GGUF_TENSORS = {f"blk.{i}.ffn_up.weight": np.full((32, 64), i, dtype=np.float32) for i in range(3)}
GGUF_PARAMS = 3 * 32 * 64


def test_gguf_split_files_are_one_model(tmp_path):
    # gguf-py splits as convert_hf_to_gguf.py --split-max-tensors 2 does: 2 files, llama.cpp naming
    files = gguf_model(tmp_path / "w" / "acme-7b-Q8_0.gguf", GGUF_TENSORS, split_max_tensors=2)
    assert [f.name for f in files] == ["acme-7b-Q8_0-00001-of-00002.gguf", "acme-7b-Q8_0-00002-of-00002.gguf"]
    res = size(["w/*.gguf"], tmp_path)
    assert res.size_bytes == sum(f.stat().st_size for f in files)
    assert res.params == GGUF_PARAMS
    assert [a.split for a in res.files] == [(0, 2), (1, 2)]  # split.no, split.count as written


def test_gguf_split_with_a_metadata_only_first_split(tmp_path):
    # --no-tensor-first-split (gguf-py: small_first_shard): split 1 holds metadata and no tensors
    files = gguf_model(tmp_path / "m.gguf", GGUF_TENSORS, split_max_tensors=2, small_first_shard=True)
    assert len(files) == 3
    res = size(["*.gguf"], tmp_path)
    assert res.params == GGUF_PARAMS
    assert res.files[0].params == 0


def test_gguf_split_with_a_missing_file_names_it(tmp_path):
    files = gguf_model(tmp_path / "m.gguf", GGUF_TENSORS, split_max_tensors=1)
    files[1].unlink()
    assert refused(["*.gguf"], tmp_path).startswith(
        f"{WHAT}: shard 'm-00002-of-00003.gguf' of the 3-file set m-*-of-00003.gguf is missing (2 of 3 present)")


def test_gguf_split_renamed_against_its_metadata_is_refused(tmp_path):
    files = gguf_model(tmp_path / "m.gguf", GGUF_TENSORS, split_max_tensors=2)
    files[1].rename(tmp_path / "m-00001-of-00002.bak")
    files[0].rename(tmp_path / "m-00002-of-00002.gguf")
    (tmp_path / "m-00001-of-00002.bak").rename(tmp_path / "m-00001-of-00002.gguf")
    msg = refused(["*.gguf"], tmp_path)
    assert msg.startswith(f"{WHAT}: 'm-00001-of-00002.gguf' is named as split 1 of 2, but its metadata "
                          "(split.no 1, split.count 2) says split 2 of 2")


def test_two_quantizations_in_one_model_are_refused(tmp_path):
    # the issue's case: one glob over two complete GGUF files of the same model
    gguf_model(tmp_path / "w" / "acme-7b-Q4_K_M.gguf", GGUF_TENSORS)
    gguf_model(tmp_path / "w" / "acme-7b-Q8_0.gguf", GGUF_TENSORS)
    msg = refused(["w/acme-7b-*.gguf"], tmp_path)
    assert msg.startswith(f"{WHAT}: 'w/acme-7b-Q4_K_M.gguf', 'w/acme-7b-Q8_0.gguf' are each a complete GGUF "
                          "model (architecture 'llama'); one model's artifacts hold one of them")
    manifest(tmp_path, ["w/*.gguf"])
    p = run_measure(tmp_path)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and "are each a complete GGUF model" in p.stderr


def test_a_vision_projector_beside_its_language_model_is_one_model(tmp_path):
    # llava-style: the language model and an mmproj GGUF of architecture 'clip'
    a = gguf_model(tmp_path / "llava-v1.5-7b-Q4_K.gguf", GGUF_TENSORS)[0]
    b = gguf_model(tmp_path / "mmproj-model-f16.gguf", {"v.patch_embd.weight": np.ones((32, 64), np.float32)},
                   arch="clip")[0]
    res = size(["*.gguf"], tmp_path)
    assert res.size_bytes == a.stat().st_size + b.stat().st_size
    assert res.params == GGUF_PARAMS + 32 * 64


def test_a_gguf_without_tensors_is_refused(tmp_path):
    # vocabulary-only GGUF files (llama.cpp's models/ggml-vocab-*.gguf) hold no weights
    import gguf

    w = gguf.GGUFWriter(str(tmp_path / "ggml-vocab-llama.gguf"), "llama")
    w.add_array("tokenizer.ggml.tokens", ["<s>", "</s>", "hello"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    assert refused(["ggml-vocab-llama.gguf"], tmp_path).startswith(
        f"{WHAT}[0]: 'ggml-vocab-llama.gguf': holds no tensors (a vocabulary-only or metadata-only GGUF)")


def test_a_gguf_named_bin_is_read_as_gguf(tmp_path):
    # older llama.cpp conversions were named ggml-model-*.bin: recognised by the magic
    gguf_model(tmp_path / "m.gguf", GGUF_TENSORS)[0].rename(tmp_path / "ggml-model-q8_0.bin")
    res = size(["ggml-model-q8_0.bin"], tmp_path)
    assert (res.files[0].format, res.params) == ("gguf", GGUF_PARAMS)


# ---------------------------------------------------------------- several formats in one model

def test_the_same_weights_in_two_formats_are_refused(tmp_path):
    import zipfile

    save_file({"w": np.ones((4, 4), np.float32)}, str(tmp_path / "model.safetensors"))
    with zipfile.ZipFile(tmp_path / "pytorch_model.bin", "w") as z:  # torch.save's zip layout
        z.writestr("pytorch_model/data.pkl", b"\x80\x02}q\x00.")
    msg = refused(["model.safetensors", "pytorch_model.bin"], tmp_path)
    assert msg.startswith(f"{WHAT}: the artifacts hold weights in 2 formats: pytorch ('pytorch_model.bin'); "
                          "safetensors ('model.safetensors'); the same weights in several formats would be counted twice")


def test_an_onnx_export_beside_safetensors_is_refused(tmp_path):
    save_file({"w": np.ones((4, 4), np.float32)}, str(tmp_path / "model.safetensors"))
    onnx_model(tmp_path / "onnx" / "model.onnx")
    assert "2 formats: onnx ('onnx/model.onnx'); safetensors ('model.safetensors')" in refused(["**/model.*"], tmp_path)


# ---------------------------------------------------------------- ONNX external data

def onnx_model(path: Path, external: str | None = None) -> Path:
    """A Gemm with W 256 x 256 float32 (262,144 bytes) and B 256 float32 (1,024 bytes), saved by onnx."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((256, 256), np.float32), "W")
    b = numpy_helper.from_array(np.zeros(256, np.float32), "B")
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "W", "B"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 256])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 256])], initializer=[w, b])
    model = helper.make_model(graph)
    path.parent.mkdir(parents=True, exist_ok=True)
    if external:
        onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=external, size_threshold=0)
    else:
        onnx.save_model(model, str(path))
    return path


def test_onnx_external_data_is_counted_with_the_graph(tmp_path):
    g = onnx_model(tmp_path / "m" / "model.onnx", external="model.onnx.data")
    data = tmp_path / "m" / "model.onnx.data"
    assert data.stat().st_size == 262_144 + 1_024  # both initializers, no padding under 1 MB
    res = size(["m/model.onnx"], tmp_path)
    assert res.size_bytes == g.stat().st_size + 263_168
    assert res.params == 256 * 256 + 256  # 65,792
    assert [(a.path, a.note) for a in res.files] == [
        ("m/model.onnx", None), ("m/model.onnx.data", "external data of m/model.onnx")]
    assert res.notices == ("m/model.onnx: its initializers' external data counted with it: m/model.onnx.data",)
    # about 32 bits per parameter (float32 plus the graph), not the graph alone's 0.0x bits
    assert 32 < res.bits_per_param < 33
    # listed too, the data file is counted once
    assert size(["m/model.onnx", "m/model.onnx.data"], tmp_path).size_bytes == res.size_bytes


def test_onnx_external_data_missing_is_refused_naming_it(tmp_path):
    onnx_model(tmp_path / "model.onnx", external="weights.bin")
    (tmp_path / "weights.bin").unlink()
    assert refused(["model.onnx"], tmp_path) == (
        f"{WHAT}[0]: 'model.onnx' keeps initializers in external data 'weights.bin', which does not exist beside "
        "it; check it out (git lfs pull, dvc pull) or save the model with its weights inside "
        "(onnx.save_model(..., save_as_external_data=False))")


def test_onnx_external_data_outside_the_repository_is_refused(tmp_path):
    # onnx itself refuses to write a location with '..'; a hand-edited graph can still name one
    import onnx

    repo = tmp_path / "repo"
    g = onnx_model(repo / "model.onnx", external="w.data")
    (repo / "w.data").rename(tmp_path / "outside.data")
    m = onnx.load(str(g), load_external_data=False)
    for t in m.graph.initializer:
        for kv in t.external_data:
            if kv.key == "location":
                kv.value = "../outside.data"
    g.write_bytes(m.SerializeToString())
    assert "'../outside.data' resolves outside the repository" in refused(["model.onnx"], repo)


# ---------------------------------------------------------------- a folder as an artifact

def test_a_folder_sizes_its_weight_files_and_lists_the_rest(tmp_path):
    folder = tmp_path / "models" / "acme-7b"
    hf_shards(folder, TENSORS, max_shard_size=9_000)
    for name, text in {"config.json": "{}", "generation_config.json": "{}", "tokenizer.json": "{}",
                       "tokenizer_config.json": "{}", "README.md": "# acme"}.items():
        (folder / name).write_text(text)
    (folder / ".gitattributes").write_text("*.safetensors filter=lfs\n")  # hidden: not looked at
    headers = sum(safetensors_header_bytes(folder / s) for s in SHARDS)
    res = size(["models/acme-7b"], tmp_path)
    assert res.size_bytes == TENSOR_BYTES + headers
    assert [a.path for a in res.files] == [f"models/acme-7b/{s}" for s in SHARDS]
    assert res.params == PARAMS
    assert res.notices == (
        ("models/acme-7b: 6 file(s) left out (not weights: README.md, config.json, generation_config.json, "
        "tokenizer.json, tokenizer_config.json; shard index: its shards are counted: model.safetensors.index.json)"),)


def test_a_folder_recognises_weights_by_content(tmp_path):
    # a GGUF named .bin is weights; a .bin of other bytes is not; Trainer state is left out
    (tmp_path / "ckpt").mkdir()
    gguf_model(tmp_path / "x.gguf", GGUF_TENSORS)[0].rename(tmp_path / "ckpt" / "ggml-model.bin")
    (tmp_path / "ckpt" / "vocab.bin").write_bytes(b"\x00\x01\x02" * 100)
    import zipfile

    with zipfile.ZipFile(tmp_path / "ckpt" / "optimizer.pt", "w") as z:
        z.writestr("optimizer/data.pkl", b"\x80\x02}q\x00.")
    res = size(["ckpt"], tmp_path)
    assert [(a.path, a.format) for a in res.files] == [("ckpt/ggml-model.bin", "gguf")]
    assert res.notices == ("ckpt: 2 file(s) left out (training state: optimizer.pt; not weights: vocab.bin)",)


def test_a_folder_with_an_onnx_export_counts_its_external_data(tmp_path):
    g = onnx_model(tmp_path / "onnx" / "model.onnx", external="model.onnx_data")
    (tmp_path / "onnx" / "config.json").write_text("{}")
    res = size(["onnx"], tmp_path)
    assert res.size_bytes == g.stat().st_size + 263_168
    assert res.notices[-1] == "onnx: 1 file(s) left out (not weights: config.json)"


def test_a_glob_over_a_model_folder_leaves_its_text_files_out_and_lists_them(tmp_path):
    # A Hub model folder as save_pretrained leaves it: the glob means the model, not its config.
    (tmp_path / "acme").mkdir()
    save_file({"w": np.ones(1024, np.float32)}, str(tmp_path / "acme" / "model.safetensors"))
    for name, text in [("config.json", '{"model_type": "llama"}'), ("tokenizer.json", '{"version": "1.0"}'),
                       ("README.md", "# acme"), ("merges.txt", "#version: 0.2")]:
        (tmp_path / "acme" / name).write_text(text)
    res = size(["acme/*"], tmp_path)
    # 4,096 bytes of float32 tensors + the safetensors header, nothing else
    assert res.size_bytes == 4_096 + safetensors_header_bytes(tmp_path / "acme" / "model.safetensors")
    assert [f.path for f in res.files] == ["acme/model.safetensors"]
    assert res.notices == ("acme/*: 4 file(s) left out (not weights: acme/README.md, acme/config.json, "
                           "acme/merges.txt, acme/tokenizer.json)",)
    # a glob matching only such files is refused, naming them
    with pytest.raises(InputError, match=r"'acme/\*\.json' matches no weight file, only text files .*config\.json"):
        size(["acme/*.json"], tmp_path)


# ---------------------------------------------------------------- plausibility

def test_bytes_that_are_not_weights_trigger_a_plausibility_warning(tmp_path):
    # 1,024 float32 parameters: 4,096 bytes of tensors + the header; a 100,000-byte file beside
    # them makes (4,096 + header + 100,000) * 8 / 1,024 > 800 bits per parameter
    save_file({"w": np.ones(1024, np.float32)}, str(tmp_path / "model.safetensors"))
    # (a TensorBoard event file: no text name, so the glob cannot tell it from raw weights)
    (tmp_path / "events.out.tfevents.1700000000.host").write_bytes(b"x" * 100_000)
    res = size(["*"], tmp_path)
    total = 4_096 + safetensors_header_bytes(tmp_path / "model.safetensors") + 100_000
    assert res.size_bytes == total
    assert res.notices == ((f"warning: {total:,} bytes for 1,024 parameters is {8 * total / 1024:.4g} bits per "
                           "parameter, above 64: bytes were probably counted twice, or files that are not "
                           "weights; files: events.out.tfevents.1700000000.host, model.safetensors"),)


def test_plausibility_bounds():
    from idm_gate.data import ArtifactSize
    from idm_gate.sizing.layout import plausibility

    f = [ArtifactSize(path="model.onnx", size_bytes=230, source="stat", format="onnx", params=1_051_000)]
    # 8 * 230 / 1,051,000 = 0.00175 bits per parameter: the issue's ONNX graph sized without its data
    assert plausibility(230, 1_051_000, f) == [
        ("warning: 230 bytes for 1,051,000 parameters is 0.001751 bits per parameter, below 0.5: weights were "
        "probably not counted (external data, shards, LFS objects); files: model.onnx")]
    assert plausibility(64, 1024, f) == []      # exactly 0.5 bits
    assert plausibility(8 * 1024, 1024, f) == []  # exactly 64 bits
    assert plausibility(8 * 1024 + 1, 1024, f) != []
    assert plausibility(10, None, f) == []


# ---------------------------------------------------------------- DVC pipelines: dvc.lock

# As `dvc repro` (DVC 3) writes it: schema '2.0', deps and outs with hash: md5, md5 and size.
LOCK = """\
schema: '2.0'
stages:
  convert:
    cmd: python convert.py --outtype f16 checkpoints/acme-7b weights/model-f16.gguf
    deps:
    - path: checkpoints/acme-7b
      hash: md5
      md5: 3f1d27a1c2b7d4f7c65e8cfb7a6b0d1e.dir
      size: 14484731008
      nfiles: 9
    - path: convert.py
      hash: md5
      md5: 0c4b3f6b0a8f34b4a2c7e1d9f8a6b5c4
      size: 18342
    outs:
    - path: weights/model-f16.gguf
      hash: md5
      md5: 9a0364b9e99bb480dd25e1f0284c8555
      size: 14484817920
  quantize:
    cmd: llama-quantize weights/model-f16.gguf weights/model-q4.gguf Q4_K_M
    deps:
    - path: weights/model-f16.gguf
      hash: md5
      md5: 9a0364b9e99bb480dd25e1f0284c8555
      size: 14484817920
    outs:
    - path: weights/model-q4.gguf
      hash: md5
      md5: 7d4e8c1a2b3f4a5b6c7d8e9f0a1b2c3d
      size: 4368439296
  export:
    cmd: python export.py
    outs:
    - path: models/acme-7b-hf
      hash: md5
      md5: 1b2c3d4e5f60718293a4b5c6d7e8f901.dir
      size: 14485010432
      nfiles: 11
"""


def test_cli_issue_example_dvc_lock_output_not_checked_out(tmp_path):
    # the issue's example: dvc.lock at the root, the output not checked out -> 4,368,439,296 bytes, dvc
    (tmp_path / "dvc.lock").write_text(LOCK)
    manifest(tmp_path, ["weights/model-q4.gguf"])
    p = run_measure(tmp_path, "--format", "json")
    assert p.returncode == 0, p.stderr
    m = json.loads(p.stdout)["models"][0]
    assert (m["size_bytes"], m["size_source"]) == (4_368_439_296, "dvc")
    assert m["artifacts"][0]["note"] == "dvc.lock, stage 'quantize', not checked out"
    # D = -ln(0.25) / 4.368439296 = 1.386294 / 4.368439296 = 0.317343
    assert m["density"] == pytest.approx(0.317343, abs=1e-6)


def test_dvc_lock_glob_and_checked_out_file(tmp_path):
    (tmp_path / "dvc.lock").write_text(LOCK)
    # a glob that matches no checked-out file matches the lock's outputs: here one of them
    res = size(["weights/*-q4.gguf"], tmp_path)
    assert (res.size_bytes, res.source) == (4_368_439_296, "dvc")
    # a checked-out output is sized by stat, the lock is not consulted
    gguf_model(tmp_path / "weights" / "model-q4.gguf", GGUF_TENSORS)
    res = size(["weights/model-q4.gguf"], tmp_path)
    assert res.source == "stat" and res.size_bytes == (tmp_path / "weights" / "model-q4.gguf").stat().st_size


def test_dvc_lock_folder_output_and_a_file_inside_it(tmp_path):
    (tmp_path / "dvc.lock").write_text(LOCK)
    res = size(["models/acme-7b-hf"], tmp_path)
    assert (res.size_bytes, res.source) == (14_485_010_432, "dvc")
    assert res.files[0].note == ("dvc.lock, stage 'export', not checked out; a folder of 11 files, all counted "
                                 "(dvc.lock records only the total)")
    assert refused(["models/acme-7b-hf/model.safetensors"], tmp_path) == (
        f"{WHAT}[0]: 'models/acme-7b-hf/model.safetensors' is inside the DVC output 'models/acme-7b-hf' of dvc.lock "
        "(stage 'export'), which is not checked out and records only its total size; name the folder, or "
        "'dvc pull' it")


def test_dvc_lock_paths_follow_the_stage_wdir(tmp_path):
    # dvc.yaml's wdir makes outs relative to another folder; dvc.lock does not repeat it
    (tmp_path / "dvc.yaml").write_text("stages:\n  train:\n    wdir: training\n    cmd: python train.py\n"
                                       "    outs:\n    - model.safetensors\n")
    (tmp_path / "dvc.lock").write_text("schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    outs:\n"
                                       "    - path: model.safetensors\n      hash: md5\n"
                                       "      md5: 00112233445566778899aabbccddeeff\n      size: 2200000000\n")
    res = size(["training/model.safetensors"], tmp_path)
    assert (res.size_bytes, res.files[0].path) == (2_200_000_000, "training/model.safetensors")


@pytest.mark.parametrize("text, expect", [
    # DVC 1 wrote stages at the top level, with md5 and no size
    ("quantize:\n  cmd: q\n  outs:\n  - path: weights/model-q4.gguf\n    md5: 7d4e8c1a2b3f4a5b6c7d8e9f0a1b2c3d\n",
     "is not a dvc.lock of schema '2.0'"),
    ("schema: '2.0'\nstages:\n  q:\n    cmd: q\n    outs:\n    - path: weights/model-q4.gguf\n      md5: 7d4e\n",
     "dvc.lock records no integer size for it (stage 'q'); run 'dvc commit'"),
    ("schema: '2.0'\nstages:\n  q:\n    outs: {path: x}\n", "stages.q.outs must be a list"),
    ("schema: '2.0'\nstages: [\n", "'dvc.lock' is not valid YAML"),
])
def test_bad_dvc_locks_are_one_line_errors(tmp_path, text, expect):
    (tmp_path / "dvc.lock").write_text(text)
    assert expect in refused(["weights/model-q4.gguf"], tmp_path)


def test_shards_tracked_by_dvc_lock_are_sized_from_it(tmp_path):
    # the index is in git, the shards are a pipeline's outputs that were never pulled
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "model.safetensors.index.json").write_text(json.dumps(
        {"metadata": {"total_size": 3000}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                                                          "b": "model-00002-of-00002.safetensors"}}))
    outs = "".join(f"    - path: w/model-0000{i}-of-00002.safetensors\n      hash: md5\n      md5: {i:032x}\n"
                   f"      size: {n}\n" for i, n in ((1, 2_000), (2, 1_500)))
    (tmp_path / "dvc.lock").write_text(f"schema: '2.0'\nstages:\n  save:\n    cmd: python save.py\n    outs:\n{outs}")
    res = size(["w/model.safetensors.index.json"], tmp_path)
    assert (res.size_bytes, res.source) == (2_000 + 1_500, "dvc")


# ---------------------------------------------------------------- Git LFS pointers with extensions

def test_lfs_pointer_with_extensions_says_its_size_is_the_filtered_objects(tmp_path):
    # the pointer Git LFS writes through extensions foo (order 0) and bar (order 1), as in
    # git-lfs docs/extensions.md: ext-N-name lines sorted before oid; oid and size after the filters
    (tmp_path / "model.safetensors").write_text(
        "version https://git-lfs.github.com/spec/v1\n"
        f"ext-0-foo sha256:{'1' * 64}\n"
        f"ext-1-bar sha256:{'2' * 64}\n"
        f"oid sha256:{'3' * 64}\n"
        "size 2147483648\n")
    res = size(["model.safetensors"], tmp_path)
    assert (res.size_bytes, res.source) == (2_147_483_648, "lfs-pointer")
    want = ("Git LFS pointer with extensions foo, bar: its size is that of the filtered object in LFS storage, "
            "not of the file a checkout writes")
    assert res.files[0].note == want
    assert res.notices == (f"model.safetensors: {want}",)


# ---------------------------------------------------------------- the reports list what was counted

def test_text_and_markdown_reports_list_each_file_and_the_source_of_its_size(tmp_path):
    hf_shards(tmp_path / "w", TENSORS, max_shard_size=9_000)
    (tmp_path / "w" / SHARDS[2]).write_text(  # shard 3 not pulled from LFS: its size from the pointer
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{'cd' * 32}\nsize 2136\n")
    sizes = [(tmp_path / "w" / s).stat().st_size for s in SHARDS[:2]] + [2_136]
    manifest(tmp_path, ["w/model.safetensors.index.json"], name="acme-7b")
    p = run_measure(tmp_path)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    at = lines.index("  3 file(s) counted in the size:")
    rows = [ln.split() for ln in lines[at + 2:at + 5]]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (f"w/{SHARDS[0]}", f"{sizes[0]:,}", "stat"), (f"w/{SHARDS[1]}", f"{sizes[1]:,}", "stat"),
        (f"w/{SHARDS[2]}", "2,136", "lfs-pointer")]
    assert " ".join(rows[0][3:]) == "shard named by model.safetensors.index.json"
    md = run_measure(tmp_path, "--format", "markdown")
    assert md.returncode == 0, md.stderr
    total = sum(sizes)
    block = md.stdout[md.stdout.index("<details><summary>acme-7b: 3 files counted"):]
    block = block[:block.index("</details>")]
    assert block.splitlines()[0] == f"<details><summary>acme-7b: 3 files counted, {total:,} bytes</summary>"
    assert "| w/model-00003-of-00003.safetensors | 2,136 | lfs-pointer | shard named by " \
           "model.safetensors.index.json |" in block


def test_a_checkpoint_saved_both_consolidated_and_sharded_is_flagged(tmp_path):
    # as some repositories publish it: consolidated.safetensors beside the transformers shards
    hf_shards(tmp_path / "w", TENSORS, max_shard_size=9_000)
    save_file(TENSORS, str(tmp_path / "w" / "consolidated.safetensors"))
    res = size(["w/*.safetensors"], tmp_path)
    assert res.notices == (("warning: w holds the safetensors shards model-* and consolidated.safetensors beside "
                           "them: if these are the same weights saved twice, they are counted twice; keep the files "
                           "of one of them"),)


def test_an_onnx_graph_left_in_lfs_names_the_data_file_beside_it(tmp_path):
    onnx_model(tmp_path / "model.onnx", external="model.onnx_data")
    (tmp_path / "model.onnx").write_text(  # a clone without LFS: the graph is a pointer, not readable
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{'ef' * 32}\nsize 412\n")
    res = size(["model.onnx"], tmp_path)
    assert res.size_bytes == 412
    assert res.notices == (("warning: model.onnx is sized from its lfs-pointer record, so its external data is not "
                           "known; model.onnx_data beside it looks like it: list it too if the model keeps its "
                           "weights there"),)


def test_a_folder_with_a_symlink_out_of_the_repository_is_refused(tmp_path):
    repo = tmp_path / "repo"
    save_file({"w": np.ones(8, np.float32)}, str(tmp_path / "secret.safetensors"))
    (repo / "m").mkdir(parents=True)
    (repo / "m" / "model.safetensors").symlink_to(tmp_path / "secret.safetensors")
    assert "'m/model.safetensors' resolves outside the repository" in refused(["m"], repo)


# ---------------------------------------------------------------- any bytes: a value or one line

_PROP = scratch_dir("idm-layout-prop-")
_INDEX_SEED = json.dumps(ISSUE_INDEX, indent=2).encode()
_LOCK_SEED = LOCK.encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=512), mutated(_INDEX_SEED), mutated(_LOCK_SEED)))
def test_index_and_lock_readers_give_a_value_or_one_line(data):
    from idm_gate.sizing import dvc
    from idm_gate.sizing.layout import read_index, sniff

    p = _PROP / "model.safetensors.index.json"
    p.write_bytes(data)
    for read in (lambda: read_index(p, "model.safetensors.index.json", WHAT),
                 lambda: dvc.read_lock(p, "dvc.lock", WHAT),
                 lambda: sniff(p, "model.safetensors.index.json", WHAT)):
        try:
            read()
        except InputError as e:
            assert "\n" not in str(e) and str(e).startswith(WHAT)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=256), mutated(b"stages:\n  train:\n    wdir: training\n    cmd: x\n")))
@example(data=b"stages: [train]\n")  # a list where dvc.yaml has a mapping
def test_a_dvc_yaml_beside_the_lock_gives_a_value_or_one_line(data):
    from idm_gate.sizing import dvc

    d = _PROP / "yaml"
    d.mkdir(exist_ok=True)
    (d / "dvc.lock").write_bytes(_LOCK_SEED)
    (d / "dvc.yaml").write_bytes(data)
    try:
        outs = dvc.read_lock(d / "dvc.lock", "dvc.lock", WHAT)
    except InputError as e:
        assert "\n" not in str(e) and str(e).startswith(WHAT)
    else:
        assert [o["path"] for _, _, o in outs][-1] == "models/acme-7b-hf"


def test_two_quantizations_left_in_lfs_are_refused_too(tmp_path):
    # without the objects there is no general.architecture to tell them apart: two complete files
    for name, n in (("acme-7b-Q4_K_M.gguf", 4_368_439_296), ("acme-7b-Q8_0.gguf", 7_695_857_952)):
        (tmp_path / name).write_text(f"version https://git-lfs.github.com/spec/v1\noid sha256:{'ab' * 32}\nsize {n}\n")
    assert "'acme-7b-Q4_K_M.gguf', 'acme-7b-Q8_0.gguf' are each a complete GGUF model; one model's artifacts " \
           "hold one of them" in refused(["*.gguf"], tmp_path)


def test_a_sharded_pytorch_checkpoint_index_stands_for_its_bin_shards(tmp_path):
    # transformers' pytorch_model.bin.index.json naming pytorch_model-0000N-of-00002.bin (torch.save zips)
    import zipfile

    names = ["pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"]
    for i, name in enumerate(names):
        with zipfile.ZipFile(tmp_path / name, "w") as z:
            z.writestr(f"pytorch_model-0000{i + 1}-of-00002/data.pkl", b"\x80\x02}q\x00.")
            z.writestr(f"pytorch_model-0000{i + 1}-of-00002/data/0", b"\x00" * 4096)
    (tmp_path / "pytorch_model.bin.index.json").write_text(json.dumps(
        {"metadata": {"total_size": 8192}, "weight_map": {"a.weight": names[0], "b.weight": names[1]}}))
    res = size(["pytorch_model.bin.index.json"], tmp_path)
    assert [(a.path, a.format) for a in res.files] == [(n, "pytorch") for n in names]
    assert res.size_bytes == sum((tmp_path / n).stat().st_size for n in names)


def test_a_readable_gguf_and_one_left_in_lfs_are_refused(tmp_path):
    # the pointer's architecture is unknown: it may be the same model, so it clashes with any
    gguf_model(tmp_path / "acme-7b-Q4_K_M.gguf", GGUF_TENSORS)
    (tmp_path / "acme-7b-Q8_0.gguf").write_text(
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{'ab' * 32}\nsize 7695857952\n")
    assert "are each a complete GGUF model (architecture 'llama')" in refused(["*.gguf"], tmp_path)


def test_check_reports_name_the_files_counted_and_their_source(tmp_path):
    from gitrepo import make_repo

    doc = {"version": 1, "models": [{"name": "acme-7b", "artifacts": ["w/model.safetensors.index.json"],
                                     "evals": [{"scores": {"arc": 0.75}}]}]}
    repo = make_repo(tmp_path, {"idm.yaml": doc, "w/model.safetensors.index.json": json.dumps(ISSUE_INDEX)})
    assert repo.idm("record").returncode == 0
    repo.git("checkout", "-q", "-b", "pr")
    # the PR grows the model by 300,000,000 bytes (4.1 %): the density drops 4 %, so its details show
    bigger = dict(ISSUE_INDEX, metadata={"total_size": 7_541_732_096})
    repo.write("w/model.safetensors.index.json", json.dumps(bigger))
    repo.commit("bigger")
    p = repo.idm("check", "--base-ref", "origin/main")
    assert p.returncode == 0, p.stderr
    assert "  files    1 counted: w/model.safetensors.index.json (index)" in p.stdout.splitlines()
    md = repo.idm("check", "--base-ref", "origin/main", "--format", "markdown")
    assert md.returncode == 0, md.stderr
    assert "<details><summary>acme-7b: 1 file counted, 7,541,732,096 bytes</summary>" in md.stdout
    assert ("| w/model.safetensors.index.json | 7,541,732,096 | index | metadata.total\\_size; none of its 3 "
            "shards is checked out |") in md.stdout  # '_' escaped for Markdown
