"""ONNX parameter counts from the protobuf wire format, checked against models the onnx library writes."""

from __future__ import annotations

import math
import os
import random
from pathlib import Path

import numpy as np
import onnx
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from idm_gate.data import ArtifactSize
from idm_gate.errors import InputError
from idm_gate.sizing import _io, measure_file, size_artifacts
from idm_gate.sizing import onnx as onnx_mod
from strategies import mutated, scratch_dir

WHAT = "idm.yaml: models[0].artifacts"


# ---------------------------------------------------------------- models written by the onnx library

def mlp(extra_inits=(), sparse=()) -> onnx.ModelProto:
    """A two-layer MLP: raw_data weights, float_data biases, an int64 shape and a float16 scale."""
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.standard_normal((16, 32)).astype(np.float32), "w1"),  # raw_data
        helper.make_tensor("b1", TensorProto.FLOAT, [32], [0.5] * 32),                   # float_data
        numpy_helper.from_array(rng.standard_normal((32, 4)).astype(np.float32), "w2"),
        helper.make_tensor("b2", TensorProto.FLOAT, [4], [0.0, 1.0, 2.0, 3.0]),
        numpy_helper.from_array(np.array([1, 4], dtype=np.int64), "shape"),
        numpy_helper.from_array(np.array(0.5, dtype=np.float16), "scale"),               # a scalar
        *extra_inits,
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"]),
        helper.make_node("Add", ["h", "b1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h2"]),
        helper.make_node("MatMul", ["h2", "w2"], ["o"]),
        helper.make_node("Add", ["o", "b2"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        inits, doc_string="a small MLP", sparse_initializer=list(sparse),
    )
    return helper.make_model(graph, producer_name="idm-gate-tests")


def save(model: onnx.ModelProto, path: Path, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(path), **kw)
    return path


def onnx_counts(path: Path) -> tuple[int, float]:
    """Parameters and bits per parameter as onnx itself reports them (dense arrays, sparse NNZ)."""
    m = onnx.load(str(path))
    arrays = [numpy_helper.to_array(t) for t in m.graph.initializer]
    arrays += [numpy_helper.to_array(s.values) for s in m.graph.sparse_initializer]
    n = sum(a.size for a in arrays)
    return n, sum(8 * a.nbytes for a in arrays) / n


def measure(path: Path) -> ArtifactSize:
    return measure_file(path, path.name, WHAT)


def refused(path: Path) -> str:
    with pytest.raises(InputError) as ei:
        measure(path)
    msg = str(ei.value)
    assert "\n" not in msg
    assert msg.startswith(f"{WHAT}: {path.name!r}: ")
    return msg


def bytes_read(fn) -> tuple[object, list[int], int]:
    """Run ``fn`` and return its result, each HeaderReader's ``bytes_read`` and all bytes that
    ``os.read`` and ``os.pread`` returned."""
    seen, total = [], [0]
    orig_exit, orig_read, orig_pread = _io.HeaderReader.__exit__, os.read, os.pread

    def spy_exit(self, *exc):
        seen.append(self.bytes_read)
        return orig_exit(self, *exc)

    def spy_read(fd, n):
        b = orig_read(fd, n)
        total[0] += len(b)
        return b

    def spy_pread(fd, n, offset):
        b = orig_pread(fd, n, offset)
        total[0] += len(b)
        return b

    _io.HeaderReader.__exit__ = spy_exit
    # the module's os is the os module: patch the functions, restore below
    _io.os.read, _io.os.pread = spy_read, spy_pread
    try:
        out = fn()
    finally:
        _io.HeaderReader.__exit__ = orig_exit
        _io.os.read, _io.os.pread = orig_read, orig_pread
    return out, seen, total[0]


# ---------------------------------------------------------------- counts match onnx

def test_mlp_params_and_bits_match_onnx(tmp_path):
    p = save(mlp(), tmp_path / "model.onnx")
    want_params, want_bits = onnx_counts(p)
    assert want_params == 16 * 32 + 32 + 32 * 4 + 4 + 2 + 1
    a = measure(p)
    assert (a.path, a.format, a.source, a.size_bytes) == ("model.onnx", "onnx", "stat", p.stat().st_size)
    assert a.params == want_params
    assert a.bits_per_param == pytest.approx(want_bits)
    r = size_artifacts(["*.onnx"], tmp_path, tmp_path, WHAT)
    assert r.params == want_params
    assert r.bits_per_param == pytest.approx(8 * p.stat().st_size / want_params)


def test_empty_and_large_rank_tensors_count_as_onnx_does(tmp_path):
    extra = [numpy_helper.from_array(np.zeros((0, 7), np.float32), "empty"),
             numpy_helper.from_array(np.zeros((2, 1, 3, 1, 2), np.int8), "rank5")]
    p = save(mlp(extra), tmp_path / "m.onnx")
    assert measure(p).params == onnx_counts(p)[0]


@pytest.mark.parametrize("dtype", sorted(onnx_mod.DTYPE_BITS))
def test_dtype_bit_widths_match_what_onnx_stores(tmp_path, dtype):
    t = numpy_helper.from_array(np.zeros(16, helper.tensor_dtype_to_np_dtype(dtype)), "t")
    assert onnx_mod.DTYPE_BITS[dtype] == 8 * len(t.raw_data) / 16
    a = measure(save(helper.make_model(helper.make_graph([], "g", [], [], [t])), tmp_path / "m.onnx"))
    assert (a.params, a.bits_per_param) == (16, onnx_mod.DTYPE_BITS[dtype])


def test_string_tensor_counts_params_but_no_bit_width(tmp_path):
    s = helper.make_tensor("vocab", TensorProto.STRING, [3], [b"a", b"bc", b"def"])
    p = save(mlp([s]), tmp_path / "m.onnx")
    a = measure(p)
    assert a.params == onnx_counts(p)[0] and a.bits_per_param is None


def packed_dims_model(dims: list[int]) -> bytes:
    """A ModelProto whose one initializer has *packed* dims, serialized by protobuf itself.

    onnx.proto is proto2 without ``[packed = true]`` on dims, so onnx writes them unpacked; a proto
    with the same field numbers but packed dims gives the other encoding a parser must accept.
    """
    fdp = descriptor_pb2.FileDescriptorProto(name="packed_onnx_test.proto", package="packedtest",
                                             syntax="proto2")
    T = descriptor_pb2.FieldDescriptorProto
    lab, rep = T.LABEL_OPTIONAL, T.LABEL_REPEATED

    def msg(name, *fields):
        m = fdp.message_type.add(name=name)
        for fname, num, label, ftype, tname in fields:
            f = m.field.add(name=fname, number=num, label=label, type=ftype)
            if tname:
                f.type_name = tname
            if fname == "dims":
                f.options.packed = True

    msg("Tensor", ("dims", 1, rep, T.TYPE_INT64, None), ("data_type", 2, lab, T.TYPE_INT32, None),
        ("name", 8, lab, T.TYPE_STRING, None), ("raw_data", 9, lab, T.TYPE_BYTES, None))
    msg("Graph", ("name", 2, lab, T.TYPE_STRING, None),
        ("initializer", 5, rep, T.TYPE_MESSAGE, ".packedtest.Tensor"))
    msg("Model", ("ir_version", 1, lab, T.TYPE_INT64, None),
        ("graph", 7, lab, T.TYPE_MESSAGE, ".packedtest.Graph"))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    Model = message_factory.GetMessageClass(pool.FindMessageTypeByName("packedtest.Model"))
    m = Model(ir_version=onnx.IR_VERSION)
    m.graph.name = "g"
    t = m.graph.initializer.add(name="w", data_type=TensorProto.FLOAT)
    t.dims.extend(dims)
    t.raw_data = np.zeros(math.prod(dims), np.float32).tobytes()
    return m.SerializeToString()


def test_packed_dims_are_read_like_unpacked(tmp_path):
    raw = packed_dims_model([3, 5, 7])
    assert list(onnx.load_from_string(raw).graph.initializer[0].dims) == [3, 5, 7]  # onnx agrees
    p = tmp_path / "packed.onnx"
    p.write_bytes(raw)
    assert measure(p).params == 105
    unpacked = save(onnx.load_from_string(raw), tmp_path / "unpacked.onnx")
    assert unpacked.read_bytes() != raw and measure(unpacked).params == 105


def test_sparse_initializer_counts_stored_values_not_the_dense_shape(tmp_path):
    values = helper.make_tensor("sp", TensorProto.FLOAT, [3], [1.0, 2.0, 3.0])
    indices = helper.make_tensor("sp_idx", TensorProto.INT64, [3], [0, 17, 99])
    sp = helper.make_sparse_tensor(values, indices, [10, 10])
    p = save(mlp(sparse=[sp]), tmp_path / "m.onnx")
    dense_only = onnx_counts(save(mlp(), tmp_path / "dense.onnx"))[0]
    a = measure(p)
    assert a.params == onnx_counts(p)[0] == dense_only + 3  # NNZ, not 100
    assert a.bits_per_param == pytest.approx(onnx_counts(p)[1])


def test_sparse_with_more_values_than_its_dense_shape_is_refused(tmp_path):
    values = helper.make_tensor("sp", TensorProto.FLOAT, [5], [1.0] * 5)
    indices = helper.make_tensor("sp_idx", TensorProto.INT64, [5], [0, 1, 2, 3, 4])
    sp = onnx.SparseTensorProto(values=values, indices=indices, dims=[2, 2])  # 5 values in 4 cells
    msg = refused(save(mlp(sparse=[sp]), tmp_path / "m.onnx"))
    assert "sparse initializer stores 5 values but its dense shape [2, 2] holds 4" in msg


def test_sparse_without_values_is_refused(tmp_path):
    sp = onnx.SparseTensorProto(dims=[2, 2])
    sp.indices.CopyFrom(helper.make_tensor("sp_idx", TensorProto.INT64, [1], [0]))
    assert "sparse initializer has no values tensor" in refused(save(mlp(sparse=[sp]), tmp_path / "m.onnx"))


def test_external_data_tensors_are_counted_and_the_data_file_is_never_read(tmp_path):
    p = save(mlp(), tmp_path / "model.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
             location="model.onnx.data", size_threshold=0)
    data = tmp_path / "model.onnx.data"
    m = onnx.load(str(p), load_external_data=False)
    assert sum(t.data_location == TensorProto.EXTERNAL for t in m.graph.initializer) >= 3
    onnx.load_external_data_for_model(m, str(tmp_path))
    want = sum(numpy_helper.to_array(t).size for t in m.graph.initializer)
    a, seen, total = bytes_read(lambda: onnx_mod.measure(p, "model.onnx", WHAT))
    assert a.params == want == onnx_counts(save(mlp(), tmp_path / "inline" / "m.onnx"))[0]
    assert seen == [total] and total <= p.stat().st_size  # only the .onnx file was read
    assert a.size_bytes == p.stat().st_size < data.stat().st_size
    moved = data.rename(tmp_path / "elsewhere.bin")
    assert measure(p).params == want  # the count needs no data file
    moved.rename(data)
    # listed together, the data file adds bytes and leaves the count alone
    r = size_artifacts(["model.onnx", "model.onnx.data"], tmp_path, tmp_path, WHAT)
    assert r.params == want
    assert r.size_bytes == p.stat().st_size + data.stat().st_size


def test_big_initializer_is_skipped_not_read(tmp_path):
    big = np.zeros((4096, 4096), dtype=np.float32)  # 64 MiB of raw_data
    model = mlp([numpy_helper.from_array(big, "big")])
    model.graph.initializer.insert(0, numpy_helper.from_array(big[:2048], "big_first"))
    p = save(model, tmp_path / "big.onnx")
    size = p.stat().st_size
    assert size > 96 * 2**20
    a, seen, total = bytes_read(lambda: onnx_mod.measure(p, "big.onnx", WHAT))
    assert a.params == 4096 * 4096 + 2048 * 4096 + onnx_counts(save(mlp(), tmp_path / "s.onnx"))[0]
    assert seen and seen[0] == total  # every byte read went through the capped reader
    assert total < 1 * 2**20 < size // 64, f"read {total:,} of {size:,} bytes"


def test_weights_only_in_constant_nodes_give_no_count(tmp_path):
    w = numpy_helper.from_array(np.ones((4, 4), np.float32), "w")
    nodes = [helper.make_node("Constant", [], ["w"], value=w), helper.make_node("MatMul", ["x", "w"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    a = measure(save(helper.make_model(g), tmp_path / "m.onnx"))
    assert (a.params, a.bits_per_param) == (None, None)  # 0 would claim a weightless model


def test_subgraph_initializers_are_not_descended_into(tmp_path):
    inner_w = numpy_helper.from_array(np.ones(1000, np.float32), "inner_w")
    out = helper.make_tensor_value_info("z", TensorProto.FLOAT, [1000])
    branch = helper.make_graph([helper.make_node("Identity", ["inner_w"], ["z"])], "b", [], [out], [inner_w])
    model = mlp()
    model.graph.node.append(helper.make_node("If", ["cond"], ["z"], then_branch=branch, else_branch=branch))
    a = measure(save(model, tmp_path / "m.onnx"))
    assert a.params == onnx_counts(save(mlp(), tmp_path / "plain.onnx"))[0]


def test_segmented_tensor_gives_no_count(tmp_path):
    t = numpy_helper.from_array(np.ones(8, np.float32), "w")
    t.segment.begin, t.segment.end = 0, 8
    assert measure(save(mlp([t]), tmp_path / "m.onnx")).params is None


def test_time_cap_applies(tmp_path, monkeypatch):
    p = save(mlp(), tmp_path / "m.onnx")
    monkeypatch.setattr(_io, "DEFAULT_DEADLINE_S", 0.0)
    assert "took too long" in refused(p)


# ---------------------------------------------------------------- corrupt files: one line, the file, the byte

def test_truncated_model_is_refused(tmp_path):
    raw = save(mlp(), tmp_path / "ok.onnx").read_bytes()
    p = tmp_path / "cut.onnx"
    p.write_bytes(raw[: len(raw) // 2])
    msg = refused(p)
    assert "not a valid ONNX protobuf: ModelProto field 7 claims" in msg
    assert "past the end of the file" in msg and "re-export it with onnx.save_model" in msg


def test_initializer_length_past_its_graph_is_refused(tmp_path):
    t = numpy_helper.from_array(np.ones(4, np.float32), "w")
    model = helper.make_model(helper.make_graph([], "g", [], [], [t]))  # opset_import follows the graph
    raw = model.SerializeToString()
    body = t.SerializeToString()
    at = raw.index(body)
    assert raw[at - 1] == len(body) < 127
    p = tmp_path / "m.onnx"
    p.write_bytes(raw[:at - 1] + bytes([len(body) + 1]) + raw[at:])
    msg = refused(p)
    assert "GraphProto field 5 claims" in msg and "past the end of its enclosing message" in msg
    assert f"(at byte {at - 1:,})" in msg  # the length prefix that lies


def test_overlong_varint_is_refused(tmp_path):
    raw = mlp().SerializeToString()
    assert raw[0] == 0x08  # ir_version, a one-byte varint
    p = tmp_path / "m.onnx"
    p.write_bytes(raw[:1] + b"\x80" * 10 + b"\x00" + raw[2:])
    assert "ModelProto field 1 is a varint longer than 10 bytes (at byte 1)" in refused(p)


@pytest.mark.parametrize("tag, expect", [
    (0x0B, "ModelProto field 1 uses a group (wire type 3)"),
    (0x0C, "ModelProto field 1 uses a group (wire type 4)"),
    (0x0E, "ModelProto field 1 has unknown wire type 6"),
    (0x0F, "ModelProto field 1 has unknown wire type 7"),
    (0x00, "ModelProto has invalid field number 0"),
])
def test_bad_wire_types_and_field_zero_are_refused(tmp_path, tag, expect):
    raw = mlp().SerializeToString()
    p = tmp_path / "m.onnx"
    p.write_bytes(bytes([tag]) + raw[1:])
    msg = refused(p)
    assert f"not a valid ONNX protobuf: {expect}" in msg and "(at byte 0)" in msg


def test_negative_dim_is_refused(tmp_path):
    t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4, -3])
    msg = refused(save(mlp([t]), tmp_path / "m.onnx"))
    assert "TensorProto (initializer) dims has a negative dimension -3" in msg


def test_random_bytes_are_refused(tmp_path):
    p = tmp_path / "noise.onnx"
    p.write_bytes(random.Random(0).randbytes(4096))
    assert "not a valid ONNX protobuf" in refused(p)


def test_trailing_zero_padding_is_refused(tmp_path):
    p = tmp_path / "m.onnx"
    p.write_bytes(mlp().SerializeToString() + b"\0" * 64)
    assert "invalid field number 0" in refused(p)


def test_empty_file_is_sized_without_a_count(tmp_path):
    p = tmp_path / "m.onnx"
    p.write_bytes(b"")
    assert measure(p) == ArtifactSize(path="m.onnx", size_bytes=0, source="stat", format="onnx")


# ---------------------------------------------------------------- property: any bytes -> size or InputError

_PROP_DIR = scratch_dir("idm-onnx-prop-")
_SEED = mlp(sparse=[helper.make_sparse_tensor(
    helper.make_tensor("sp", TensorProto.FLOAT, [2], [1.0, 2.0]),
    helper.make_tensor("sp_idx", TensorProto.INT64, [2], [1, 3]), [2, 2])]).SerializeToString()
_EXT_SEED = save(mlp(), _PROP_DIR / "ext" / "m.onnx", save_as_external_data=True,
                 location="m.onnx.data", size_threshold=0).read_bytes()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=2048), mutated(_SEED), mutated(_EXT_SEED)))
def test_any_bytes_give_a_size_or_an_input_error(data):
    p = _PROP_DIR / "m.onnx"
    p.write_bytes(data)
    try:
        out = onnx_mod.measure(p, "m.onnx", WHAT)
    except InputError as e:
        assert "\n" not in str(e) and "'m.onnx'" in str(e)
    else:
        assert isinstance(out, ArtifactSize) and out.size_bytes == len(data)
        assert out.params is None or out.params >= 0


# ---------------------------------------------------------------- the same weights in two graphs

def chain(shapes, names, dtype=np.float32, past=False) -> onnx.ModelProto:
    """A MatMul chain over weight matrices of ``shapes`` (named ``names``), with a 1-D bias and a scalar
    beside them as real exports have; ``past`` adds a past-key-values input, as optimum's
    decoder_with_past_model.onnx has."""
    rng = np.random.default_rng(1)
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(dtype), n) for s, n in zip(shapes, names, strict=True)]
    inits += [numpy_helper.from_array(np.zeros(shapes[-1][1], dtype), "bias"),
              numpy_helper.from_array(np.array(1.0, dtype), "scale")]
    elem = TensorProto.FLOAT16 if dtype == np.float16 else TensorProto.FLOAT
    nodes, x = [], "x"
    for i, n in enumerate(names):
        nodes.append(helper.make_node("MatMul", [x, n], [f"h{i}"]))
        x = f"h{i}"
    nodes.append(helper.make_node("Add", [x, "bias"], ["y"]))
    inputs = [helper.make_tensor_value_info("x", elem, [1, shapes[0][0]])]
    if past:
        inputs.append(helper.make_tensor_value_info("past_key_values.0.key", elem, [1, 4, "past", 16]))
    graph = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("y", elem, [1, shapes[-1][1]])],
                              inits)
    return helper.make_model(graph, producer_name="idm-gate-tests")


