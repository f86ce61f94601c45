"""Sizing local artifacts: real safetensors/GGUF files from their own libraries, and every refusal."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import struct
import tempfile
import time
import zipfile
from pathlib import Path

import gguf
import numpy as np
import pytest
import yaml
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from idm_gate.data import ArtifactSize, SizeResult
from idm_gate.errors import InputError
from idm_gate.sizing import MAX_MATCHES, measure_file, size_artifacts
from idm_gate.sizing import dvc as dvc_mod
from idm_gate.sizing import gguf as gguf_mod
from idm_gate.sizing import lfs as lfs_mod
from idm_gate.sizing import onnx as onnx_mod
from idm_gate.sizing import plain as plain_mod
from idm_gate.sizing import pytorch as pytorch_mod
from idm_gate.sizing import safetensors as st_mod
from strategies import mutated, scratch_dir

WHAT = "idm.yaml: models[0].artifacts"
OID = "sha256:" + "ab" * 32


def size(patterns, base: Path, root: Path | None = None) -> SizeResult:
    return size_artifacts(list(patterns), base, root or base, WHAT)


def raises(patterns, base: Path, root: Path | None = None) -> str:
    with pytest.raises(InputError) as ei:
        size(patterns, base, root)
    msg = str(ei.value)
    assert "\n" not in msg
    return msg


# ---------------------------------------------------------------- writers (the formats' own libraries)

def write_safetensors(path: Path, tensors: dict | None = None, metadata: dict | None = None) -> Path:
    tensors = tensors if tensors is not None else {
        "embed": np.arange(12, dtype=np.float32).reshape(3, 4),
        "norm": np.ones(5, dtype=np.float16),
        "mask": np.array([True, False, True]),
        "ids": np.arange(4, dtype=np.int64),
        "q": np.zeros((2, 3), dtype=np.int8),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=metadata)
    return path


def write_gguf(path: Path, quantized: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(2)
    w.add_context_length(128)
    w.add_array("tokenizer.ggml.tokens", ["<s>", "hello", "world"])
    w.add_array("tokenizer.ggml.scores", [0.0, -1.5, -2.5])
    w.add_string("general.name", "tiny")
    w.add_tensor("token_embd.weight", np.zeros((8, 64), dtype=np.float32))
    w.add_tensor("blk.0.attn_norm.weight", np.ones(64, dtype=np.float16))
    if quantized:
        data = np.random.default_rng(0).standard_normal((4, 64)).astype(np.float32)
        q = gguf.quants.quantize(data, GGMLQuantizationType.Q8_0)
        w.add_tensor("blk.0.ffn.weight", q, raw_dtype=GGMLQuantizationType.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def rewrite_st_header(src: Path, dst: Path, edit) -> Path:
    """Copy a library-written safetensors file with its JSON header changed by ``edit``."""
    raw = src.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    edit(header)
    new = json.dumps(header).encode()
    new += b" " * (-len(new) % 8)
    dst.write_bytes(struct.pack("<Q", len(new)) + new + raw[8 + n:])
    return dst


def patch(src: Path, dst: Path, offset: int, data: bytes) -> Path:
    raw = bytearray(src.read_bytes())
    raw[offset:offset + len(data)] = data
    dst.write_bytes(bytes(raw))
    return dst


def lfs_pointer(path: Path, size_line: str = "size 123456789", oid: str = OID) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"version https://git-lfs.github.com/spec/v1\noid {oid}\n{size_line}\n")
    return path


# ---------------------------------------------------------------- safetensors

def test_safetensors_params_and_size_match_the_library(tmp_path):
    p = write_safetensors(tmp_path / "model.safetensors", metadata={"format": "np"})
    r = size(["model.safetensors"], tmp_path)
    with safe_open(str(p), framework="numpy") as f:
        shapes = {k: f.get_slice(k).get_shape() for k in f.keys()}
        dtypes = {k: f.get_slice(k).get_dtype() for k in f.keys()}
    want_params = sum(math.prod(s) for s in shapes.values())
    assert r.params == want_params == 12 + 5 + 3 + 4 + 6
    assert r.size_bytes == p.stat().st_size
    (a,) = r.files
    assert (a.path, a.format, a.source) == ("model.safetensors", "safetensors", "stat")
    want_bits = sum(math.prod(shapes[k]) * st_mod.DTYPE_BITS[dtypes[k]] for k in shapes) / want_params
    assert a.bits_per_param == pytest.approx(want_bits)
    assert r.bits_per_param == pytest.approx(8 * p.stat().st_size / want_params)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int64, np.int32, np.int16,
                                   np.int8, np.uint64, np.uint32, np.uint16, np.uint8, np.bool_])
def test_every_numpy_dtype_the_library_writes_is_known(tmp_path, dtype):
    p = write_safetensors(tmp_path / "m.safetensors", {"t": np.zeros((2, 3), dtype=dtype)})
    a = st_mod.measure(p, "m.safetensors", WHAT)
    assert a.params == 6
    assert a.bits_per_param == 8 * np.dtype(dtype).itemsize


def test_safetensors_sub_byte_dtype_from_spec(tmp_path):
    src = write_safetensors(tmp_path / "src.safetensors", {"t": np.zeros(8, dtype=np.uint8)})

    def to_f4(h):  # 16 F4 values occupy the same 8 bytes
        h["t"].update(dtype="F4", shape=[16])

    a = st_mod.measure(rewrite_st_header(src, tmp_path / "f4.safetensors", to_f4), "f4", WHAT)
    assert (a.params, a.bits_per_param) == (16, 4)


def test_safetensors_without_weights_is_refused(tmp_path):
    # a file with only __metadata__, and one whose only tensor is empty: no weights to size
    p = write_safetensors(tmp_path / "e.safetensors", {}, metadata={"k": "v"})
    with pytest.raises(InputError, match=r"'e.safetensors': holds no tensors \(only __metadata__\)"):
        st_mod.measure(p, "e.safetensors", WHAT)
    p = write_safetensors(tmp_path / "z.safetensors", {"w": np.zeros((0, 4), dtype=np.float32)})
    with pytest.raises(InputError, match=r"its 1 tensor\(s\) hold no elements"):
        st_mod.measure(p, "z.safetensors", WHAT)


def _st_error(tmp_path: Path, raw: bytes) -> str:
    p = tmp_path / "bad.safetensors"
    p.write_bytes(raw)
    msg = raises(["bad.safetensors"], tmp_path)
    assert "'bad.safetensors'" in msg and msg.startswith(f"{WHAT}[0]: ")
    return msg


def test_safetensors_truncated_data(tmp_path):
    raw = write_safetensors(tmp_path / "ok.safetensors").read_bytes()
    assert "past the" in _st_error(tmp_path, raw[:-10])


def test_safetensors_shorter_than_length_prefix(tmp_path):
    assert "too short" in _st_error(tmp_path, b"\x01\x02\x03")


def test_safetensors_header_length_past_eof(tmp_path):
    raw = write_safetensors(tmp_path / "ok.safetensors").read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    msg = _st_error(tmp_path, raw[:8 + n - 1])
    assert "runs past the end of the file" in msg


def test_safetensors_header_length_over_cap(tmp_path):
    raw = write_safetensors(tmp_path / "ok.safetensors").read_bytes()
    msg = _st_error(tmp_path, struct.pack("<Q", 2**63) + raw[8:])
    assert "over the 104,857,600-byte limit" in msg


def test_safetensors_header_not_json_and_content_not_echoed(tmp_path):
    raw = write_safetensors(tmp_path / "ok.safetensors").read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    secret = b"TOPSECRET" * (n // 9) + b"!" * (n % 9)
    msg = _st_error(tmp_path, raw[:8] + secret + raw[8 + n:])
    assert "not valid UTF-8 JSON" in msg and "TOPSECRET" not in msg


@pytest.mark.parametrize("edit, expect", [
    (lambda h: h["embed"].update(shape=[3, 5]), "needs 60"),
    (lambda h: h["embed"].update(dtype="F64"), "needs 96"),
    (lambda h: h["embed"].update(dtype="Q4"), "unknown dtype 'Q4'"),
    (lambda h: h["embed"].update(shape=[3, -4]), "non-negative integers"),
    (lambda h: h["embed"].update(data_offsets=[5]), "data_offsets must be"),
    # two items that are not a list's: an object's keys, a string's characters; three items; a number
    (lambda h: h["embed"].update(data_offsets=dict(zip("ab", h["embed"]["data_offsets"], strict=True))),
     "data_offsets must be"),
    (lambda h: h["embed"].update(data_offsets="01"), "data_offsets must be"),
    (lambda h: h["embed"].update(data_offsets=[*h["embed"]["data_offsets"], 0]), "data_offsets must be"),
    (lambda h: h["embed"].update(data_offsets=7), "data_offsets must be"),
    (lambda h: h["norm"].update(data_offsets=h["embed"]["data_offsets"][:1]
                                + [h["embed"]["data_offsets"][0] + 10]), "overlap"),
    (lambda h: h["ids"].update(data_offsets=[10**6, 10**6 + 32]), "past the"),
    (lambda h: h.update(x=[1, 2]), "not an object"),
    (lambda h: h.update(x="F32"), "not an object"),
    (lambda h: h.update(x=None), "not an object"),
])
def test_safetensors_header_inconsistent_with_data(tmp_path, edit, expect):
    src = write_safetensors(tmp_path / "ok.safetensors")
    rewrite_st_header(src, tmp_path / "bad.safetensors", edit)
    msg = raises(["bad.safetensors"], tmp_path)
    assert expect in msg and "'bad.safetensors'" in msg


def test_safetensors_overlap_names_both_tensors(tmp_path):
    src = write_safetensors(tmp_path / "ok.safetensors", {"a": np.zeros(4, np.float32),
                                                          "b": np.zeros(4, np.float32)})

    def same_range(h):
        h["b"]["data_offsets"] = h["a"]["data_offsets"]

    rewrite_st_header(src, tmp_path / "bad.safetensors", same_range)
    msg = raises(["bad.safetensors"], tmp_path)
    assert "'a'" in msg and "'b'" in msg and "overlap" in msg



def _st_with_header_text(src: Path, dst: Path, text: str) -> Path:
    """Copy a library-written safetensors file with its header replaced by ``text`` (padded to 8 bytes)."""
    raw = src.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    new = text.encode()
    new += b" " * (-len(new) % 8)
    dst.write_bytes(struct.pack("<Q", len(new)) + new + raw[8 + n:])
    return dst


def _library_header(src: Path) -> dict:
    raw = src.read_bytes()
    return json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])


def test_safetensors_header_json_is_read_as_the_library_reads_it(tmp_path):
    src = write_safetensors(tmp_path / "ok.safetensors", {"a": np.zeros(4, np.float32), "b": np.zeros(4, np.float32)})
    h = _library_header(src)
    # A tensor named twice: the library keeps the last entry (shape [4]); so do we. The first entry's
    # shape [3] would not fit its 16 bytes, so keeping it would be refused ("needs 12").
    first = json.dumps({**h["a"], "shape": [3]})
    dup = _st_with_header_text(src, tmp_path / "dup.safetensors", '{"a": ' + first + ", " + json.dumps(h)[1:])
    with safe_open(str(dup), framework="numpy") as f:
        assert f.get_slice("a").get_shape() == [4]
    assert size(["dup.safetensors"], tmp_path).params == 4 + 4
    # A byte order mark before the header: the library refuses it ("invalid JSON in header"); so do we.
    bom = _st_with_header_text(src, tmp_path / "bom.safetensors", "\ufeff" + json.dumps(h))
    with pytest.raises(SafetensorError, match="invalid JSON in header"):
        safe_open(str(bom), framework="numpy")
    assert raises(["bom.safetensors"], tmp_path) == (
        f"{WHAT}[0]: 'bom.safetensors': safetensors header is not valid UTF-8 JSON; the file is corrupt or not safetensors")


def test_safetensors_tensors_listed_out_of_data_order(tmp_path):
    # The library lists tensors in the order of their data; another writer may not. Reversed, the same
    # ranges still tile the data (12*4 + 5*2 + 3 + 4*8 + 6 bytes): accepted, 30 parameters as the library
    # counts them. Then 'norm' moved onto the middle of 'embed' (the first entry after reversing): refused.
    src = write_safetensors(tmp_path / "ok.safetensors", metadata={"format": "np"})
    h = _library_header(src)
    rev = dict(reversed(list(h.items())))
    assert [k for k in rev if k != "__metadata__"] != [k for k in h if k != "__metadata__"]
    _st_with_header_text(src, tmp_path / "rev.safetensors", json.dumps(rev))
    assert size(["rev.safetensors"], tmp_path).params == 12 + 5 + 3 + 4 + 6
    b = rev["embed"]["data_offsets"][0]
    rev["norm"]["data_offsets"] = [b + 4, b + 14]
    _st_with_header_text(src, tmp_path / "bad.safetensors", json.dumps(rev))
    msg = raises(["bad.safetensors"], tmp_path)
    assert f"tensors 'embed' and 'norm' overlap in the data section (bytes {b + 4:,}..{b + 14:,})" in msg


def test_safetensors_integers_past_64_bits_are_read_as_json_reads_them(tmp_path):
    src = write_safetensors(tmp_path / "ok.safetensors", {"a": np.zeros(4, np.float32)})
    h = _library_header(src)
    end = h["a"]["data_offsets"][1]
    # An empty tensor with a dimension of 2**70 (and one of 0): 0 elements, 0 bytes, a valid entry; and a
    # metadata value past 64 bits, which nothing reads. Accepted: 4 parameters, from 'a' alone.
    h["empty"] = {"dtype": "F32", "shape": [0, 2**70], "data_offsets": [end, end]}
    h["__metadata__"] = {"format": "np", "n": 2**70}
    _st_with_header_text(src, tmp_path / "big.safetensors", json.dumps(h))
    assert size(["big.safetensors"], tmp_path).params == 4
    # A dimension of 2**64 on a tensor of 16 bytes: refused for its size (2**64 F32 elements need 2**66
    # bytes), as the integer it is, not as a shape that is not a list of integers.
    h = _library_header(src)
    h["a"]["shape"] = [2**64]
    _st_with_header_text(src, tmp_path / "huge.safetensors", json.dumps(h))
    assert f"data_offsets span 16 bytes but F32 [{2**64}] needs {2**66:,}" in raises(["huge.safetensors"], tmp_path)


# ---------------------------------------------------------------- gguf

def test_gguf_params_and_bits_match_the_library(tmp_path):
    p = write_gguf(tmp_path / "w" / "tiny.gguf")
    r = size(["w/*.gguf"], tmp_path)
    reader = gguf.GGUFReader(str(p))
    want = sum(int(t.n_elements) for t in reader.tensors)
    assert r.params == want == 8 * 64 + 64 + 4 * 64
    assert r.size_bytes == p.stat().st_size
    (a,) = r.files
    assert (a.path, a.format, a.source) == ("w/tiny.gguf", "gguf", "stat")
    want_bits = 8 * sum(int(t.n_bytes) for t in reader.tensors) / want
    assert a.bits_per_param == pytest.approx(want_bits)


def test_ggml_type_table_agrees_with_the_gguf_library():
    for qtype, (block, nbytes) in GGML_QUANT_SIZES.items():
        assert gguf_mod.GGML_TYPES[int(qtype)] == (qtype.name, block, nbytes), qtype.name


def test_gguf_value_type_table_agrees_with_the_gguf_library():
    for vt in gguf.GGUFValueType:
        assert gguf_mod.VALUE_TYPES[int(vt)][0] == vt.name.lower()


def _gguf_header_fields(p: Path) -> tuple[bytes, int]:
    raw = p.read_bytes()
    name = b"blk.0.attn_norm.weight"
    return raw, raw.index(name) + len(name)  # n_dims of that tensor follows its name


@pytest.mark.parametrize("offset_fn, data, expect", [
    (lambda raw, nd: 0, b"GGUX", "does not start with the 'GGUF' magic"),
    (lambda raw, nd: 4, struct.pack("<I", 1), "version 1, which is not supported"),
    (lambda raw, nd: 4, struct.pack(">I", 3), "big-endian GGUF"),
    (lambda raw, nd: 4, struct.pack("<I", 77), "unknown GGUF version 77"),
    (lambda raw, nd: 8, struct.pack("<Q", 2**40), "claims 1,099,511,627,776 tensors"),
    (lambda raw, nd: 16, struct.pack("<Q", 2**60), "metadata pairs"),
    (lambda raw, nd: nd, struct.pack("<I", 9), "9 dimensions (at most 8)"),
    (lambda raw, nd: nd + 4, struct.pack("<Q", 2**50), "more than a"),
    (lambda raw, nd: raw.index(b"general.architecture") + 20 + 4, struct.pack("<Q", 2**62),
     "claims 4,611,686,018,427,387,904 bytes"),
    (lambda raw, nd: raw.index(b"general.architecture") + 20, struct.pack("<I", 99),
     "unknown value type 99"),
    (lambda raw, nd: raw.index(b"tokenizer.ggml.tokens") + 21 + 4 + 4, struct.pack("<Q", 2**40),
     "claims 1,099,511,627,776 elements"),
    (lambda raw, nd: nd + 4 + 8, struct.pack("<I", 12), "not a multiple of the Q4_K block size"),
])
def test_gguf_corrupt_headers(tmp_path, offset_fn, data, expect):
    src = write_gguf(tmp_path / "ok.gguf")
    raw, nd = _gguf_header_fields(src)
    patch(src, tmp_path / "bad.gguf", offset_fn(raw, nd), data)
    msg = raises(["bad.gguf"], tmp_path)
    assert expect in msg and "'bad.gguf'" in msg


def test_gguf_vocabulary_walk_across_read_boundaries(tmp_path):
    # A vocabulary read in place from a buffer that starts at 4 KiB and doubles: strings of every
    # length from 0 to 9,999 bytes (some longer than the first read), then a corrupted length.
    tokens = ["x" * (i * 37 % 10_000) for i in range(700)] + [""] + ["end"]
    p = tmp_path / "vocab.gguf"
    w = gguf.GGUFWriter(str(p), "llama")
    w.add_array("tokenizer.ggml.tokens", tokens)
    w.add_string("general.name", "after the vocabulary")
    w.add_tensor("w", np.zeros((3, 32), dtype=np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    a = gguf_mod.measure(p, "vocab.gguf", WHAT)
    assert a.params == 3 * 32 == sum(int(t.n_elements) for t in gguf.GGUFReader(str(p)).tensors)
    assert a.bits_per_param == 16.0
    raw = p.read_bytes()
    # the 501st token's u64 length: after the key, type, element type and count, 500 strings before it
    at = raw.index(b"tokenizer.ggml.tokens") + len("tokenizer.ggml.tokens") + 4 + 4 + 8
    at += sum(8 + len(t) for t in tokens[:500])
    assert struct.unpack_from("<Q", raw, at)[0] == len(tokens[500]) == 500 * 37 % 10_000
    patch(p, tmp_path / "bad.gguf", at, struct.pack("<Q", len(raw)))
    msg = raises(["bad.gguf"], tmp_path)
    assert f"metadata 'tokenizer.ggml.tokens' string at byte {at:,} claims {len(raw):,} bytes but only" in msg


def test_gguf_truncated_tensor_data(tmp_path):
    raw = write_gguf(tmp_path / "ok.gguf").read_bytes()
    (tmp_path / "cut.gguf").write_bytes(raw[:-100])
    assert "runs past the end of the file" in raises(["cut.gguf"], tmp_path)
    (tmp_path / "cut2.gguf").write_bytes(raw[:raw.index(b"general.name") + 5])
    assert "truncated" in raises(["cut2.gguf"], tmp_path)


def test_gguf_reader_never_reads_tensor_data(tmp_path):
    p = tmp_path / "big.gguf"
    w = gguf.GGUFWriter(str(p), "llama")
    w.add_tensor("big", np.zeros((512, 1024), dtype=np.float32))  # 2 MiB of data
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    from idm_gate.sizing._io import HeaderReader

    seen = []
    orig = HeaderReader.__exit__

    def spy(self, *exc):
        seen.append(self.bytes_read)
        return orig(self, *exc)

    HeaderReader.__exit__ = spy
    try:
        a = gguf_mod.measure(p, "big.gguf", WHAT)
    finally:
        HeaderReader.__exit__ = orig
    assert a.params == 512 * 1024
    assert seen and seen[0] < p.stat().st_size // 2


def test_header_reader_caps_bytes_read_and_time(tmp_path, monkeypatch):
    from idm_gate.sizing import _io

    p = tmp_path / "f.bin"
    p.write_bytes(bytes(range(100)))
    with _io.HeaderReader(p, WHAT, "f.bin", cap=20) as r:
        assert r.read(8) == bytes(range(8)) and r.read(12) == bytes(range(8, 20))
        r.skip(50)  # skipping is free: lseek, no read
        with pytest.raises(InputError, match="over the 20-byte read limit"):
            r.read(1)
        assert r.bytes_read == 20
    monkeypatch.setattr(_io, "DEFAULT_DEADLINE_S", 0.0)
    with pytest.raises(InputError, match="took too long"):
        gguf_mod.measure(write_gguf(tmp_path / "ok.gguf"), "ok.gguf", WHAT)


# ---------------------------------------------------------------- onnx, pytorch, plain

def test_pytorch_zip_checkpoint_and_bare_pickle(tmp_path):
    with zipfile.ZipFile(tmp_path / "model.pt", "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    (tmp_path / "legacy.bin").write_bytes(b"\x80\x02}q\x00." + b"\0" * 2000)
    r = size(["model.pt", "legacy.bin"], tmp_path)
    by = {a.path: a for a in r.files}
    assert by["model.pt"].format == "pytorch" and by["legacy.bin"].format is None
    assert by["model.pt"].size_bytes == (tmp_path / "model.pt").stat().st_size
    assert r.params is None  # a checkpoint is never unpickled, so no count


def test_onnx_that_is_not_protobuf_is_refused(tmp_path):
    # real ONNX models (written by the onnx library) are counted in tests/sizing/test_sizing_onnx.py
    (tmp_path / "m.onnx").write_bytes(b"\x08\x07" + b"\0" * 5000)
    assert "not a valid ONNX protobuf" in raises(["*.onnx"], tmp_path)


def test_non_weight_files_do_not_spoil_the_param_count(tmp_path):
    write_safetensors(tmp_path / "model.safetensors")
    (tmp_path / "tokenizer.json").write_text('{"vocab": {}}')
    r = size(["model.safetensors", "tokenizer.json"], tmp_path)
    assert r.params == 30 and r.source == "stat"
    assert r.size_bytes == sum(f.stat().st_size for f in tmp_path.iterdir())
    assert [a.path for a in r.files] == ["model.safetensors", "tokenizer.json"]


# ---------------------------------------------------------------- lfs and dvc

def test_lfs_pointer_gives_the_real_size(tmp_path):
    lfs_pointer(tmp_path / "weights" / "model.safetensors")
    r = size(["weights/*.safetensors"], tmp_path)
    assert (r.size_bytes, r.source, r.params) == (123456789, "lfs-pointer", None)
    (a,) = r.files
    assert (a.format, a.source) == ("safetensors", "lfs-pointer")


@pytest.mark.parametrize("size_line", ["size 12x", "size -5", "size ", "size 1.5e9", "sise 10"])
def test_lfs_pointer_malformed_size(tmp_path, size_line):
    lfs_pointer(tmp_path / "m.gguf", size_line=size_line)
    msg = raises(["m.gguf"], tmp_path)
    assert "'size' line is missing or not a non-negative integer" in msg and "'m.gguf'" in msg


def test_lfs_pointer_bad_oid(tmp_path):
    lfs_pointer(tmp_path / "m.gguf", oid="sha256:xyz")
    assert "oid sha256" in raises(["m.gguf"], tmp_path)


def test_mixed_sources(tmp_path):
    lfs_pointer(tmp_path / "a.safetensors", size_line="size 100")
    (tmp_path / "b.bin").write_bytes(b"x" * 5000)  # raw weights of no known format: sized by stat
    r = size(["*"], tmp_path)
    assert (r.source, r.size_bytes) == ("mixed", 5100)


def _dvc(path: Path, outs) -> Path:
    path.write_text(yaml.safe_dump({"outs": outs}))
    return path


def test_dvc_file_sums_outs(tmp_path):
    _dvc(tmp_path / "model.safetensors.dvc",
         [{"md5": "0" * 32, "size": 2_000_000_000, "hash": "md5", "path": "model.safetensors"}])
    r = size(["model.safetensors.dvc"], tmp_path)
    (a,) = r.files
    assert (r.size_bytes, r.source, a.format) == (2_000_000_000, "dvc", "safetensors")
    # naming the tracked file that is not checked out falls back to its .dvc
    assert size(["model.safetensors"], tmp_path).size_bytes == 2_000_000_000


@pytest.mark.parametrize("outs, expect", [
    ([{"md5": "0" * 32, "path": "m.bin"}], "outs[0].size is missing"),
    ([{"size": "big", "path": "m.bin"}], "outs[0].size is missing"),
    ([{"size": True, "path": "m.bin"}], "outs[0].size is missing"),
    ([], "no 'outs' list"),
])
def test_dvc_invalid(tmp_path, outs, expect):
    _dvc(tmp_path / "m.bin.dvc", outs)
    assert expect in raises(["m.bin.dvc"], tmp_path)


def test_dvc_not_yaml(tmp_path):
    (tmp_path / "m.dvc").write_text("outs: [unclosed\n")
    assert "not a valid YAML .dvc file" in raises(["m.dvc"], tmp_path)


# ---------------------------------------------------------------- paths, globs, special files

def test_recursive_glob_and_dedup(tmp_path):
    write_safetensors(tmp_path / "w" / "a" / "x.safetensors")
    write_safetensors(tmp_path / "w" / "y.safetensors")
    (tmp_path / "w" / "alias.safetensors").symlink_to(tmp_path / "w" / "y.safetensors")
    r = size(["w/**/*.safetensors", "w/y.safetensors", "w/a/x.safetensors"], tmp_path)
    assert [a.path for a in r.files] == ["w/a/x.safetensors", "w/alias.safetensors"]
    assert r.params == 60 and r.size_bytes == 2 * (tmp_path / "w" / "y.safetensors").stat().st_size


def test_paths_are_shown_relative_to_the_repository(tmp_path):
    write_safetensors(tmp_path / "models" / "m" / "w.safetensors")
    r = size_artifacts(["w.safetensors"], tmp_path / "models" / "m", tmp_path, WHAT)
    assert r.files[0].path == "models/m/w.safetensors"


def test_no_match_glob(tmp_path):
    msg = raises(["weights/*.gguf"], tmp_path)
    assert msg == (f"{WHAT}[0]: 'weights/*.gguf' matches no file; check the glob "
                   "(relative to the manifest's folder)")


def test_missing_literal_path(tmp_path):
    write_safetensors(tmp_path / "a.safetensors")
    assert raises(["a.safetensors", "b.gguf"], tmp_path).startswith(f"{WHAT}[1]: 'b.gguf' does not exist")


def test_folder_without_weights_is_refused(tmp_path):
    (tmp_path / "weights").mkdir()
    assert "folder 'weights' holds no weight file idm-gate recognises" in raises(["weights"], tmp_path)
    (tmp_path / "weights" / "config.json").write_text("{}")
    assert "found: weights/config.json)" in raises(["weights"], tmp_path)
    assert "'*' matches only folders (weights); name a folder without a glob" in raises(["*"], tmp_path)


def test_symlink_outside_root(tmp_path):
    (tmp_path / "outside").mkdir()
    outside = tmp_path / "outside" / "x.safetensors"   # beside the repo folder, not in it
    write_safetensors(outside)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "x.safetensors").symlink_to(outside)
    assert "resolves outside the repository" in raises(["x.safetensors"], repo)
    write_safetensors(tmp_path / "beside.safetensors")
    assert "resolves outside the repository" in raises(["../*.safetensors"], repo)
    assert "absolute path" in raises([str(outside)], repo)


def test_symlinked_folder_is_resolved_though_its_files_are_regular(tmp_path):
    # scandir reports the files inside a symlinked folder as regular files: the folder itself must
    # still be resolved, and refused when it leads out of the repository.
    outside = tmp_path / "outside"
    outside.mkdir()
    write_safetensors(outside / "x.safetensors")
    repo = tmp_path / "repo"
    (repo / "w").mkdir(parents=True)
    (repo / "w" / "link").symlink_to(outside, target_is_directory=True)
    assert "resolves outside the repository" in raises(["w/link/*.safetensors"], repo)
    assert "resolves outside the repository" in raises(["w/*/*.safetensors"], repo)
    # a symlinked folder inside the repository is fine, and its file counts once
    (repo / "real").mkdir()
    write_safetensors(repo / "real" / "y.safetensors")
    (repo / "w" / "link").unlink()
    (repo / "w" / "link").symlink_to(repo / "real", target_is_directory=True)
    r = size_artifacts(["w/link/*.safetensors", "real/*.safetensors"], repo, repo, WHAT)
    assert [a.path for a in r.files] == ["real/y.safetensors"]


def test_paths_are_resolved_once_per_folder_not_once_per_file(tmp_path, monkeypatch):
    # "Resolve the root once; resolve only what scandir reports as a link": 40 shards in one folder
    # cost one realpath for the root, one for the manifest's folder, one for the shards' folder.
    for i in range(40):
        write_safetensors(tmp_path / "w" / f"s{i:02d}.safetensors")
    (tmp_path / "w" / "zz.safetensors").symlink_to(tmp_path / "w" / "s00.safetensors")
    calls = []
    real = os.path.realpath
    monkeypatch.setattr(os.path, "realpath", lambda p, *a, **k: calls.append(str(p)) or real(p, *a, **k))
    r = size_artifacts(["w/*.safetensors"], tmp_path, tmp_path, WHAT)
    assert len(r.files) == 40  # the symlink is the same file as s00, counted once
    folder_calls = [c for c in calls if not c.endswith(".safetensors")]
    link_calls = [c for c in calls if c.endswith(".safetensors")]
    assert sorted(set(folder_calls)) == sorted({str(tmp_path), str(tmp_path / "w")})
    assert folder_calls.count(str(tmp_path / "w")) == 1
    assert len(folder_calls) <= 4  # root and base once each, the folder once (+ root by the link's check)
    assert [Path(c).name for c in link_calls] == ["zz.safetensors"]  # only the link is resolved itself


def test_dev_zero_through_symlink(tmp_path):
    (tmp_path / "zero.safetensors").symlink_to("/dev/zero")
    assert "resolves outside the repository" in raises(["zero.safetensors"], tmp_path)
    # even with the whole filesystem as root it is not a regular file
    msg = raises(["zero.safetensors"], tmp_path, root=Path("/"))
    assert "not a regular file" in msg


@pytest.fixture
def alarm():
    old = signal.signal(signal.SIGALRM, lambda *a: pytest.fail("blocked on a special file"))
    signal.alarm(5)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def test_fifo_is_refused_without_blocking(tmp_path, alarm):
    os.mkfifo(tmp_path / "pipe.gguf")
    assert "not a regular file" in raises(["pipe.gguf"], tmp_path)
    assert "not a regular file" in raises(["*.gguf"], tmp_path)
    # the header readers themselves open non-blocking and re-check with fstat
    for reader in (st_mod.measure, gguf_mod.measure, lfs_mod.measure, pytorch_mod.measure,
                   onnx_mod.measure, dvc_mod.measure, plain_mod.measure):
        with pytest.raises(InputError, match="not a regular file"):
            reader(tmp_path / "pipe.gguf", "pipe.gguf", WHAT)


@pytest.fixture
def fast_dir(tmp_path):
    """A scratch folder on tmpfs when there is one: 100,000 files take ~1 s there, 10-20 s on disk."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path, 10_001  # enough to cross the cap; the 100,000 case needs tmpfs to stay fast
        return
    d = Path(tempfile.mkdtemp(dir=shm, prefix="idm-sizing-"))
    try:
        yield d, 100_000
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_glob_over_cap_fails_fast(fast_dir):
    root, n = fast_dir
    many = root / "many"
    many.mkdir()
    for i in range(n):
        os.close(os.open(many / f"{i:06d}.bin", os.O_CREAT | os.O_WRONLY, 0o644))
    t0 = time.monotonic()
    msg = raises(["many/*.bin"], root)
    assert msg == (f"{WHAT}[0]: 'many/*.bin' matches over {MAX_MATCHES:,} files; narrow the glob "
                   "to the weight files (e.g. 'weights/*.safetensors')")
    assert time.monotonic() - t0 < 2
    # exactly at the cap is fine
    r = size(["many/00*.bin"], root)
    assert len(r.files) == MAX_MATCHES and r.size_bytes == 0


