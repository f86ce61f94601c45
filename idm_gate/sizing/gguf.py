"""GGUF (llama.cpp): parameter count and bits per parameter from the header, never the tensor data.

Layout (little-endian, versions 2 and 3): magic ``GGUF``, u32 version, u64 tensor_count, u64 kv_count,
then kv_count metadata pairs (key string, u32 value type, value), then tensor_count tensor infos
(name string, u32 n_dims, n_dims x u64 dims, u32 ggml type, u64 offset into the aligned data
section). A string is a u64 byte length then UTF-8 bytes; an array is u32 element type, u64 count,
elements. Counts are checked against the bytes left in the file before anything is allocated, reads
are capped (``HeaderReader``) and fixed-size arrays are skipped with ``lseek``.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

from ..data import ArtifactSize
from ._io import HeaderReader

MAX_DIMS = 8
MAX_NAME = 65535
MAX_ARRAY_DEPTH = 8
DEFAULT_ALIGNMENT = 32

# Metadata value types: id -> (name, fixed byte size or None for string/array).
VALUE_TYPES: dict[int, tuple[str, int | None]] = {
    0: ("uint8", 1), 1: ("int8", 1), 2: ("uint16", 2), 3: ("int16", 2), 4: ("uint32", 4),
    5: ("int32", 4), 6: ("float32", 4), 7: ("bool", 1), 8: ("string", None), 9: ("array", None),
    10: ("uint64", 8), 11: ("int64", 8), 12: ("float64", 8),
}
_INT_FMT = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 10: "<Q", 11: "<q"}
# The smallest encoding of one value of each type (strings: the u64 length; arrays: type + count).
_MIN_SIZE = {k: (v[1] if v[1] is not None else (8 if k == 8 else 12)) for k, v in VALUE_TYPES.items()}

_QK_K = 256
# ggml tensor types: id -> (name, elements per block, bytes per block).
GGML_TYPES = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2),
    2: ("Q4_0", 32, 2 + 16), 3: ("Q4_1", 32, 2 + 2 + 16),
    6: ("Q5_0", 32, 2 + 4 + 16), 7: ("Q5_1", 32, 2 + 2 + 4 + 16),
    8: ("Q8_0", 32, 2 + 32), 9: ("Q8_1", 32, 4 + 4 + 32),
    10: ("Q2_K", _QK_K, 2 + 2 + _QK_K // 16 + _QK_K // 4),
    11: ("Q3_K", _QK_K, 2 + _QK_K // 4 + _QK_K // 8 + 12),
    12: ("Q4_K", _QK_K, 2 + 2 + _QK_K // 2 + 12),
    13: ("Q5_K", _QK_K, 2 + 2 + _QK_K // 2 + _QK_K // 8 + 12),
    14: ("Q6_K", _QK_K, 2 + _QK_K // 2 + _QK_K // 4 + _QK_K // 16),
    15: ("Q8_K", _QK_K, 4 + _QK_K + _QK_K // 8),
    16: ("IQ2_XXS", _QK_K, 2 + _QK_K // 4),
    17: ("IQ2_XS", _QK_K, 2 + _QK_K // 4 + _QK_K // 32),
    18: ("IQ3_XXS", _QK_K, 2 + _QK_K // 4 + _QK_K // 8),
    19: ("IQ1_S", _QK_K, 2 + _QK_K // 8 + _QK_K // 16),
    20: ("IQ4_NL", 32, 2 + 16),
    21: ("IQ3_S", _QK_K, 2 + _QK_K // 4 + _QK_K // 8 + _QK_K // 32 + 4),
    22: ("IQ2_S", _QK_K, 2 + _QK_K // 4 + _QK_K // 16),
    23: ("IQ4_XS", _QK_K, 2 + 2 + _QK_K // 2 + _QK_K // 64),
    24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8),
    29: ("IQ1_M", _QK_K, _QK_K // 8 + _QK_K // 16 + _QK_K // 32),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", _QK_K, 2 + 4 * 13),
    35: ("TQ2_0", _QK_K, 2 + 64),
    39: ("MXFP4", 32, 1 + 16),
    40: ("NVFP4", 64, 4 + 32),
    41: ("Q1_0", 128, 2 + 16),
}


def measure(path: str | Path, shown: str, what: str) -> ArtifactSize:
    """Size, parameter count and bits per parameter of one ``.gguf`` file."""
    with HeaderReader(path, what, shown) as r:
        return _parse(r, shown)


def _string(r: HeaderReader, what: str) -> bytes:
    n = r.u64(f"{what} length")
    if n > r.remaining:
        raise r.fail(f"{what} at byte {r.pos - 8:,} claims {n:,} bytes but only {r.remaining:,} "
                     "remain; the file is corrupt or truncated")
    return r.read(n, what)


def _value(r: HeaderReader, vtype: int, key: str, depth: int = 0) -> object:
    """Read one metadata value; returns ints and strings we may need, skips the rest."""
    if vtype not in VALUE_TYPES:
        raise r.fail(f"metadata {key!r} has unknown value type {vtype}; valid: 0..12")
    if vtype == 8:
        return _string(r, f"metadata {key!r} string")
    if vtype == 9:
        if depth >= MAX_ARRAY_DEPTH:
            raise r.fail(f"metadata {key!r} nests arrays more than {MAX_ARRAY_DEPTH} deep")
        etype = r.u32(f"metadata {key!r} array type")
        count = r.u64(f"metadata {key!r} array length")
        if etype not in VALUE_TYPES:
            raise r.fail(f"metadata {key!r} array has unknown element type {etype}; valid: 0..12")
        if count * _MIN_SIZE[etype] > r.remaining:
            raise r.fail(f"metadata {key!r} array claims {count:,} elements, more than the "
                         f"{r.remaining:,} bytes left can hold; the file is corrupt or truncated")
        size = VALUE_TYPES[etype][1]
        if size is not None:
            r.skip(count * size, f"metadata {key!r} array")
            return None
        if etype == 8:
            _skip_strings(r, count, key)
            return None
        for i in range(count):
            if i % 4096 == 0:
                r.check_time()
            _value(r, etype, key, depth + 1)
        return None
    size = VALUE_TYPES[vtype][1]
    assert size is not None  # strings (8) and arrays (9) returned above
    raw = r.read(size, f"metadata {key!r} value")
    return struct.unpack(_INT_FMT[vtype], raw)[0] if vtype in _INT_FMT else None


_U64 = struct.Struct("<Q")


def _skip_strings(r: HeaderReader, count: int, key: str) -> None:
    """Walk an array of ``count`` strings (a tokenizer's vocabulary and merges: 100,000s of them)
    in place: each u64 length is read with ``unpack_from`` from the reader's buffer, and only a
    string that runs past the buffer costs a call into the reader. The same checks as one
    ``_string`` per element: every length within the bytes left in the file."""
    unpack = _U64.unpack_from
    done = 0
    while done < count:
        r.check_time()
        buf, off = r.window(8, f"metadata {key!r} string length")
        start, end = off, len(buf)
        while done < count:
            nxt = off + 8
            if nxt > end:
                break
            nxt += unpack(buf, off)[0]
            if nxt > end:
                break
            off = nxt
            done += 1
        if off > start:
            r.advance(off - start)
            continue
        # the string at the current position runs past the buffer: read its length, skip its bytes
        n = r.u64(f"metadata {key!r} string length")
        if n > r.remaining:
            raise r.fail(f"metadata {key!r} string at byte {r.pos - 8:,} claims {n:,} bytes but only "
                         f"{r.remaining:,} remain; the file is corrupt or truncated")
        r.read(n, f"metadata {key!r} string")
        done += 1


def _parse(r: HeaderReader, shown: str) -> ArtifactSize:
    if r.size < 24 or r.read(4, "magic") != b"GGUF":
        raise r.fail("is not a GGUF file (it does not start with the 'GGUF' magic and a 24-byte "
                     "header); check the file or its extension")
    version = r.u32("version")
    if version not in (2, 3):
        swapped = int.from_bytes(version.to_bytes(4, "little"), "big")
        if swapped in (1, 2, 3):
            raise r.fail(f"is a big-endian GGUF (version {swapped}); only little-endian GGUF is "
                         "supported, convert it with llama.cpp")
        if version == 1:
            raise r.fail("is GGUF version 1, which is not supported; convert it to version 3 "
                         "with a current llama.cpp")
        raise r.fail(f"has unknown GGUF version {version}; expected 2 or 3")
    n_tensors = r.u64("tensor count")
    n_kv = r.u64("metadata count")
    # A tensor info is at least 24 bytes (name length, n_dims, type, offset); a pair at least 13.
    if n_tensors * 24 > r.remaining:
        raise r.fail(f"claims {n_tensors:,} tensors, more than the {r.size:,}-byte file can "
                     "describe; the file is corrupt")
    if n_kv * 13 > r.remaining:
        raise r.fail(f"claims {n_kv:,} metadata pairs, more than the {r.size:,}-byte file can "
                     "hold; the file is corrupt")

    alignment = DEFAULT_ALIGNMENT
    split_no = split_count = None
    arch = None
    for i in range(n_kv):
        if i % 1024 == 0:
            r.check_time()
        key = _string(r, f"metadata key #{i}").decode("utf-8", "replace")[:200]
        vtype = r.u32(f"metadata {key!r} type")
        val = _value(r, vtype, key)
        if key == "general.alignment":
            if not isinstance(val, int) or val <= 0 or val & (val - 1) or val > 1 << 30:
                raise r.fail("metadata 'general.alignment' must be a power-of-two integer")
            alignment = val
        elif key == "split.no" and isinstance(val, int):  # gguf-split: u16, 0-based
            split_no = val
        elif key == "split.count" and isinstance(val, int):
            split_count = val
        elif key == "general.architecture" and isinstance(val, bytes):
            arch = val.decode("utf-8", "replace")[:64]

    infos = []
    params = 0
    for i in range(n_tensors):
        if i % 1024 == 0:
            r.check_time()
        nlen = r.u64(f"tensor #{i} name length")
        if nlen > MAX_NAME:
            raise r.fail(f"tensor #{i} name is {nlen:,} bytes long (limit {MAX_NAME:,}); the file "
                         "is corrupt")
        name = r.read(nlen, f"tensor #{i} name").decode("utf-8", "replace")[:200]
        n_dims = r.u32(f"tensor {name!r} n_dims")
        if n_dims > MAX_DIMS:
            raise r.fail(f"tensor {name!r} has {n_dims:,} dimensions (at most {MAX_DIMS}); the "
                         "file is corrupt")
        dims = struct.unpack(f"<{n_dims}Q", r.read(8 * n_dims, f"tensor {name!r} dims"))
        ttype = r.u32(f"tensor {name!r} type")
        offset = r.u64(f"tensor {name!r} offset")
        count = math.prod(dims)
        params += count
        if params > 8 * r.size:  # no format stores a parameter in under one bit
            raise r.fail(f"tensor dims add up to {params:,} parameters, more than a "
                         f"{r.size:,}-byte file can hold; the file is corrupt")
        infos.append((name, dims, ttype, offset, count))

    split = (split_no, split_count) if split_no is not None and split_count is not None else None
    if n_tensors == 0 and (split is None or split[1] <= 1):
        # gguf-split --no-tensor-first-split leaves the first split without tensors: that one is fine
        raise r.fail("holds no tensors (a vocabulary-only or metadata-only GGUF): a file without weights; "
                     "name the model's weight file instead")
    data_start = -(-r.pos // alignment) * alignment
    data_len = r.size - data_start
    total_bytes: int | None = 0
    for name, dims, ttype, offset, count in infos:
        if ttype not in GGML_TYPES:
            total_bytes = None  # a newer quantisation: count params, no bit width
            continue
        tname, block, bsize = GGML_TYPES[ttype]
        if dims and dims[0] % block:
            raise r.fail(f"tensor {name!r} first dimension {dims[0]:,} is not a multiple of the "
                         f"{tname} block size {block}; the file is corrupt")
        nbytes = count // block * bsize
        if offset + nbytes > data_len:
            raise r.fail(f"tensor {name!r} data ({nbytes:,} bytes at offset {offset:,}) runs past "
                         f"the end of the file; the file is truncated")
        if total_bytes is not None:
            total_bytes += nbytes
    return ArtifactSize(
        path=shown, size_bytes=r.size, source="stat", format="gguf", params=params,
        bits_per_param=(8 * total_bytes / params) if (total_bytes is not None and params) else None,
        split=split, arch=arch, tensor_bytes=total_bytes,
    )
