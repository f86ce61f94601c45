"""Every benchmark still runs: ``--quick`` (tiny sizes, seconds), exit 0, its table printed.

No timing is asserted here: performance claims come from ``make bench``, as ratios against floors
measured in the same run. What a user would notice is ``make bench`` crashing or printing no table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"

# benchmark -> (column names its table header holds, first cells of rows it must print, takes --workdir)
EXPECTED = {
    "bench_check.py": (["models", "measure", "check", "x measure", "check, manifest edited"], ["20 |"], True),
    "bench_gguf.py": (["vocab", "merges", "floor", "ours", "x floor", "CPU x floor"], ["2,000 |"], True),
    "bench_measure.py": (["what", "median", "x floor"],
                         ["load_manifest(idm.yaml) (floor)", "python -c pass (floor)", "idm-gate --help",
                          "idm-gate --version", "python -c 'import jsonschema, yaml' (floor)",
                          "idm-gate measure -m examples/model-repo/idm.yaml",
                          "idm-gate measure: one model"], False),
    "bench_scale.py": (["shards", "floor", "measure", "x floor", "CPU x floor", "rchar/shard", "peak mem/shard"],
                       ["200 |"], True),
    "bench_sizing.py": (["format", "file size", "os.stat", "sizing", "full read", "read() bytes"],
                        ["safetensors |", "gguf |"], True),
    "bench_store_lookup.py": (["records", "get_many(50)", "find_baseline", "put"], ["10 |", "100 |"], True),
}


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_every_benchmark_is_smoke_tested():
    found = sorted(p.name for p in BENCH.glob("bench_*.py"))
    assert found == sorted(EXPECTED), "add the new benchmark's table header to EXPECTED in this file"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_benchmark_quick_prints_its_table(name, tmp_path):
    header, rows, workdir = EXPECTED[name]
    args = [str(BENCH / name), "--quick"] + (["--workdir", str(tmp_path)] if workdir else [])
    p = run(args, tmp_path)
    assert p.returncode == 0, f"{name} --quick exited {p.returncode}:\n{p.stderr[-3000:]}"
    lines = p.stdout.splitlines()
    assert any(all(col in line for col in header) for line in lines), f"{name}: no table header in\n{p.stdout}"
    for row in rows:
        assert any(line.strip().startswith(row) for line in lines), f"{name}: no row {row!r} in\n{p.stdout}"


def test_run_all_runs_the_named_benchmark_and_refuses_an_unknown_one(tmp_path):
    p = run([str(BENCH / "run_all.py"), "--quick", "sizing"], tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "=== bench_sizing.py: ok" in p.stdout and "bench_measure.py" not in p.stdout
    assert "read() bytes" in p.stdout

    p = run([str(BENCH / "run_all.py"), "--quick", "no-such-bench"], tmp_path)
    assert p.returncode != 0
    assert "no benchmark 'no-such-bench'; choose from check, gguf, measure, scale, sizing, store_lookup" in p.stderr
