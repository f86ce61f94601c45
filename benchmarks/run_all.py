"""Run every benchmark in this folder (``bench_*.py``) and print its table; ``make bench`` runs this.

Each benchmark runs in its own process with this interpreter, one after another, so none times
another's leftovers. Their figures are ratios against floors measured in the same run, but the
machine still matters: the header gives the interpreter, the CPU count and the load average, and a
busy machine (load above the CPU count) is worth a re-run before quoting anything.

    python benchmarks/run_all.py [--quick] [NAME ...]    NAME: e.g. sizing or bench_sizing.py

``--quick`` passes ``--quick`` on (tiny sizes, few repeats: a smoke test, not figures to quote).
Exits 1 when any benchmark fails, after running the rest.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benchmarks() -> list[Path]:
    return sorted(HERE.glob("bench_*.py"))


def select(names: list[str]) -> list[Path]:
    found = {p.stem.removeprefix("bench_"): p for p in benchmarks()}
    chosen = []
    for n in names:
        key = Path(n).stem.removeprefix("bench_")
        if key not in found:
            raise SystemExit(f"run_all.py: no benchmark {n!r}; choose from {', '.join(sorted(found))}")
        chosen.append(found[key])
    return chosen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes and few repeats (a smoke test)")
    ap.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    args = ap.parse_args(argv)
    todo = select(args.names) if args.names else benchmarks()

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"idm-gate benchmarks{' (--quick: smoke test, not figures to quote)' if args.quick else ''}")
    print(f"python {platform.python_version()} on {platform.system()} {platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average {load}")
    failed = []
    for path in todo:
        print(f"\n=== {path.name} ===", flush=True)
        t = time.perf_counter()
        rc = subprocess.run([sys.executable, str(path), *(["--quick"] if args.quick else [])]).returncode
        print(f"=== {path.name}: {'ok' if rc == 0 else f'FAILED (exit {rc})'} in "
              f"{time.perf_counter() - t:.1f} s ===", flush=True)
        if rc:
            failed.append(path.name)
    if failed:
        print(f"\nrun_all.py: {len(failed)} benchmark(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
