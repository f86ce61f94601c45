"""``idm-gate init``: a commented ``idm.yaml`` from what a repository holds; ``--workflow``: the workflow.

The manifest is built from :func:`idm_gate.scan.scan` and checked before it is written: every eval
file it names is read by the same reader ``measure`` uses, every model is measured on its own (a model
that fails is left out with the error as the reason), and the whole file is parsed and measured
again. So what ``init`` writes validates and measures, or ``init`` writes nothing and says why.

An existing file is never replaced without ``--force``; ``--dry-run`` prints instead of writing.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from . import __version__
from .errors import InputError
from .scan import EvalFile, Finding, ScanResult, WeightSet, place, scan

ACTION_REPO = "idm-gate/idm-gate"
# actions/checkout pinned by commit SHA, as in examples/workflows/.
CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2"
KIND_LABELS = {"lm-eval": "lm-eval results", "lighteval": "lighteval results", "mteb": "MTEB results",
               "opencompass": "OpenCompass summary",
               "model-index": "model card", "csv": "CSV scores", "confusion-matrix": "confusion matrix",
               "classification-report": "classification report"}


@dataclass
class Draft:
    """One model as init will write it: its weights, the eval files placed on it and why."""

    weights: WeightSet
    evals: list[tuple[EvalFile, int, str]] = field(default_factory=list)   # (file, tasks counted, why placed)
    superseded: list[tuple[str, str]] = field(default_factory=list)        # (file, by which newer file)


def _rel(root: Path, rel: str, manifest_dir: Path) -> str:
    """A scan-root-relative path as the manifest names it (relative to the manifest's folder)."""
    full = os.path.normpath(os.path.join(root, rel))
    return os.path.relpath(full, manifest_dir).replace(os.sep, "/")


def _scalar(s: str) -> str:
    """A YAML scalar: bare when it reads back as the same string, else JSON-quoted (valid YAML)."""
    import yaml

    if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_./+=-]*", s):
        try:
            if yaml.safe_load(s) == s:
                return s
        except yaml.YAMLError:
            pass
    return json.dumps(s, ensure_ascii=False)


def _artifacts(w: WeightSet, files: list[str]) -> list[str]:
    """Globs where they are exact today and keep working tomorrow, else the files themselves.

    A folder whose ``*.safetensors`` (or ``*.bin``) are exactly this set gets that glob: a pull
    request that adds a weight file or reshards is still measured whole. GGUF files are named one
    by one (each quantization is its own model), llama.cpp splits by their shard glob.
    """
    if w.format in ("safetensors", "pytorch") and len(w.files) == len(w.artifacts):
        ext = posixpath.splitext(w.files[0])[1]
        if all(f.endswith(ext) for f in w.files):
            glob = posixpath.join(w.folder, "*" + ext)
            same = [f for f in files if posixpath.dirname(f) == w.folder and f.endswith(ext)]
            if sorted(same) == sorted(w.files):
                return [glob]
    if w.format == "gguf" and len(w.files) > 1:
        m = re.match(r"^(.*)-\d{5}-of-(\d{5})\.gguf$", w.files[0], re.I)
        if m:
            return [f"{m.group(1)}-*-of-{m.group(2)}.gguf"]
    return list(w.artifacts)


def _read_tasks(ev: EvalFile, root: Path, manifest_dir: Path, repo_root: Path) -> tuple[set[str] | None, str]:
    """(tasks counted, "") when ``measure`` reads ``ev`` as the manifest will name it (no ``format:``,
    so detected as ``measure`` detects it); (None, the reader's one-line error) otherwise."""
    from .data import EvalSource
    from .evals import read_eval

    src = EvalSource(path=_rel(root, ev.path, manifest_dir), field="evals[0]")
    try:
        res = read_eval(src, manifest_dir, repo_root, ev.path, {})
    except InputError as e:
        return None, f"{KIND_LABELS.get(ev.kind, ev.kind)} that cannot be read: {e}"
    return {t.task for t in res.tasks}, ""


