"""What does ``idm-gate measure`` on the bundled example cost, and does ``idm-gate --help`` start fast?

Two tables, each against a floor measured in the same run (median of ``--repeat`` runs):

* in-process, on ``examples/model-repo/idm.yaml`` (3 models: a GGUF, two safetensors, an lm-eval
  results file, a CSV and a model card): ``measure(manifest)`` as the CLI calls it (it runs
  ``git rev-parse --show-toplevel`` once to find the repository), and ``measure(manifest, root)``
  with the root given, against the floor ``load_manifest`` (read, parse and validate the YAML);
* as a user runs it, a fresh process each time, interleaved (one of each per round), in wall time
  and in CPU time (user + system of the process and its children, which a busy neighbour disturbs
  least): ``idm-gate --help`` and ``--version`` against the floor ``python -c pass`` (the cost of starting this
  interpreter at all); ``idm-gate measure`` of the bundled example and of a one-model repository (a
  safetensors file, inline scores) against ``python -c 'import jsonschema, yaml'``, the libraries
  every measure needs (the manifest is YAML checked against a JSON Schema), and against those
  imports run as ``idm-gate``'s process runs (``cli.entry``: the cyclic collector's young threshold
  raised, and ``os._exit`` instead of interpreter teardown), so the share of the ratio those two
  settings earn is on show and the rest is idm-gate's own code. Bytecode is written and
  reused as in an installed package (``PYTHONDONTWRITEBYTECODE`` dropped), under a temp
  ``PYTHONPYCACHEPREFIX`` so the source tree is left alone; each command runs once untimed first.

It also lists which heavy third-party modules each command imports: STYLE.md asks for them to be
imported where used, so ``--help`` should import none.

    python benchmarks/bench_measure.py [--repeat 21] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import median_seconds

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from idm_gate.cli import GC_YOUNG_THRESHOLD  # noqa: E402
from idm_gate.manifest import load_manifest  # noqa: E402
from idm_gate.measure import measure, repo_root  # noqa: E402

EXAMPLE = ROOT / "examples" / "model-repo" / "idm.yaml"
HEAVY = ("jsonschema", "yaml", "requests", "urllib3", "ghapi", "fasttransport", "httpx2", "numpy",
         "safetensors", "gguf")
# the imports floor run as cli.entry runs a command: the collector's young threshold raised first, and
# flushed then os._exit at the end (no teardown of the interpreter)
FAST_EXIT_FLOOR = (f"import gc; gc.set_threshold({GC_YOUNG_THRESHOLD}); import jsonschema, yaml, os, sys; "
                   "sys.stdout.flush(); os._exit(0)")
FAST_EXIT_NAME = "the same imports, gc threshold and os._exit as idm-gate"
TITLE = "measure: idm-gate measure on examples/model-repo and CLI start-up, against floors from the same run"
HEADER = ("what", "median", "x floor", "+ over floor", "CPU x floor")
WIDTHS = (64, 10, 8, 12, 11)

# Runs the CLI's main() in a fresh interpreter and reports the heavy modules it imported.
_PROBE = """
import contextlib, io, json, sys
from idm_gate.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
heavy = set(json.loads(HEAVY))
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy and "." not in m)))
"""




def write_one_model(folder: Path) -> Path:
    """A git repository with one model: a safetensors file (written by safetensors) and inline scores."""
    import numpy as np
    from safetensors.numpy import save_file

    save_file({"w": np.zeros((64, 64), dtype=np.float16)}, str(folder / "model.safetensors"))
    manifest = folder / "idm.yaml"
    manifest.write_text("version: 1\nmodels:\n  - name: one\n    artifacts: [model.safetensors]\n"
                        "    evals: [{scores: {mmlu: 0.61, gsm8k: 0.52}}]\n")
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    return manifest


def cli() -> list[str]:
    """The console script next to this interpreter (what a user runs), else ``python -m idm_gate``."""
    script = Path(sys.executable).parent / "idm-gate"
    return [str(script)] if script.exists() else [sys.executable, "-m", "idm_gate"]


def child_env(pycache: str) -> dict[str, str]:
    """Bytecode written and reused, as in an installed package, but kept out of the source tree."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": pycache}


