"""Does finding a baseline stay as cheap with 10,000 records on the branch as with 10?

For each size it builds a repository with 60 commits on ``main`` and a local ``idm-baselines`` branch
holding that many records (one of them for ``main~40``, the rest for made-up SHAs), written in one go
with ``git fast-import``. Then it times, median of ``--repeat`` runs:

* ``get_many`` of the 50 first-parent ancestors of ``main`` (one ``cat-file --batch``),
* ``find_baseline`` from ``main`` (``rev-list`` + ``get_many``; finds the record at distance 40),
* ``put`` of one new record (temporary index of the whole tree, ``commit-tree``, ``update-ref``),

and prints each as a multiple of a floor measured in the same run: the wall time of
``git rev-parse HEAD``, i.e. the cost of starting git at all on this machine. The claim is that the
lookup columns do not grow with the number of records; ``put`` grows gently (it reads the tree into
an index) and stays well under a second at 10,000.

    python benchmarks/bench_store_lookup.py [--sizes 10,10000] [--repeat 7] [--quick] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import median_seconds

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from idm_gate.gitutil import Git
from idm_gate.store import canonical_json, find_baseline
from idm_gate.store.branch import BranchStore, record_path

KEY = "idm.yaml"  # the gate key: the manifest's path from the repository's top
ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@localhost",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@localhost",
}


def fast_import(repo: Path, n_records: int, rng: random.Random) -> str:
    """60 commits on main plus a one-commit idm-baselines branch of ``n_records`` files."""
    out = []
    for i in range(60):
        msg = f"c{i}\n".encode()
        out.append(b"commit refs/heads/main\n")
        out.append(f"committer bench <bench@localhost> {1700000000 + i} +0000\n".encode())
        out.append(b"data %d\n%s\n" % (len(msg), msg))  # same branch: each commit's parent is the last
    stream = b"".join(out)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=stream, check=True, env={**os.environ, **ENV})
    target = subprocess.run(
        ["git", "rev-parse", "main~40"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    shas = [target] + [f"{rng.getrandbits(160):040x}" for _ in range(n_records - 1)]
    out = [b"commit refs/heads/idm-baselines\n", b"committer bench <bench@localhost> 1700000000 +0000\n",
           b"data 8\nrecords\n"]
    for sha in shas:
        data = canonical_json({"commit": sha, "density": rng.random(), "models": [{"name": "m", "gb": 1.0}]})
        out.append(f"M 100644 inline {record_path(sha, KEY)}\n".encode())
        out.append(b"data %d\n%s\n" % (len(data), data))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(out), check=True,
                   env={**os.environ, **ENV})
    return target




def bench_size(workdir: Path, n: int, repeat: int, rng: random.Random) -> dict[str, float]:
    repo = workdir / f"r{n}"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env={**os.environ, **ENV})
    target = fast_import(repo, n, rng)
    git = Git(repo, env=ENV)
    store = BranchStore(git, key=KEY, warn=lambda m: None)
    assert "local branch" in store.description
    head = git.rev_parse("main")
    candidates = git.first_parent_ancestors(head, 50)
    assert target in store.get_many(candidates)
    found = find_baseline(store, git, head)
    assert found is not None and found[0] == target and found[2] == 40, found

    def put() -> None:
        sha = f"{rng.getrandbits(160):040x}"
        store.put(sha, {"commit": sha, "density": 1.0})

    return {
        "floor": median_seconds(lambda: git.run("rev-parse", "HEAD"), repeat * 3),
        "get_many": median_seconds(lambda: store.get_many(candidates), repeat),
        "find_baseline": median_seconds(lambda: find_baseline(store, git, head), repeat),
        "put": median_seconds(put, repeat),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10,10000", help="comma-separated record counts")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="small sizes and few repeats (a smoke test)")
    ap.add_argument("--workdir", type=Path, help="where to build the repositories (default: a temp dir)")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.repeat = "10,100", 3
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(1234)
    with tempfile.TemporaryDirectory(prefix="idm-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        rows = [(n, bench_size(workdir, n, args.repeat, rng)) for n in sizes]
    floor = statistics.median(r["floor"] for _, r in rows)
    print(f"floor: git rev-parse HEAD = {floor * 1000:.2f} ms (median)")
    print(f"{'records':>8} | {'get_many(50)':>25} | {'find_baseline':>25} | {'put':>25}")
    print("-" * 92)
    for n, r in rows:
        cells = [f"{r[k] * 1000:7.2f} ms {r[k] / floor:5.1f}x floor" for k in ("get_many", "find_baseline", "put")]
        print(f"{n:>8} | " + " | ".join(f"{c:>25}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
