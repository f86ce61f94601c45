"""``idm-gate measure`` over many safetensors shards: time, bytes read and memory per shard.

A tree of models, each a folder of ``--per-model`` shards (``model-00001-of-00100.safetensors``, 8 F16
tensors each, written by ``safetensors.numpy``) and inline scores; the manifest names each model's
shards with a glob. For each shard count it times, interleaved (floor, ours, floor, ours, ...) so a
busy neighbour slows both alike, the median of ``--repeat`` runs of:

* the floor: what any tool that reads the parameter count must do at least, in Python: list each
  folder with ``os.scandir``, open each shard, read the 8-byte length and the header, ``json.loads``;
* ours: ``measure(manifest, root)`` (the manifest already loaded; its load is timed on its own):
  glob, path checks (symlinks resolved, the repository boundary), the header read and every check
  on dtypes, shapes and offsets, the shard-set checks, the densities.

Also, per shard: the bytes ``read()`` returned (``rchar`` of ``/proc/self/io``) warm, the bytes
that came from the device (``read_bytes``) after evicting every shard from the page cache (n/a
where eviction does not take, e.g. tmpfs), cold times of both, and the peak memory ``measure``
allocates (``tracemalloc``, a separate run) per artifact.

    python benchmarks/bench_scale.py [--shards 10000,100000] [--per-model 100] [--repeat 3] [--quick]
                                     [--workdir DIR] [--no-cold]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import io_delta  # noqa: E402

TITLE = "scale: measure over N safetensors shards vs the floor (scandir + open + read header + json.loads)"
HEADER = ("shards", "floor", "measure", "x floor", "CPU x floor", "per shard", "floor/shard", "rchar/shard",
          "cold x floor", "dev bytes/shard", "peak mem/shard")
WIDTHS = (8, 9, 9, 8, 11, 10, 11, 11, 12, 15, 14)
TENSORS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj", "input_layernorm")
PARAMS_PER_SHARD = len(TENSORS) * 16 * 16


def write_tree(root: Path, shards: int, per_model: int) -> Path:
    """Models of ``per_model`` shards each under ``root``; returns the manifest path. Reused when a
    previous run left the same tree (a stamp file names its shape)."""
    import numpy as np
    from safetensors.numpy import save

    stamp = root / f".tree-{shards}-{per_model}"
    manifest = root / "idm.yaml"
    if stamp.exists():
        return manifest
    n_models = -(-shards // per_model)
    lines = ["version: 1", "models:"]
    data = np.full((16, 16), 0.5, dtype=np.float16)
    done = 0
    for m in range(n_models):
        k = min(per_model, shards - done)
        folder = root / "models" / f"m{m:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(k):
            layer = m * per_model + i
            blob = save({f"model.layers.{layer}.{t}.weight": data for t in TENSORS}, metadata={"format": "pt"})
            (folder / f"model-{i + 1:05d}-of-{k:05d}.safetensors").write_bytes(blob)
        done += k
        lines += [f"  - name: m{m:05d}", f"    artifacts: ['models/m{m:05d}/*.safetensors']",
                  "    evals: [{scores: {mmlu: 0.61, gsm8k: 0.52}}]"]
    manifest.write_text("\n".join(lines) + "\n")
    stamp.touch()
    return manifest


def shard_folders(root: Path) -> list[str]:
    return sorted(e.path for e in os.scandir(root / "models"))


def floor(folders: list[str]) -> int:
    n = 0
    for d in folders:
        with os.scandir(d) as it:
            for e in it:
                if e.name.endswith(".safetensors"):
                    with open(e.path, "rb", buffering=0) as f:
                        k = int.from_bytes(f.read(8), "little")
                        json.loads(f.read(k))
                    n += 1
    return n


def evict(folders: list[str]) -> None:
    """Drop every shard's pages from the page cache (``POSIX_FADV_DONTNEED``), the tree's only: no
    root needed, and other processes' cache is left alone. Dirty pages cannot be dropped, so one
    ``sync`` first writes back what ``write_tree`` left (an ``fsync`` per file, a journal commit each on
    ext4, took longer than the benchmark at 100,000 shards)."""
    os.sync()
    for d in folders:
        for e in os.scandir(d):
            fd = os.open(e.path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def timed2(fn) -> tuple[float, float]:
    """(wall, CPU) seconds of ``fn()``: CPU time is what a shared machine's load disturbs least."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def run_one(root: Path, shards: int, per_model: int, repeat: int, cold: bool) -> dict:
    from idm_gate.manifest import load_manifest
    from idm_gate.measure import measure

    manifest = write_tree(root, shards, per_model)
    folders = shard_folders(root)
    t_load = timed(lambda: load_manifest(manifest, "idm.yaml"))
    man = load_manifest(manifest, "idm.yaml")

    def ours():
        return measure(man, root)

    m = ours()  # warm-up, and the answer checked: every shard sized, every parameter counted
    assert sum(len(x.artifacts) for x in m.models) == shards, "not every shard was sized"
    assert sum(x.params for x in m.models) == shards * PARAMS_PER_SHARD  # type: ignore[misc]
    assert floor(folders) == shards
    tf, to = [], []
    for _ in range(repeat):  # interleaved, so load on the machine weighs on both
        tf.append(timed2(lambda: floor(folders)))
        to.append(timed2(ours))
    r = {"shards": shards, "floor": statistics.median(w for w, _ in tf), "ours": statistics.median(w for w, _ in to),
         "floor_cpu": statistics.median(c for _, c in tf), "ours_cpu": statistics.median(c for _, c in to),
         "load": t_load,
         "rchar": io_delta(b"rchar", ours), "cold_ratio": None, "dev_bytes": None}
    if cold and hasattr(os, "posix_fadvise"):
        evict(folders)
        dev_floor = io_delta(b"read_bytes", lambda: floor(folders))
        if dev_floor:  # zero: the eviction did not take (tmpfs, or no block device counters)
            evict(folders)
            t_floor_cold = timed(lambda: floor(folders))
            evict(folders)
            box: dict = {}
            dev = io_delta(b"read_bytes", lambda: box.setdefault("t", timed(ours)))
            r["cold_ratio"] = box["t"] / t_floor_cold
            r["dev_bytes"] = dev
    del m
    tracemalloc.start()
    kept = ours()
    r["peak"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del kept
    return r


def fmt_t(s: float) -> str:
    return f"{s * 1e6:.0f} us" if s < 1e-3 else f"{s * 1e3:.0f} ms" if s < 1 else f"{s:.2f} s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shards", default="10000,100000", help="comma-separated shard counts")
    ap.add_argument("--per-model", type=int, default=100, help="shards per model (one folder each)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-cold", dest="cold", action="store_false", help="skip the evicted-cache run")
    ap.add_argument("--quick", action="store_true", help="200 shards, one repeat (a smoke test)")
    ap.add_argument("--workdir", type=Path, help="where to write the trees (default: a temp dir; "
                    "a tree left there is reused)")
    args = ap.parse_args(argv)
    if args.quick:
        args.shards, args.per_model, args.repeat = "200", 10, 1
    counts = [int(x) for x in args.shards.split(",")]

    rows = []
    for n in counts:
        if args.workdir:
            d = args.workdir / f"scale-{n}-{args.per_model}"
            d.mkdir(parents=True, exist_ok=True)
            rows.append(run_one(d, n, args.per_model, args.repeat, args.cold))
        else:
            with tempfile.TemporaryDirectory(prefix="idm-bench-scale-") as tmp:
                rows.append(run_one(Path(tmp), n, args.per_model, args.repeat, args.cold))

    print(TITLE)
    print(f"medians of {args.repeat} interleaved runs; {args.per_model} shards per model, {len(TENSORS)} "
          "tensors per shard; manifest loaded beforehand (its load: "
          + ", ".join(f"{fmt_t(r['load'])} at {r['shards']:,}" for r in rows) + ")")
    print(" | ".join(h.rjust(w) for h, w in zip(HEADER, WIDTHS, strict=True)))
    print("-" * (sum(WIDTHS) + 3 * (len(WIDTHS) - 1)))
    for r in rows:
        n = r["shards"]
        cells = (f"{n:,}", fmt_t(r["floor"]), fmt_t(r["ours"]), f"{r['ours'] / r['floor']:.2f}x",
                 f"{r['ours_cpu'] / r['floor_cpu']:.2f}x",
                 fmt_t(r["ours"] / n), fmt_t(r["floor"] / n),
                 "n/a" if r["rchar"] is None else f"{r['rchar'] / n / 1024:.1f} KiB",
                 "n/a" if r["cold_ratio"] is None else f"{r['cold_ratio']:.2f}x",
                 "n/a" if r["dev_bytes"] is None else f"{r['dev_bytes'] / n / 1024:.1f} KiB",
                 f"{r['peak'] / n:,.0f} B")
        print(" | ".join(c.rjust(w) for c, w in zip(cells, WIDTHS, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