def build_drafts(found: ScanResult, root: Path, manifest_dir: Path, repo_root: Path) -> list[Draft]:
    """Place every readable eval file on its model; reruns of the same tasks keep only the newest."""
    drafts = {w.name: Draft(w) for w in found.weights}
    placed: dict[str, list[tuple[EvalFile, set[str], str]]] = {}
    for ev in found.evals:
        tasks, why_not = _read_tasks(ev, root, manifest_dir, repo_root)
        if tasks is None:
            found.unplaced.append(Finding(ev.path, why_not))
            continue
        w, why = place(ev, found.weights)
        if w is None:
            found.unplaced.append(Finding(ev.path, f"{KIND_LABELS.get(ev.kind, ev.kind)}: {why}"))
            continue
        placed.setdefault(w.name, []).append((ev, tasks, why))
    for name, evs in placed.items():
        d = drafts[name]
        seen: dict[str, str] = {}
        # newest first; lm-eval's `date`, else the timestamp in the file name, else the path
        for ev, tasks, why in sorted(evs, key=lambda x: (x[0].date, x[0].path), reverse=True):
            clash = sorted(tasks & set(seen))
            if clash:
                d.superseded.append((ev.path, seen[clash[0]]))
                continue
            seen.update({t: ev.path for t in tasks})
            d.evals.append((ev, len(tasks), why))
        d.evals.sort(key=lambda x: x[0].path)
    return list(drafts.values())


# ---------------------------------------------------------------------------------------------
# rendering


HEADER = """\
# idm-gate manifest, written by `idm-gate init` (idm-gate {version}).
# Review it, then commit it. Every field: docs/manifest.md or `idm-gate schema`.
# Paths are relative to this file's folder; globs (*, **) are allowed in artifacts.
# Baselines are matched by name: name models by role, and when one is renamed (a requantization,
# say), keep its old name in previous_names: [...] so the check compares it with the old baseline.
version: 1
log_base: e        # densities in nats per GB (-ln(mean error) / GB); 2 for bits per GB
gate:
  max_drop: 5%     # a density drop beyond this (against the base branch's baseline) fails
  warn_drop: 2%    # a drop beyond this warns
  # Absolute budgets, checked on every model, new ones included:
  # min_density: 0.5
  # max_size_gb: 4
  # max_error_rate: 0.4
"""


def _model_lines(d: Draft, artifacts: list[str], root: Path, manifest_dir: Path, comment: bool) -> list[str]:
    w = d.weights
    c = "# " if comment else ""
    lines = [f"  # {posixpath.join(w.folder, '') or './'}: {_fmt_label(w)}, {w.note}"]
    lines.append(f"  {c}- name: {_scalar(w.name)}")
    lines.append(f"  {c}  artifacts:")
    lines += [f"  {c}    - {_scalar(_rel(root, a, manifest_dir))}" for a in artifacts]
    lines.append(f"  {c}  evals:")
    if not d.evals:
        lines.append(f"  {c}    - path: RESULTS_FILE   # lm-eval results JSON, model card, or task,score CSV")
    for ev, n, why in d.evals:
        tasks = f"{n} task{'s' if n != 1 else ''}"
        lines.append(f"  {c}    # {KIND_LABELS.get(ev.kind, ev.kind)}, {tasks} (placed here: {why})")
        lines.append(f"  {c}    - path: {_scalar(_rel(root, ev.path, manifest_dir))}")
    for old, new in d.superseded:
        lines.append(f"  {c}    # left out: {_rel(root, old, manifest_dir)} (the same tasks as the newer "
                     f"{_rel(root, new, manifest_dir)})")
    return lines


def _fmt_label(w: WeightSet) -> str:
    from .scan import FORMAT_LABELS

    return FORMAT_LABELS.get(w.format, w.format)


def render(drafts: list[Draft], artifacts: dict[str, list[str]], unplaced: list[Finding], root: Path,
           manifest_dir: Path) -> str:
    """The manifest text: gated models, then commented-out blocks for weights without evals, then findings."""
    gated = [d for d in drafts if d.evals]
    waiting = [d for d in drafts if not d.evals]
    out = [HEADER.format(version=__version__).rstrip("\n"), "models:"]
    for d in gated:
        out += _model_lines(d, artifacts[d.weights.name], root, manifest_dir, comment=False)
    if waiting:
        out.append("  # Weights without eval results idm-gate can read: to gate them, uncomment a block and")
        out.append("  # name a results file (see docs/manifest.md).")
        for d in waiting:
            out += _model_lines(d, artifacts[d.weights.name], root, manifest_dir, comment=True)
    if unplaced:
        out.append("")
        out.append("# Found but not placed in this manifest:")
        for f in unplaced:
            out.append(f"#   {_rel(root, f.path, manifest_dir) if ':' not in f.path else f.path}: {f.reason}"
                       .replace("\n", " "))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# the command


def _check_measures(text: str, manifest: Path, shown: str, repo_root: Path) -> None:
    from .manifest import parse_manifest
    from .measure import measure

    measure(parse_manifest(text.encode("utf-8"), manifest.resolve(), shown), repo_root)