def run(cmd: list[str], env: dict[str, str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)


def heavy_imports(argv: list[str]) -> list[str]:
    env = {**os.environ, "HEAVY": json.dumps(HEAVY)}
    code = _PROBE.replace("json.loads(HEAVY)", "json.loads(__import__('os').environ['HEAVY'])")
    out = subprocess.run([sys.executable, "-c", code, *argv], check=True, capture_output=True, text=True,
                         cwd=ROOT, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def print_table(title: str, floor: tuple[str, float], rows: list[tuple[str, float]],
                cpu: dict[str, float] | None = None) -> None:
    """A table of wall-time medians against ``floor``; with ``cpu`` (name -> median CPU seconds of the
    process and its children), also the CPU ratio, which a busy neighbour disturbs least."""
    print(title)
    print(" | ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(HEADER, WIDTHS, strict=True))))
    print("-" * (sum(WIDTHS) + 3 * (len(WIDTHS) - 1)))
    name, f = floor
    fc = cpu.get(name) if cpu else None
    print(" | ".join((f"{name} (floor)".ljust(WIDTHS[0]), f"{f * 1e3:7.2f} ms", "1.0x".rjust(WIDTHS[2]),
                      "".rjust(WIDTHS[3]), ("1.0x" if fc else "").rjust(WIDTHS[4]))))
    for name, t in rows:
        c = cpu.get(name) if cpu else None
        print(" | ".join((name.ljust(WIDTHS[0]), f"{t * 1e3:7.2f} ms", f"{t / f:.2f}x".rjust(WIDTHS[2]),
                          f"{(t - f) * 1e3:+.2f} ms".rjust(WIDTHS[3]),
                          (f"{c / fc:.2f}x" if c and fc else "").rjust(WIDTHS[4]))))


def children_cpu() -> float:
    """User + system seconds of every child process waited for so far (``getrusage``)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=21)
    ap.add_argument("--quick", action="store_true", help="few repeats (a smoke test)")
    args = ap.parse_args(argv)
    repeat = 3 if args.quick else args.repeat

    # in-process
    man = load_manifest(EXAMPLE, "idm.yaml")
    root = repo_root(man.base_dir)
    m = measure(man)  # warm-up: imports the readers once, as any run does
    assert [x.name for x in m.models] == [s.name for s in man.models] and all(x.density > 0 for x in m.models)
    t_load = median_seconds(lambda: load_manifest(EXAMPLE, "idm.yaml"), repeat)
    t_measure = median_seconds(lambda: measure(man), repeat)
    t_measure_root = median_seconds(lambda: measure(man, root), repeat)

    # fresh processes, interleaved (each round runs every command once) so load weighs on all alike
    base = cli()
    pycmd = [sys.executable, "-c", "pass"]
    importcmd = [sys.executable, "-c", "import jsonschema, yaml"]
    fastexitcmd = [sys.executable, "-c", FAST_EXIT_FLOOR]
    with tempfile.TemporaryDirectory(prefix="idm-bench-pycache-") as pycache, \
            tempfile.TemporaryDirectory(prefix="idm-bench-one-") as one:
        one_manifest = write_one_model(Path(one))
        cmds = {
            "python -c pass": pycmd,
            "python -c 'import jsonschema, yaml'": importcmd,
            FAST_EXIT_NAME: fastexitcmd,
            "idm-gate --help": base + ["--help"],
            "idm-gate --version": base + ["--version"],
            "idm-gate measure -m examples/model-repo/idm.yaml": base + ["measure", "-m", str(EXAMPLE)],
            "idm-gate measure: one model (a safetensors file, inline scores)":
                base + ["measure", "-m", str(one_manifest)],
        }
        env = child_env(pycache)
        for cmd in cmds.values():
            run(cmd, env)  # warm-up: page cache, .pyc files
        times: dict[str, list[float]] = {name: [] for name in cmds}
        cpus: dict[str, list[float]] = {name: [] for name in cmds}
        for _ in range(repeat):
            for name, cmd in cmds.items():
                c0 = children_cpu()
                times[name].append(median_seconds(lambda c=cmd: run(c, env), 1))
                cpus[name].append(children_cpu() - c0)
    t = {name: statistics.median(v) for name, v in times.items()}
    cpu = {name: statistics.median(v) for name, v in cpus.items()}
    t_py = t.pop("python -c pass")
    t_imports = t.pop("python -c 'import jsonschema, yaml'")
    t_fast_exit = t.pop(FAST_EXIT_NAME)
    t_cli = t
    probes = {"--help": ["--help"], "measure": ["measure", "-m", str(EXAMPLE)]}
    imported = {name: heavy_imports(a) for name, a in probes.items()}

    print(TITLE)
    print(f"medians of {repeat} runs; {len(man.models)} models; CLI as {' '.join(Path(c).name for c in base)}, "
          "bytecode cached (in a temp PYTHONPYCACHEPREFIX)")
    print()
    print_table("in-process (manifest already loaded for measure)", ("load_manifest(idm.yaml)", t_load),
                [(f"measure(manifest): {len(man.models)} models, finds the repo with git", t_measure),
                 ("measure(manifest, root): the same, repo root given", t_measure_root)])
    print()
    print_table("fresh process each run", ("python -c pass", t_py),
                [(k, v) for k, v in t_cli.items() if "measure" not in k], cpu)
    print()
    print_table("fresh process each run, against the libraries every measure needs",
                ("python -c 'import jsonschema, yaml'", t_imports),
                [(k, v) for k, v in t_cli.items() if "measure" in k], cpu)
    print()
    print_table("the same, against those imports run as idm-gate's process runs (cli.entry)",
                (FAST_EXIT_NAME, t_fast_exit), [(k, v) for k, v in t_cli.items() if "measure" in k], cpu)
    print()
    for name, mods in imported.items():
        print(f"heavy modules imported by idm-gate {name}: {', '.join(mods) or 'none'} "
              f"(of {', '.join(HEAVY)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