@pytest.mark.parametrize("patterns, expect", [
    ([], "no artifacts listed"),
    ([""], "must be a non-empty path"),
    (["s3://bucket/m.gguf"], "unsupported scheme"),
])
def test_bad_entries(tmp_path, patterns, expect):
    assert expect in raises(patterns, tmp_path)


# ---------------------------------------------------------------- property: any bytes -> size or InputError

_PROP_DIR = scratch_dir("idm-sizing-prop-")
_ST_SEED = write_safetensors(_PROP_DIR / "seed.safetensors").read_bytes()
_GGUF_SEED = write_gguf(_PROP_DIR / "seed.gguf").read_bytes()
_READERS = [st_mod.measure, gguf_mod.measure, lfs_mod.measure, dvc_mod.measure, pytorch_mod.measure,
            onnx_mod.measure, plain_mod.measure]


_ANY_BYTES = st.one_of(
    st.binary(max_size=2048),
    mutated(_ST_SEED),
    mutated(_GGUF_SEED),
    st.builds(lambda b: b"GGUF" + b, st.binary(max_size=256)),
    st.builds(lambda n, b: struct.pack("<Q", n) + b, st.integers(0, 2**64 - 1), st.binary(max_size=256)),
    st.builds(lambda s: (lfs_mod.VERSION_LINE + b"\n").decode() + s, st.text(max_size=200)).map(str.encode),
    st.text(max_size=300).map(lambda s: ("outs:\n" + s).encode()),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_ANY_BYTES, name=st.sampled_from(["m.safetensors", "m.gguf", "m.dvc", "m.bin", "m.txt"]))
def test_any_bytes_give_a_size_or_an_input_error(data, name):
    p = _PROP_DIR / name
    p.write_bytes(data)
    for reader in [*_READERS, measure_file]:
        try:
            out = reader(p, name, WHAT)
        except InputError as e:
            assert "\n" not in str(e)
        else:
            assert isinstance(out, ArtifactSize) and out.size_bytes >= 0


def test_dvc_duplicate_key_is_refused(tmp_path):
    (tmp_path / "m.dvc").write_text("outs:\n- md5: a\n  size: 10\n  size: 99999999\n  path: m.gguf\n")
    assert "is not a valid YAML .dvc file (line 4, column 3: duplicate key 'size'" in raises(["m.dvc"], tmp_path)
