"""Does sizing a weight file cost the same at 512 MiB as at 1 MiB, i.e. never read the whole file?

For each size it writes one ``.safetensors`` (``safetensors.numpy.save_file``) and one ``.gguf``
(``gguf.GGUFWriter``, with a 32,000-token vocabulary in its metadata like a llama-2 GGUF) holding
32 F16 tensors that add up to that many MiB. Then a fresh Python process (so the writer's memory
use does not change the allocator's behaviour, as it would not in a real ``idm-gate`` run) times,
median of ``--repeat`` runs:

* ``size_artifacts([file])``, the code path ``idm-gate measure`` takes for a model's artifacts
  (glob, path checks, header parse, checks on offsets and dtypes),

against two floors measured in the same process on the same file:

* ``os.stat(file)``: the lower bound, the cost of learning a file's size at all;
* reading the whole file once (``readinto`` a reused 1 MiB buffer, no hashing): the thing we claim
  never to do, at its cheapest.

"warm" runs have the file in the page cache (the best case for the full read: a CI job that just
checked the weights out). "cold" runs evict the file first with ``posix_fadvise(DONTNEED)``, as for
weights on a disk or network mount; they show "n/a" where the kernel did not evict it (tmpfs, not
Linux), judged by ``/proc/self/io`` ``read_bytes``. It also counts the bytes ``size_artifacts``
reads: ``os.read`` and ``os.pread`` wrapped while it runs, and the ``rchar`` delta of ``/proc/self/io`` (every byte
the process got from ``read``).

Columns: ``sizing`` is ``size_artifacts``; ``x stat``, ``sizing/read`` and ``cold ratio`` are its
time divided by the floor's on the same row. The claim holds when the ``sizing`` columns and the
byte count stay flat as the file grows while the full read grows linearly. Files are written one at
a time in a temp folder and deleted after use (peak disk: the largest size, once).

    python benchmarks/bench_sizing.py [--sizes 1,64,512] [--repeat 21] [--no-cold] [--quick]
                                      [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import io_delta, median_seconds

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MB = 1 << 20
N_TENSORS = 32
ROW = 256
COLD_REPEAT = 3
TITLE = "sizing: size_artifacts on one file vs os.stat (lower bound) and one full read (what we never do)"
HEADER = ("format", "file size", "os.stat", "sizing", "x stat", "full read", "sizing/read",
          "sizing cold", "read cold", "cold ratio", "read() bytes", "rchar")
WIDTHS = (11, 10, 8, 9, 6, 9, 11, 11, 9, 11, 12, 12)


# --- writing the files (parent process) -----------------------------------------------------------

def tensors(total_bytes: int) -> dict:
    """``N_TENSORS`` F16 tensors adding up to about ``total_bytes`` (at least one row each)."""
    import numpy as np

    rows = max(1, total_bytes // 2 // N_TENSORS // ROW)
    return {f"blk.{i}.ffn_up.weight": np.full((rows, ROW), i, dtype=np.float16) for i in range(N_TENSORS)}


def write_safetensors(path: Path, total_bytes: int) -> int:
    from safetensors.numpy import save_file

    ts = tensors(total_bytes)
    save_file(ts, str(path), metadata={"format": "pt"})
    return sum(t.size for t in ts.values())


def write_gguf(path: Path, total_bytes: int, vocab: int) -> int:
    import gguf

    ts = tensors(total_bytes)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("bench")
    w.add_block_count(N_TENSORS)
    w.add_context_length(4096)
    w.add_tokenizer_model("llama")
    w.add_token_list([f"tok{i}" for i in range(vocab)])
    w.add_token_scores([float(-i) for i in range(vocab)])
    w.add_token_types([1] * vocab)
    for name, t in ts.items():
        w.add_tensor(name, t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return sum(t.size for t in ts.values())


# --- timing one file (child process) --------------------------------------------------------------



_BUF = memoryview(bytearray(MB))  # allocated once, never freed: reading leaves the allocator alone


def read_whole(path: Path) -> int:
    total = 0
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(_BUF):
            total += n
    return total


def os_read_bytes(fn) -> int:
    """Bytes returned by ``os.read`` and ``os.pread`` (what the header readers use) while ``fn`` runs."""
    real_read, real_pread, total = os.read, os.pread, 0

    def counting(fd: int, n: int) -> bytes:
        nonlocal total
        b = real_read(fd, n)
        total += len(b)
        return b

    def counting_p(fd: int, n: int, offset: int) -> bytes:
        nonlocal total
        b = real_pread(fd, n, offset)
        total += len(b)
        return b

    os.read, os.pread = counting, counting_p
    try:
        fn()
    finally:
        os.read, os.pread = real_read, real_pread
    return total


def evict(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def time_file(path: Path, params: int, repeat: int, cold: bool) -> dict:
    from idm_gate.sizing import size_artifacts

    d = path.parent

    def ours():
        return size_artifacts([path.name], d, d, "bench")

    res = ours()
    size = path.stat().st_size
    assert res.size_bytes == size and res.params == params, (res, size, params)
    assert read_whole(path) == size  # warms the page cache
    full_repeat = max(3, min(repeat, (1 << 30) // max(size, 1)))
    r: dict = {
        "size": size,
        "stat": median_seconds(lambda: os.stat(path), repeat * 10),
        "ours": median_seconds(ours, repeat),
        "read": median_seconds(lambda: read_whole(path), full_repeat),
        "ours_bytes": os_read_bytes(ours),
        "ours_rchar": io_delta(b"rchar", ours),
        "ours_cold": None,
        "read_cold": None,
    }
    if cold and hasattr(os, "posix_fadvise"):
        evict(path)
        # read_bytes counts what came from the device: zero means the eviction did not happen
        if io_delta(b"read_bytes", lambda: read_whole(path)):
            r["ours_cold"] = median_seconds(ours, COLD_REPEAT, before=lambda: evict(path))
            r["read_cold"] = median_seconds(lambda: read_whole(path), COLD_REPEAT, before=lambda: evict(path))
    return r


# --- the table ------------------------------------------------------------------------------------

def fmt_time(s: float | None) -> str:
    if s is None:
        return "n/a"
    if s < 1e-3:
        return f"{s * 1e6:.0f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "n/a"
    x = a / b
    return f"{x:.0f}x" if x >= 100 else f"{x:.3g}x"


def fmt_size(b: int) -> str:
    return f"{b / MB:,.1f} MiB" if b >= MB else f"{b / 1024:,.0f} KiB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,64,512", help="comma-separated tensor data sizes in MiB")
    ap.add_argument("--repeat", type=int, default=21)
    ap.add_argument("--vocab", type=int, default=32000, help="tokens in the GGUF metadata")
    ap.add_argument("--no-cold", dest="cold", action="store_false", help="skip the evicted-cache runs")
    ap.add_argument("--quick", action="store_true", help="tiny sizes and few repeats (a smoke test)")
    ap.add_argument("--workdir", type=Path, help="where to write the files (default: a temp dir)")
    ap.add_argument("--child", nargs=2, metavar=("FILE", "PARAMS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(time_file(Path(args.child[0]), int(args.child[1]), args.repeat, args.cold)))
        return 0
    if args.quick:
        args.sizes, args.repeat, args.vocab = "0.25,2", 3, 1000
    sizes = [int(float(s) * MB) for s in args.sizes.split(",")]

    rows = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="idm-bench-", dir=args.workdir) as tmp:
        for fmt in ("safetensors", "gguf"):
            for n in sizes:
                path = Path(tmp) / f"model-{n}.{fmt}"
                params = write_safetensors(path, n) if fmt == "safetensors" else write_gguf(path, n, args.vocab)
                try:
                    cmd = [sys.executable, __file__, "--child", str(path), str(params), "--repeat", str(args.repeat)]
                    out = subprocess.run(cmd + ([] if args.cold else ["--no-cold"]), check=True,
                                         capture_output=True, text=True).stdout
                    rows.append((fmt, json.loads(out)))
                finally:
                    path.unlink()
    elapsed = time.perf_counter() - t0

    print(TITLE)
    print(f"medians of {args.repeat} warm runs ({COLD_REPEAT} cold); {N_TENSORS} F16 tensors per file; "
          f"GGUF vocabulary {args.vocab:,} tokens; {elapsed:.1f} s in all")
    print(" | ".join(h.rjust(w) for h, w in zip(HEADER, WIDTHS, strict=True)))
    print("-" * (sum(WIDTHS) + 3 * (len(WIDTHS) - 1)))
    for fmt, r in rows:
        cells = (
            fmt, fmt_size(r["size"]), fmt_time(r["stat"]), fmt_time(r["ours"]), fmt_ratio(r["ours"], r["stat"]),
            fmt_time(r["read"]), fmt_ratio(r["ours"], r["read"]),
            fmt_time(r["ours_cold"]), fmt_time(r["read_cold"]), fmt_ratio(r["ours_cold"], r["read_cold"]),
            f"{r['ours_bytes']:,}", "n/a" if r["ours_rchar"] is None else f"{r['ours_rchar']:,}",
        )
        print(" | ".join(c.rjust(w) for c, w in zip(cells, WIDTHS, strict=True)))
    if len(sizes) > 1:
        print()
        for fmt in ("safetensors", "gguf"):
            rs = [r for f, r in rows if f == fmt]
            small, big = rs[0], rs[-1]
            more_bytes = big["ours_bytes"] / max(small["ours_bytes"], 1)
            print(f"{fmt}: a {big['size'] / small['size']:.0f}x larger file -> sizing "
                  f"{big['ours'] / small['ours']:.2f}x the time and {more_bytes:.2f}x the bytes; "
                  f"full read {big['read'] / small['read']:.0f}x the time (warm)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
