"""ONNX models: parameter count and bits per parameter from the protobuf, never the weights.

An ``.onnx`` file is one serialized ``ModelProto``. We walk its protobuf wire format with bounded
reads and descend into only these fields (numbers from ``onnx/onnx.proto``)::

    ModelProto.graph = 7                     GraphProto, the main graph
      GraphProto.initializer = 5             repeated TensorProto: the weights
        TensorProto.dims = 1                 repeated int64, packed or not
        TensorProto.data_type = 2            int32, a TensorProto.DataType
        TensorProto.segment = 3              only noticed: a chunked tensor makes the count unknown
      GraphProto.sparse_initializer = 15     repeated SparseTensorProto
        SparseTensorProto.values = 1         TensorProto of shape [NNZ]: its dims and data_type
        SparseTensorProto.dims = 3           the dense shape, only checked to hold NNZ values

Every other field is skipped with ``lseek`` (``HeaderReader.skip``), above all ``raw_data`` (9) and
the typed ``*_data`` arrays that hold the weights, and the node list. ``params`` is the sum over
initializers of ``prod(dims)``; a sparse initializer counts its stored values (NNZ), not its dense
shape, because pruned-away zeros are not learned and counting them would report fewer bits per
parameter than the file stores. Repeated occurrences of a message field are merged as protobuf
merges them (repeated fields concatenate), so the count is what ``onnx.load`` would see.

Tensors with ``data_location = EXTERNAL`` (field 14) still carry their dims and are counted; the
``location`` of each one's ``external_data`` (field 13, key/value pairs) is returned in
``ArtifactSize.external`` (relative to the model's folder), so that sizing counts those files with
the graph (:func:`idm_gate.sizing.size_artifacts`); they are not opened here.

``params`` is None ("not cheap") when the graph has no initializers at all (weights may then live
in ``Constant`` nodes, which are not walked; 0 would be wrong), or when a tensor is stored in
segments. Initializers of subgraphs (``If``/``Loop`` attributes), ``Constant`` nodes and training
graphs are not counted. ``bits_per_param`` comes from the data types, None if one has no fixed
width (STRING, UNDEFINED, a type newer than this table).

``weight_shapes`` is a digest of the sorted shapes of the weight matrices (dense initializers with
two or more dims and at least ``MATRIX_MIN`` values), names and data types left out: an export with
and without past key values (optimum's ``decoder_model.onnx`` and ``decoder_with_past_model.onnx``)
or one model saved in two precisions (``model.onnx`` and ``model_fp16.onnx``, or dynamically quantized
to int8) have the same digest, so sizing can warn that the same weights are counted twice.

A malformed file is an ``InputError`` naming the file and byte ("not a valid ONNX protobuf: ..."):
a varint over 10 bytes, a length past the end of the file or of its enclosing message, a group or
unknown wire type, field number 0, a negative dim. Reads are capped in bytes and time by
``HeaderReader``; recursion is a fixed four levels (model, graph, sparse tensor, tensor).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from pathlib import Path

from ..data import ArtifactSize
from ..errors import InputError
from ._io import HeaderReader

# Field numbers from onnx/onnx.proto.
_MODEL_GRAPH = 7
_GRAPH_INITIALIZER = 5
_GRAPH_SPARSE_INITIALIZER = 15
_TENSOR_DIMS = 1
_TENSOR_DATA_TYPE = 2
_TENSOR_SEGMENT = 3
_TENSOR_EXTERNAL_DATA = 13   # repeated StringStringEntryProto {key = 1, value = 2}
_ENTRY_KEY, _ENTRY_VALUE = 1, 2
MAX_LOCATION = 4096
MATRIX_MIN = 256  # values in an initializer that counts as a weight matrix for ``weight_shapes``
_SPARSE_VALUES = 1
_SPARSE_DIMS = 3

# Wire types.
_VARINT, _I64, _LEN, _SGROUP, _EGROUP, _I32 = 0, 1, 2, 3, 4, 5

MAX_DIMS = 64
_MAX_VARINT = 10

# TensorProto.DataType -> bits per element (STRING = 8 and UNDEFINED = 0 have no fixed width).
DTYPE_BITS = {
    1: 32,    # FLOAT
    2: 8,     # UINT8
    3: 8,     # INT8
    4: 16,    # UINT16
    5: 16,    # INT16
    6: 32,    # INT32
    7: 64,    # INT64
    9: 8,     # BOOL
    10: 16,   # FLOAT16
    11: 64,   # DOUBLE
    12: 32,   # UINT32
    13: 64,   # UINT64
    14: 64,   # COMPLEX64
    15: 128,  # COMPLEX128
    16: 16,   # BFLOAT16
    17: 8, 18: 8, 19: 8, 20: 8,  # FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ
    21: 4, 22: 4,    # UINT4, INT4
    23: 4,           # FLOAT4E2M1
    24: 8,           # FLOAT8E8M0
    25: 2, 26: 2,    # UINT2, INT2
    27: 6, 28: 6,    # FLOAT6E2M3, FLOAT6E3M2
}


class _Tensor:
    """What we keep of one TensorProto: dims, data type, whether it is a segment."""

    __slots__ = ("dims", "dtype", "segmented")

    def __init__(self) -> None:
        self.dims: list[int] = []
        self.dtype = 0
        self.segmented = False


class _Walk:
    """The protobuf walk over one file: a tag/varint reader plus the four message parsers."""

    def __init__(self, r: HeaderReader) -> None:
        self.r = r
        self.fields = 0
        self.params = 0
        self.bits: int | None = 0
        self.tensors = 0
        self.unknown = False  # a segmented tensor: the count is not cheap
        self.external: set[str] = set()  # external_data 'location' values
        self.matrices: list[tuple[int, ...]] = []  # shapes of the weight matrices, for weight_shapes

    def bad(self, msg: str, at: int | None = None) -> InputError:
        at = self.r.pos if at is None else at
        return self.r.fail(f"not a valid ONNX protobuf: {msg} (at byte {at:,}); the file is corrupt, "
                           "truncated or not ONNX (re-export it with onnx.save_model)")

    def varint(self, end: int, what: str) -> int:
        start, value = self.r.pos, 0
        for i in range(_MAX_VARINT):
            if self.r.pos >= end:
                raise self.bad(f"{what} runs past the end of its message", start)
            b = self.r.read(1, what)[0]
            value |= (b & 0x7F) << (7 * i)
            if not b & 0x80:
                return value & 0xFFFF_FFFF_FFFF_FFFF
        raise self.bad(f"{what} is a varint longer than {_MAX_VARINT} bytes", start)

    def fields_of(self, end: int, msg: str) -> Iterator[tuple[int, int, int]]:
        """Yield ``(field, wire_type, tag_pos)`` until ``end``; the caller consumes each value."""
        while self.r.pos < end:
            self.fields += 1
            if self.fields % 1024 == 0:
                self.r.check_time()
            at = self.r.pos
            tag = self.varint(end, f"{msg} field tag")
            field, wire = tag >> 3, tag & 7
            if field == 0 or tag > 0xFFFF_FFFF:
                raise self.bad(f"{msg} has invalid field number {field:,}", at)
            if wire in (_SGROUP, _EGROUP):
                raise self.bad(f"{msg} field {field} uses a group (wire type {wire}), which ONNX "
                               "never writes", at)
            if wire not in (_VARINT, _I64, _LEN, _I32):
                raise self.bad(f"{msg} field {field} has unknown wire type {wire}", at)
            yield field, wire, at

    def length(self, end: int, msg: str, field: int) -> int:
        """A length prefix; returns the end offset of the payload, checked against ``end``."""
        at = self.r.pos
        n = self.varint(end, f"{msg} field {field} length")
        if n > end - self.r.pos:
            where = "the file" if end == self.r.size else "its enclosing message"
            raise self.bad(f"{msg} field {field} claims {n:,} bytes, past the end of {where} "
                           f"({end - self.r.pos:,} bytes left)", at)
        return self.r.pos + n

    def skip(self, wire: int, end: int, msg: str, field: int) -> None:
        if wire == _VARINT:
            self.varint(end, f"{msg} field {field}")
            return
        n = 8 if wire == _I64 else 4 if wire == _I32 else None
        if n is None:
            stop = self.length(end, msg, field)
            self.r.skip(stop - self.r.pos, f"{msg} field {field}")
        elif n > end - self.r.pos:
            raise self.bad(f"{msg} field {field} needs {n} bytes, past the end of its message")
        else:
            self.r.skip(n, f"{msg} field {field}")

    # ---- messages

    def model(self) -> None:
        for field, wire, _ in self.fields_of(self.r.size, "ModelProto"):
            if field == _MODEL_GRAPH and wire == _LEN:
                self.graph(self.length(self.r.size, "ModelProto", field))
            else:
                self.skip(wire, self.r.size, "ModelProto", field)

    def graph(self, end: int) -> None:
        for field, wire, at in self.fields_of(end, "GraphProto"):
            if field == _GRAPH_INITIALIZER and wire == _LEN:
                t = _Tensor()
                self.tensor(self.length(end, "GraphProto", field), t, "initializer")
                self.count(t, at, "initializer")
            elif field == _GRAPH_SPARSE_INITIALIZER and wire == _LEN:
                self.sparse(self.length(end, "GraphProto", field), at)
            else:
                self.skip(wire, end, "GraphProto", field)

    def sparse(self, end: int, at: int) -> None:
        values, dense, has_values = _Tensor(), list[int](), False
        for field, wire, _ in self.fields_of(end, "SparseTensorProto"):
            if field == _SPARSE_VALUES and wire == _LEN:
                self.tensor(self.length(end, "SparseTensorProto", field), values, "sparse values")
                has_values = True  # a repeated message field merges, as protobuf does
            elif field == _SPARSE_DIMS and wire in (_VARINT, _LEN):
                self.dims(wire, end, dense, "SparseTensorProto dims", field)
            else:
                self.skip(wire, end, "SparseTensorProto", field)
        if not has_values:
            raise self.bad("sparse initializer has no values tensor (field 1)", at)
        nnz = self.count(values, at, "sparse initializer values")
        if nnz is not None and dense and nnz > math.prod(dense):
            raise self.bad(f"sparse initializer stores {nnz:,} values but its dense shape {dense} "
                           f"holds {math.prod(dense):,}", at)

    def tensor(self, end: int, t: _Tensor, msg: str) -> None:
        name = f"TensorProto ({msg})"
        for field, wire, _ in self.fields_of(end, name):
            if field == _TENSOR_DIMS and wire in (_VARINT, _LEN):
                self.dims(wire, end, t.dims, f"{name} dims", field)
            elif field == _TENSOR_DATA_TYPE and wire == _VARINT:
                t.dtype = self.varint(end, f"{name} data_type")
            elif field == _TENSOR_SEGMENT:
                t.segmented = True
                self.skip(wire, end, name, field)
            elif field == _TENSOR_EXTERNAL_DATA and wire == _LEN:
                self.entry(self.length(end, name, field), name)
            else:
                self.skip(wire, end, name, field)  # raw_data (9), *_data, name, external_data, ...

    def entry(self, end: int, msg: str) -> None:
        """One external_data key/value pair; keeps the value of ``location``."""
        key = value = None
        name = f"{msg} external_data entry"
        for field, wire, _ in self.fields_of(end, name):
            if field in (_ENTRY_KEY, _ENTRY_VALUE) and wire == _LEN:
                stop = self.length(end, name, field)
                if stop - self.r.pos > MAX_LOCATION:
                    raise self.bad(f"{name} is over {MAX_LOCATION} bytes")
                text = self.r.read(stop - self.r.pos, name).decode("utf-8", "replace")
                if field == _ENTRY_KEY:
                    key = text
                else:
                    value = text
            else:
                self.skip(wire, end, name, field)
        if key == "location" and value:
            self.external.add(value)

    def dims(self, wire: int, end: int, out: list[int], msg: str, field: int) -> None:
        if wire == _VARINT:
            out.append(self.dim(end, msg))
        else:
            stop = self.length(end, msg, field)
            while self.r.pos < stop:
                out.append(self.dim(stop, msg))
        if len(out) > MAX_DIMS:
            raise self.bad(f"{msg} has over {MAX_DIMS} dimensions")

    def dim(self, end: int, msg: str) -> int:
        at = self.r.pos
        d = self.varint(end, msg)
        if d >= 1 << 63:
            raise self.bad(f"{msg} has a negative dimension {d - (1 << 64):,}", at)
        return d

    def count(self, t: _Tensor, at: int, msg: str) -> int | None:
        self.tensors += 1
        if t.segmented:
            self.unknown = True
            return None
        n = math.prod(t.dims)
        self.params += n
        if len(t.dims) >= 2 and n >= MATRIX_MIN and msg == "initializer":
            self.matrices.append(tuple(t.dims))
        width = DTYPE_BITS.get(t.dtype)
        if width is None:
            self.bits = None
        elif self.bits is not None:
            self.bits += n * width
        return n


def measure(path: str | Path, shown: str, what: str) -> ArtifactSize:
    """Size, parameter count and bits per parameter of one ``.onnx`` file (see the module docstring)."""
    with HeaderReader(path, what, shown) as r:
        w = _Walk(r)
        w.model()
        size = r.size
    params = None if (w.unknown or w.tensors == 0) else w.params
    bits = (w.bits / params) if (params and w.bits is not None) else None
    shapes = None
    if w.matrices:
        shapes = hashlib.sha256(repr(sorted(w.matrices)).encode()).hexdigest()[:16] + f"/{len(w.matrices)}"
    return ArtifactSize(path=shown, size_bytes=size, source="stat", format="onnx", params=params,
                        bits_per_param=bits, external=tuple(sorted(w.external)), weight_shapes=shapes)