def write_atomic(path: Path, text: str) -> None:
    from .paths import write_atomic as write

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write(path, text)
    except OSError as e:
        raise InputError(f"init: cannot write {str(path)!r} ({e.strerror})") from None


def init_manifest(target: Path, manifest: Path, *, force: bool, dry_run: bool, out: TextIO = sys.stdout) -> int:
    """Scan ``target``, write ``manifest`` (see the module docstring); return the exit code."""
    from .measure import repo_root as find_repo_root

    if not target.is_dir():
        raise InputError(f"init: {str(target)!r} is not a folder; give the repository (or a folder in it) to scan")
    shown = os.path.relpath(manifest) if not manifest.is_absolute() else str(manifest)
    if manifest.exists() and not force and not dry_run:
        raise InputError(f"init: {shown} already exists; pass --force to replace it, or --dry-run to print "
                         "what init would write")
    root = target.resolve()
    manifest_dir = manifest.parent.resolve()
    repo_root = find_repo_root(manifest_dir)
    found = scan(root)
    drafts = build_drafts(found, root, manifest_dir, repo_root)

    files = sorted({f for w in found.weights for f in w.files})
    artifacts = {d.weights.name: _artifacts(d.weights, files) for d in drafts}
    # each model on its own: one that does not measure is left out, with the reason
    kept: list[Draft] = []
    for d in drafts:
        if not d.evals:
            kept.append(d)
            continue
        one = render([d], artifacts, [], root, manifest_dir)
        try:
            _check_measures(one, manifest, shown, repo_root)
        except InputError as e:
            reason = str(e).split(": ", 1)[1] if str(e).startswith(shown) else str(e)
            found.unplaced.append(Finding(d.weights.files[0], f"model {d.weights.name} does not measure: {reason}"))
            continue
        kept.append(d)

    # with --dry-run the manifest goes to stdout (init --dry-run > idm.yaml works), the findings to stderr
    _report(sys.stderr if dry_run else out, root, kept, artifacts, found.unplaced, manifest_dir)
    gated = [d for d in kept if d.evals]
    if not found.weights:
        raise InputError(f"init: found no weight files (.safetensors, .gguf, .onnx, .pt/.pth/.bin/.ckpt, Git LFS "
                         f"pointers or .dvc files) under {str(target)!r}; nothing written. Point init at the folder "
                         "that holds the models")
    if not gated:
        raise InputError(f"init: found {len(found.weights)} set(s) of weights but no eval results idm-gate can "
                         f"place on them under {str(target)!r}; nothing written. A model needs an eval results file "
                         "(lm-eval, lighteval or MTEB results, a model card with model-index, or a task,score CSV)")
    text = render(kept, artifacts, found.unplaced, root, manifest_dir)
    _check_measures(text, manifest, shown, repo_root)  # what is written validates and measures
    if dry_run:
        out.write(text)
        return 0
    write_atomic(manifest, text)
    out.write(f"idm-gate: wrote {shown} with {len(gated)} model{'s' if len(gated) != 1 else ''}; "
              f"review it, then run: idm-gate measure{'' if shown == 'idm.yaml' else ' -m ' + shown}\n")
    return 0


def _report(out: TextIO, root: Path, drafts: list[Draft], artifacts: dict[str, list[str]],
            unplaced: list[Finding], manifest_dir: Path) -> None:
    gated = [d for d in drafts if d.evals]
    out.write(f"idm-gate: scanned {root}: {len(drafts)} set{'s' if len(drafts) != 1 else ''} of weights, "
              f"{len(gated)} with eval results\n")
    for d in drafts:
        w = d.weights
        out.write(f"  {w.name}: {_fmt_label(w)}, {', '.join(artifacts[w.name])} ({w.note})\n")
        for ev, n, why in d.evals:
            out.write(f"    + {ev.path} ({KIND_LABELS.get(ev.kind, ev.kind)}, {n} task{'s' if n != 1 else ''}; "
                      f"{why})\n")
        for old, new in d.superseded:
            out.write(f"    - {old} (left out: the same tasks as the newer {new})\n")
        if not d.evals:
            out.write("    no eval results found for it: written commented out\n")
    if unplaced:
        out.write(f"could not place {len(unplaced)} file{'s' if len(unplaced) != 1 else ''}:\n")
        for f in unplaced:
            out.write(f"  {f.path}: {f.reason}\n")


# ---------------------------------------------------------------------------------------------
# --workflow


