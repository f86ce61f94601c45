"""Safetensors: parameter count and dtype bit widths from the JSON header, without the tensor data.

Layout: an 8-byte little-endian u64 ``N``, then ``N`` bytes of UTF-8 JSON mapping each tensor name to
``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets relative to the data section that starts
at ``8 + N``), plus an optional ``__metadata__`` string map. We check what a loader would: the header
fits in the file and under ``HEADER_CAP``, each tensor's byte range matches ``prod(shape) * bits / 8``,
lies inside the data section and overlaps no other tensor.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..data import ArtifactSize
from ..errors import InputError
from ..jsonsafe import JSONError, load_json
from ..paths import HEADER_CAP
from . import lfs
from ._io import HeaderReader

# Bit width of every dtype the safetensors format defines (Rust crate ``Dtype``).
DTYPE_BITS = {
    "BOOL": 8,
    "F4": 4,
    "F6_E2M3": 6, "F6_E3M2": 6,
    "U8": 8, "I8": 8,
    "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
    "I32": 32, "U32": 32, "F32": 32,
    "C64": 64, "F64": 64, "I64": 64, "U64": 64,
}
_MAX_DIMS = 64  # _check spells it out


def _t(name: str) -> str:
    return f"tensor {name[:200]!r}"


def measure(path: str | Path, shown: str, what: str, *, pointer: bool = False) -> ArtifactSize:
    """Size, parameter count and bits per parameter of one ``.safetensors`` file.

    ``pointer``: the caller has not looked at the file yet (``measure_file`` skips its ``stat`` for a
    file ``os.scandir`` listed as regular): a file under ``lfs.POINTER_MAX`` bytes that starts like a
    Git LFS pointer is then sized as one (:func:`idm_gate.sizing.lfs.measure`), from the same first read.
    """
    with HeaderReader(path, what, shown, cap=HEADER_CAP + 8) as r:
        size = r.size
        head = r.head  # the first 4 KiB (the whole file when smaller): often the whole header
        pointer = pointer and size < lfs.POINTER_MAX and lfs.is_pointer(head, size)
        if not pointer:
            if size < 8:
                raise r.fail(f"is {size} bytes, too short for a safetensors file (8-byte header length "
                             "first); re-export it with safetensors.save_file")
            n = int.from_bytes(r.read(8, "header length") if len(head) < 8 else head[:8], "little")  # u64
            if n > HEADER_CAP:
                raise r.fail(f"safetensors header length {n:,} is over the {HEADER_CAP:,}-byte limit; "
                             "the file is corrupt or not safetensors")
            if n + 8 > size:
                raise r.fail(f"safetensors header length {n:,} runs past the end of the file "
                             f"({size:,} bytes); the file is truncated or not safetensors")
            if 8 + n <= len(head):
                raw = head[8:8 + n]
            else:
                r.skip(8, "header length")
                raw = r.read(n, "safetensors header")
    if pointer:
        return lfs.measure(path, shown, what)
    data_len = size - 8 - n
    header = _parse(raw, shown, r, fast=True)
    got = _check(header, data_len)
    if got is None:
        # orjson reads an integer past 64 bits as a float, which _check refuses: json's reading decides
        header = _parse(raw, shown, r, fast=False)
        got = _check(header, data_len)
        if got is None:
            raise _refuse(header, data_len, r)
    params, bits_total = got
    # path, size_bytes, source, format, params, bits_per_param: by position, 0.4 us per shard less than
    # by keyword (a frozen dataclass's __init__ called 100,000 times)
    return ArtifactSize(shown, size, "stat", "safetensors", params, bits_total / params)


def _parse(raw: bytes, shown: str, r: HeaderReader, *, fast: bool) -> dict[str, Any]:
    """The header's JSON object (``fast``: with orjson, see :func:`idm_gate.jsonsafe.load_json`)."""
    try:
        # As the safetensors library reads a header (no BOM; a repeated tensor name keeps its last entry),
        # except NaN/Infinity, which parse here and are refused by the tensor checks.
        header = load_json(raw, shown, allow_nan=True, duplicate_keys="last", allow_bom=False, fast=fast)
    except JSONError:
        raise r.fail("safetensors header is not valid UTF-8 JSON; the file is corrupt or not "
                     "safetensors") from None
    if type(header) is not dict:
        raise r.fail("safetensors header is not a JSON object of tensors; the file is corrupt")
    return header


