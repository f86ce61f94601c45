"""GGUF sizing with a large tokenizer in its metadata, against a minimal walk of the same bytes.

A GGUF written by ``gguf.GGUFWriter`` with a Llama-3-sized tokenizer (``--vocab`` 128,256 tokens,
``--merges`` 280,147 merges, scores and token types) and 64 small F16 tensors. Times, interleaved
(floor, ours, floor, ours, ...), the median of ``--repeat`` runs of:

* the floor: read the file into memory and walk it with ``struct.unpack_from`` only: header, every
  metadata pair (strings and string arrays stepped over by their lengths, fixed-size arrays skipped),
  every tensor info, the parameter count summed. No checks, no messages: the least any reader does;
* ours: ``idm_gate.sizing.gguf.measure`` (the bounded reader, every count and length checked against
  the bytes left, the alignment, each tensor's type, block size and extent).

    python benchmarks/bench_gguf.py [--vocab 128256] [--merges 280147] [--repeat 7] [--quick]
                                    [--workdir DIR]
"""

from __future__ import annotations

import argparse
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TITLE = "gguf: sizing a GGUF with a large tokenizer vs a minimal struct.unpack_from walk of the same bytes"
HEADER = ("vocab", "merges", "metadata", "floor", "ours", "x floor", "CPU x floor", "per token")
WIDTHS = (9, 9, 10, 9, 9, 8, 11, 10)
N_TENSORS = 64


def write_gguf(path: Path, vocab: int, merges: int) -> int:
    import gguf
    import numpy as np

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("bench")
    w.add_block_count(N_TENSORS)
    w.add_context_length(8192)
    w.add_tokenizer_model("gpt2")
    # byte-level BPE pieces of realistic lengths (Llama 3's average a little over 6 bytes)
    w.add_token_list([f"\u0120tok{i}" for i in range(vocab)])
    w.add_token_types([1] * vocab)
    w.add_token_merges([f"\u0120t ok{i}" for i in range(merges)])
    params = 0
    for i in range(N_TENSORS):
        t = np.zeros((4, 32), dtype=np.float16)
        w.add_tensor(f"blk.{i}.ffn_up.weight", t)
        params += t.size
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return params


_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def floor(path: Path) -> int:
    """The minimal walk: parameter count from the tensor infos, metadata stepped over."""
    with open(path, "rb", buffering=0) as f:
        b = f.read()
    u32, u64 = struct.Struct("<I").unpack_from, struct.Struct("<Q").unpack_from
    n_tensors, n_kv = struct.unpack_from("<QQ", b, 8)
    off = 24
    for _ in range(n_kv):
        off += 8 + u64(b, off)[0]
        vtype = u32(b, off)[0]
        off += 4
        if vtype == 8:
            off += 8 + u64(b, off)[0]
        elif vtype == 9:
            etype, count = u32(b, off)[0], u64(b, off + 4)[0]
            off += 12
            if etype == 8:
                for _ in range(count):
                    off += 8 + u64(b, off)[0]
            else:
                off += count * _FIXED[etype]
        else:
            off += _FIXED[vtype]
    params = 0
    for _ in range(n_tensors):
        off += 8 + u64(b, off)[0]
        nd = u32(b, off)[0]
        dims = struct.unpack_from(f"<{nd}Q", b, off + 4)
        off += 4 + 8 * nd + 4 + 8
        n = 1
        for d in dims:
            n *= d
        params += n
    return params


def timed2(fn) -> tuple[float, float]:
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def fmt_t(s: float) -> str:
    return f"{s * 1e6:.2f} us" if s < 1e-3 else f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vocab", type=int, default=128_256)
    ap.add_argument("--merges", type=int, default=280_147)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="a 2,000-token vocabulary, 3 repeats (a smoke test)")
    ap.add_argument("--workdir", type=Path, help="where to write the file (default: a temp dir)")
    args = ap.parse_args(argv)
    if args.quick:
        args.vocab, args.merges, args.repeat = 2000, 3000, 3
    from idm_gate.sizing import gguf as gguf_sizing

    with tempfile.TemporaryDirectory(prefix="idm-bench-gguf-", dir=args.workdir) as tmp:
        path = Path(tmp) / "tokenizer-heavy.gguf"
        params = write_gguf(path, args.vocab, args.merges)
        size = path.stat().st_size

        def ours():
            return gguf_sizing.measure(path, path.name, "bench")

        a = ours()  # warm-up (page cache), and the answer checked against the walk
        assert a.params == params == floor(path), (a.params, params)
        tf, to = [], []
        for _ in range(args.repeat):
            tf.append(timed2(lambda: floor(path)))
            to.append(timed2(ours))
    f_wall, o_wall = statistics.median(w for w, _ in tf), statistics.median(w for w, _ in to)
    f_cpu, o_cpu = statistics.median(c for _, c in tf), statistics.median(c for _, c in to)
    print(TITLE)
    print(f"medians of {args.repeat} interleaved runs; {N_TENSORS} F16 tensors; file {size / 2**20:.1f} MiB, "
          "nearly all of it metadata")
    print(" | ".join(h.rjust(w) for h, w in zip(HEADER, WIDTHS, strict=True)))
    print("-" * (sum(WIDTHS) + 3 * (len(WIDTHS) - 1)))
    cells = (f"{args.vocab:,}", f"{args.merges:,}", f"{size / 2**20:.1f} MiB", fmt_t(f_wall), fmt_t(o_wall),
             f"{o_wall / f_wall:.2f}x", f"{o_cpu / f_cpu:.2f}x", fmt_t(o_wall / (args.vocab + args.merges)))
    print(" | ".join(c.rjust(w) for c, w in zip(cells, WIDTHS, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