WORKFLOW = """\
# idm-gate: written by `idm-gate init --workflow` (idm-gate {version}).
# Pull requests and merge-queue groups are checked against the baseline recorded for the commit
# they are based on; every push to {branch} records a new baseline on the idm-baselines branch.
# Pull requests from forks get a read-only token: for those, see the two-stage setup in
# idm-gate's examples/workflows/ (idm-gate-measure.yml + idm-gate-publish.yml).
name: idm-gate

on:
  pull_request:
  merge_group:
  push:
    branches: [{branch_yaml}]

# Nothing by default; each job asks for what it needs.
permissions: {{}}

jobs:
  check:
    if: github.event_name == 'pull_request' || github.event_name == 'merge_group'
    runs-on: ubuntu-latest
    permissions:
      contents: read        # check out the code and read the baseline branch
      pull-requests: write  # the sticky comment
      statuses: write       # the commit status
    # A new push to the pull request makes the running check obsolete.
    concurrency:
      group: idm-gate-check-${{{{ github.event.pull_request.number || github.ref }}}}
      cancel-in-progress: true
    steps:
      # fetch-depth: 0 brings the base commit (whose idm.yaml holds the policy) and the baseline branch.
      - uses: {checkout}
        with:
          fetch-depth: 0
          lfs: false  # weights in Git LFS are sized from their pointer files
      - id: idm
        # idm-gate {version}, the release that wrote this file (or pin its full commit SHA)
        uses: {action}@v{version}
        with:
          mode: check
          manifest: {manifest}

  record:
    if: github.event_name == 'push'
    runs-on: ubuntu-latest
    permissions:
      contents: write  # push the new baseline to the idm-baselines branch
    # One record at a time; a newer push waits instead of cancelling a record half-way.
    concurrency:
      group: idm-gate-record-${{{{ github.ref }}}}
      cancel-in-progress: false
    steps:
      - uses: {checkout}
        with:
          fetch-depth: 0
          lfs: false
      # idm-gate {version}, the release that wrote this file (or pin its full commit SHA)
      - uses: {action}@v{version}
        with:
          mode: record
          manifest: {manifest}
"""


def default_branch(repo_root: Path) -> tuple[str, str]:
    """(branch, where it came from): origin's HEAD, else the branch checked out, else ``main``."""
    from .gitutil import Git

    git = Git(repo_root)
    for args, how in ((("symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"), "origin's HEAD"),
                      (("symbolic-ref", "--quiet", "--short", "HEAD"), "the branch checked out")):
        proc = git.exec(*args)
        name = proc.stdout.decode("utf-8", "replace").strip()
        if proc.returncode == 0 and name:
            return name.removeprefix("origin/"), how
    return "main", "the default"


def render_workflow(manifest_rel: str, branch: str) -> str:
    """The workflow text for ``manifest_rel`` (relative to the repository's top) and ``branch``."""
    return WORKFLOW.format(version=__version__, branch=branch, branch_yaml=_scalar(branch), checkout=CHECKOUT,
                           action=ACTION_REPO, manifest=_scalar(manifest_rel))


def init_workflow(target: Path, manifest: Path | None, *, force: bool, dry_run: bool,
                  out: TextIO = sys.stdout) -> int:
    """Write ``.github/workflows/idm-gate.yml`` at the top of the repository holding ``target``."""
    from .measure import repo_root as find_repo_root

    if not target.is_dir():
        raise InputError(f"init: {str(target)!r} is not a folder; give the repository (or a folder in it)")
    top = find_repo_root(target.resolve())
    manifest = (manifest or target / "idm.yaml").resolve()
    try:
        manifest_rel = manifest.relative_to(top).as_posix()
    except ValueError:
        raise InputError(f"init: the manifest {str(manifest)!r} is outside the repository {str(top)!r}; "
                         "the workflow can only gate a manifest inside it") from None
    path = top / ".github" / "workflows" / "idm-gate.yml"
    shown = os.path.relpath(path)
    if path.exists() and not force and not dry_run:
        raise InputError(f"init: {shown} already exists; pass --force to replace it, or --dry-run to print "
                         "what init would write")
    branch, how = default_branch(top)
    text = render_workflow(manifest_rel, branch)
    if dry_run:
        out.write(text)
        return 0
    write_atomic(path, text)
    out.write(f"idm-gate: wrote {shown}: check on pull requests and merge queues, record on pushes to "
              f"{branch} ({how}), gating {manifest_rel}\n")
    if not manifest.exists():
        out.write(f"idm-gate: note: {manifest_rel} does not exist yet; run idm-gate init to write it\n")
    return 0
