"""``idm-gate check`` on many models against ``idm-gate measure`` of the same tree.

A git repository (with a bare ``origin``) of ``--models`` models, each a safetensors file (written by
``safetensors.numpy``) and an lm-evaluation-harness results file; ``record`` stores main's baseline.
A pull request then changes one model's weights. Fresh processes, interleaved (one of each per
round), the median of ``--repeat`` rounds, in wall time and in CPU time (user + system of the
process and the git it runs, which a busy neighbour disturbs least):

* the floor: ``idm-gate measure`` of the PR's checkout (start-up, manifest, every model sized and
  its results read);
* ``idm-gate check --base-ref origin/main``: the same measurement, plus the base commit's manifest
  (the policy), the baseline record from the ``idm-baselines`` branch (validated as untrusted), the
  comparison and the report;
* the same check when the PR also edits the manifest (so the base commit's manifest is parsed on
  its own rather than recognised as the same bytes).

    python benchmarks/bench_check.py [--models 1000] [--repeat 5] [--quick] [--workdir DIR]
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TITLE = "check: idm-gate check on N models vs idm-gate measure of the same checkout"
HEADER = ("models", "measure", "check", "x measure", "CPU x measure", "check, manifest edited", "x measure",
          "CPU x measure")
WIDTHS = (7, 9, 9, 10, 13, 22, 10, 13)


def children_cpu() -> float:
    """User + system seconds of every child process waited for so far (``getrusage``)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def git(cwd: Path, *args: str, env: dict) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def lm_eval_results(i: int) -> dict:
    """An lm-evaluation-harness 0.4 results file, as the harness writes it (two tasks)."""
    acc = 0.5 + (i % 37) / 100
    return {"results": {"arc_easy": {"alias": "arc_easy", "acc,none": acc, "acc_stderr,none": 0.01,
                                     "acc_norm,none": acc + 0.01, "acc_norm_stderr,none": 0.01},
                        "hellaswag": {"alias": "hellaswag", "acc,none": acc - 0.05, "acc_stderr,none": 0.005,
                                      "acc_norm,none": acc - 0.02, "acc_norm_stderr,none": 0.005}},
            "group_subtasks": {"arc_easy": [], "hellaswag": []},
            "configs": {}, "versions": {"arc_easy": 1.0, "hellaswag": 1.0}, "n-shot": {"arc_easy": 0, "hellaswag": 0},
            "higher_is_better": {"arc_easy": {"acc": True, "acc_norm": True},
                                 "hellaswag": {"acc": True, "acc_norm": True}}}


def build(root: Path, n: int, env: dict, cli: list[str]) -> Path:
    import numpy as np
    from safetensors.numpy import save_file

    origin, work = root / "origin.git", root / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], env=env, check=True)
    subprocess.run(["git", "clone", "-q", str(origin), str(work)], env=env, check=True, capture_output=True)
    git(work, "checkout", "-q", "-b", "main", env=env)
    lines = ["version: 1", "gate: {max_drop: 5%}", "models:"]
    for i in range(n):
        d = work / "models" / f"m{i:05d}"
        d.mkdir(parents=True)
        save_file({"w": np.zeros((8 + i % 5, 32), dtype=np.float16)}, str(d / "model.safetensors"))
        (d / "results.json").write_text(json.dumps(lm_eval_results(i)))
        lines += [f"  - name: m{i:05d}", f"    artifacts: [models/m{i:05d}/model.safetensors]",
                  f"    evals: [{{path: models/m{i:05d}/results.json}}]"]
    (work / "idm.yaml").write_text("\n".join(lines) + "\n")
    git(work, "add", "-A", env=env)
    git(work, "commit", "-q", "-m", "models", env=env)
    git(work, "push", "-q", "origin", "main", env=env)
    subprocess.run(cli + ["record"], cwd=work, env=env, check=True, capture_output=True)
    git(work, "checkout", "-q", "-b", "pr", env=env)
    save_file({"w": np.zeros((16, 32), dtype=np.float16)}, str(work / "models" / "m00000" / "model.safetensors"))
    git(work, "commit", "-q", "-am", "bigger m00000", env=env)
    return work


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="20 models, 2 rounds (a smoke test)")
    ap.add_argument("--workdir", type=Path, help="where to build the repository (default: a temp dir)")
    args = ap.parse_args(argv)
    if args.quick:
        args.models, args.repeat = 20, 2
    script = Path(sys.executable).parent / "idm-gate"
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "idm_gate"]
    with tempfile.TemporaryDirectory(prefix="idm-bench-check-", dir=args.workdir) as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_", "INPUT_"))
               and k != "PYTHONDONTWRITEBYTECODE"}
        env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@example.com",
                   GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@example.com",
                   PYTHONPYCACHEPREFIX=str(Path(tmp) / "pyc"))
        work = build(Path(tmp), args.models, env, cli)
        edited = Path(tmp) / "edited"
        subprocess.run(["git", "clone", "-q", "--no-local", str(work), str(edited)], env=env, check=True,
                       capture_output=True)
        git(edited, "remote", "set-url", "origin", str(Path(tmp) / "origin.git"), env=env)
        git(edited, "fetch", "-q", "origin", env=env)
        text = (edited / "idm.yaml").read_text().replace("gate: {max_drop: 5%}", "gate: {max_drop: 5%}  # edited")
        (edited / "idm.yaml").write_text(text)
        git(edited, "commit", "-q", "-am", "edit the manifest", env=env)

        def run(cmd: list[str], cwd: Path, want: int) -> tuple[float, float]:
            """(wall, CPU) seconds; CPU is user + system of the process and its children (git)."""
            c, t = children_cpu(), time.perf_counter()
            p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
            dt, dc = time.perf_counter() - t, children_cpu() - c
            assert p.returncode == want, (cmd, p.returncode, p.stderr[-2000:])
            return dt, dc

        measure = cli + ["measure"]
        check = cli + ["check", "--base-ref", "origin/main"]
        rounds: dict[str, list[tuple[float, float]]] = {"measure": [], "check": [], "edited": []}
        run(measure, work, 0), run(check, work, 1), run(check, edited, 1)  # warm-up; m00000 fails the gate
        for _ in range(args.repeat):
            rounds["measure"].append(run(measure, work, 0))
            rounds["check"].append(run(check, work, 1))
            rounds["edited"].append(run(check, edited, 1))
    t = {k: statistics.median(w for w, _ in v) for k, v in rounds.items()}
    c = {k: statistics.median(x for _, x in v) for k, v in rounds.items()}
    print(TITLE)
    print(f"medians of {args.repeat} interleaved rounds of fresh processes; each model a safetensors file and an "
          "lm-eval results file; the PR makes one model bigger (it fails the gate)")
    print(" | ".join(h.rjust(w) for h, w in zip(HEADER, WIDTHS, strict=True)))
    print("-" * (sum(WIDTHS) + 3 * (len(WIDTHS) - 1)))
    cells = (f"{args.models:,}", f"{t['measure']:.2f} s", f"{t['check']:.2f} s", f"{t['check'] / t['measure']:.2f}x",
             f"{c['check'] / c['measure']:.2f}x", f"{t['edited']:.2f} s", f"{t['edited'] / t['measure']:.2f}x",
             f"{c['edited'] / c['measure']:.2f}x")
    print(" | ".join(c.rjust(w) for c, w in zip(cells, WIDTHS, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