def _check(header: dict[str, Any], data_len: int) -> tuple[int, int] | None:
    """(parameters, bits) of the tensors in ``header``, or None when anything is wrong with them
    (:func:`_refuse` then says what, in one line naming the tensor).

    Run for every shard, so with as few operations per tensor as the checks allow: one pass over the
    tensors with plain type checks (``type(x) is int``: JSON gives exact types, and a bool is no
    shape); then, unless the header lists them in the order of their data (as the
    safetensors library writes it), one pass over their byte ranges sorted by offset.

    Removes ``__metadata__`` from ``header`` first (whatever it holds, it is no tensor and is not
    checked, here or by :func:`_refuse`), so the loop looks at tensors only.
    """
    header.pop("__metadata__", None)
    params = bits_total = last_end = 0
    in_order = True  # the non-empty tensors' ranges in the header's order, as the library writes them
    bits_of = DTYPE_BITS
    try:
        for info in header.values():
            # KeyError: no dtype or an unknown one; TypeError: a dtype that is a list or object, or an
            # entry that is no object (a string, array, number or null has no ["dtype"])
            bits = bits_of[info["dtype"]]
            shape = info["shape"]
            if type(shape) is not list or len(shape) > 64:
                return None
            count = 1
            for d in shape:
                if type(d) is not int or d < 0:
                    return None
                count *= d
            # ValueError: not two items; TypeError: a number, null or bool; two items of an object or
            # a string are strings, refused below as a list's non-integers are
            begin, end = info["data_offsets"]
            nbits = count * bits
            # (end - begin) * 8 == nbits: whole bytes, and the span the shape needs (so begin <= end)
            if (type(begin) is not int or type(end) is not int or begin < 0 or (end - begin) * 8 != nbits
                    or end > data_len):
                return None
            if end != begin:  # empty tensors overlap nothing
                if begin < last_end:
                    in_order = False
                last_end = end
            params += count
            bits_total += nbits
    except (KeyError, TypeError, ValueError):
        return None
    if not in_order:  # else each tensor starts at or after the end of the one before: no overlap
        max_end = 0  # every entry is a tensor with int offsets, checked above
        for begin, end in sorted(o for v in header.values() if (o := v["data_offsets"])[0] != o[1]):
            if begin < max_end:
                return None
            max_end = end  # sorted, non-empty and not overlapping: the ends increase too
    if not params:
        return None
    return params, bits_total


def _refuse(header: dict[str, Any], data_len: int, r: HeaderReader) -> InputError:
    """The first thing wrong with the tensors of a ``header`` that :func:`_check` refused, in one line
    naming the tensor: each check in turn, in the order of the header, then overlaps, then emptiness."""
    params = 0
    ranges: list[tuple[int, int, str]] = []
    for name, info in header.items():
        if name == "__metadata__" and type(info) is not dict:
            continue
        if type(info) is not dict:
            return r.fail(f"{_t(name)} is not an object with dtype, shape and data_offsets")
        if name == "__metadata__":
            continue
        dtype, shape, offs = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        bits = DTYPE_BITS.get(dtype) if type(dtype) is str else None
        if bits is None:
            shown_dtype = dtype[:40] if isinstance(dtype, str) else type(dtype).__name__
            return r.fail(f"{_t(name)} has unknown dtype {shown_dtype!r}; valid: {', '.join(DTYPE_BITS)}")
        if type(shape) is not list or len(shape) > _MAX_DIMS or any(type(d) is not int or d < 0 for d in shape):
            return r.fail(f"{_t(name)} shape must be a list of at most {_MAX_DIMS} non-negative integers")
        count = math.prod(shape)
        if type(offs) is not list or len(offs) != 2:
            return r.fail(f"{_t(name)} data_offsets must be [begin, end] with 0 <= begin <= end")
        begin, end = offs
        if type(begin) is not int or type(end) is not int or not 0 <= begin <= end:
            return r.fail(f"{_t(name)} data_offsets must be [begin, end] with 0 <= begin <= end")
        nbits = count * bits
        if nbits % 8:
            return r.fail(f"{_t(name)} has {count:,} {dtype} elements, which do not fill whole bytes")
        if end - begin != nbits // 8:
            return r.fail(f"{_t(name)} data_offsets span {end - begin:,} bytes but {dtype} {shape} needs "
                          f"{nbits // 8:,}; the header does not match the data")
        if end > data_len:
            return r.fail(f"{_t(name)} data_offsets end at {end:,}, past the {data_len:,}-byte data "
                          "section; the file is truncated")
        ranges.append((begin, end, name))
        params += count
    ranges.sort()
    max_end, max_name = 0, ""
    for begin, end, name in ranges:
        if begin < max_end and begin < end:  # empty tensors overlap nothing
            return r.fail(f"tensors {max_name[:200]!r} and {name[:200]!r} overlap in the data "
                          f"section (bytes {begin:,}..{min(end, max_end):,}); the file is corrupt")
        if end > max_end:
            max_end, max_name = end, name
    if not ranges:
        return r.fail("holds no tensors (only __metadata__): a safetensors file without weights; name the "
                      "weight files instead")
    if params == 0:
        return r.fail(f"its {len(ranges)} tensor(s) hold no elements (every shape has a 0): a file without "
                      "weights; name the weight files instead")
    raise AssertionError("_refuse: _check refused a header with nothing wrong")  # pragma: no cover