DECODER = [(64, 64)] * 4 + [(64, 256), (256, 64)]
ENCODER = [(64, 64)] * 4 + [(64, 128), (128, 64)]


def test_one_decoder_exported_with_and_without_past_and_in_fp16_is_named_as_counted_twice(tmp_path):
    folder = tmp_path / "onnx"
    save(chain(ENCODER, [f"encoder.{i}" for i in range(6)]), folder / "encoder_model.onnx")
    # optimum names the initializers of its two decoder exports differently (onnx::MatMul_N)
    save(chain(DECODER, [f"decoder.{i}" for i in range(6)]), folder / "decoder_model.onnx")
    save(chain(DECODER, [f"onnx::MatMul_{900 + i}" for i in range(6)], past=True),
         folder / "decoder_with_past_model.onnx")
    save(chain(DECODER, [f"decoder.{i}" for i in range(6)], dtype=np.float16), folder / "decoder_model_fp16.onnx")
    res = size_artifacts(["onnx/*.onnx"], tmp_path, tmp_path, WHAT)
    assert res.size_bytes == sum(p.stat().st_size for p in folder.iterdir())  # a warning, not a new number
    # the six matrices of each decoder graph, none of the encoder's (its feed-forward is 128 wide, not 256)
    assert res.notices == (
        "warning: 'onnx/decoder_model.onnx', 'onnx/decoder_model_fp16.onnx', 'onnx/decoder_with_past_model.onnx' "
        "hold weight matrices of the same 6 shapes: if they are one model's weights exported twice (with and "
        "without past key values) or saved in two precisions, they are counted twice; keep one of them",)


def test_an_encoder_and_a_decoder_are_two_sets_of_weights(tmp_path):
    save(chain(ENCODER, [f"e{i}" for i in range(6)]), tmp_path / "encoder_model.onnx")
    save(chain(DECODER, [f"d{i}" for i in range(6)]), tmp_path / "decoder_model_merged.onnx")
    assert size_artifacts(["*.onnx"], tmp_path, tmp_path, WHAT).notices == ()


def test_weight_shapes_leave_out_vectors_scalars_and_small_tables(tmp_path):
    # mlp(): w1 16x32 (512 values) and w2 32x4 (128, under MATRIX_MIN = 256), b1, b2, a shape vector, a scalar
    a = measure(save(mlp(), tmp_path / "a.onnx"))
    b = measure(save(chain([(16, 32)], ["other_name"], dtype=np.float16), tmp_path / "b.onnx"))
    assert a.weight_shapes is not None and a.weight_shapes.endswith("/1")
    assert a.weight_shapes == b.weight_shapes
