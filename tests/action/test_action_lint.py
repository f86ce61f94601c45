"""The action's shells (action.yml, Dockerfile, .dockerignore) and the example workflows.

Two kinds of check:
- the linters a reviewer would run: check-jsonschema with GitHub's published schemas for action
  metadata and workflows, and hadolint on the Dockerfile;
- what a linter cannot know: that the container runs `idm-gate action` with the inputs the docs
  use, that the base image is pinned by digest, that each example workflow runs the mode it is for
  with the least permissions that mode needs, and that third-party actions are pinned by SHA.

Each check is also run once on a copy broken in tmp_path, to show that it can fail.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dockerfiles import dockerfile_instructions, dockerignore_excludes

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
WORKFLOWS = ROOT / "examples" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))
BIN = Path(sys.executable).parent

MODES = {"auto", "check", "record", "measure", "publish"}
EXPECTED_INPUTS = {
    "manifest": "idm.yaml",
    "github-token": "${{ github.token }}",
    "mode": "auto",
    "baseline-branch": "idm-baselines",
    "baseline-key": "",
    "max-drop": "",
    "warn-drop": "",
    "min-tokens-per-s": "",
    "max-latency-ms": "",
    "max-peak-memory-gb": "",
    "max-energy-per-token-j": "",
    "max-throughput-drop": "",
    "min-group-density": "",
    "frontier-axis": "size",
    "fail-on-regression": "true",
    "comment": "on-change",
    "comment-key": "default",
    "comment-author": "",
    "status-context": "idm-gate",
    "working-directory": ".",
    "report": "",
    "shard": "",
    "measured-report": "",
}
EXPECTED_OUTPUTS = {"verdict", "density", "baseline-density", "delta-pct", "report-path", "comment-url"}
SHA_PIN = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")


# ---------------------------------------------------------------------------------------------
# helpers


def _tool(name: str) -> str:
    """A linter from the venv that runs the tests (the `test` extra installs both), else PATH."""
    candidate = BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found beside {sys.executable} or on PATH; "
                    "install the test extra: pip install -e '.[test]'")
    return found


def _run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120)


def check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess:
    return _run(_tool("check-jsonschema"), "--builtin-schema", schema, path)


def hadolint(path: Path) -> subprocess.CompletedProcess:
    return _run(_tool("hadolint"), "--no-color", "--failure-threshold", "warning", path)


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict) -> dict:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {k: None for k in on}
    return on or {}


def idm_steps(workflow: dict) -> list[tuple[str, dict]]:
    """(job id, step) for every step that uses idm-gate."""
    return [
        (job_id, step)
        for job_id, job in workflow.get("jobs", {}).items()
        for step in job.get("steps", [])
        if str(step.get("uses", "")).startswith("idm-gate/idm-gate@") or step.get("uses") == "./"
    ]


def _copy(src: Path, tmp_path: Path, edit) -> Path:
    dst = tmp_path / src.name
    text = src.read_text(encoding="utf-8")
    changed = edit(text)
    assert changed != text, "the edit meant to break the copy changed nothing"
    dst.write_text(changed, encoding="utf-8")
    return dst


# ---------------------------------------------------------------------------------------------
# linters


def test_action_yml_passes_the_github_actions_schema():
    result = check_jsonschema("vendor.github-actions", ACTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_action_schema_check_catches_a_broken_action(tmp_path):
    broken = _copy(ACTION, tmp_path, lambda t: t.replace("using: docker", "using: dockerish"))
    result = check_jsonschema("vendor.github-actions", broken)
    assert result.returncode != 0, result.stdout


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_example_workflow_passes_the_github_workflows_schema(path):
    result = check_jsonschema("vendor.github-workflows", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_schema_check_catches_a_broken_workflow(tmp_path):
    src = WORKFLOWS / "idm-gate-publish.yml"
    broken = _copy(src, tmp_path, lambda t: t.replace("statuses: write", "statuses: admin"))
    result = check_jsonschema("vendor.github-workflows", broken)
    assert result.returncode != 0, result.stdout


def test_dockerfile_has_no_hadolint_warning():
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_a_dockerfile_without_its_explained_ignores(tmp_path):
    # Every inline ignore is there for a real warning: without it hadolint fails.
    broken = _copy(DOCKERFILE, tmp_path,
                   lambda t: "".join(line for line in t.splitlines(keepends=True)
                                     if "hadolint ignore=" not in line))
    result = hadolint(broken)
    assert result.returncode != 0, result.stdout
    assert "DL3008" in result.stdout


# ---------------------------------------------------------------------------------------------
# action.yml


def action_problems(action: dict) -> list[str]:
    problems = []
    runs = action.get("runs", {})
    if runs.get("using") != "docker" or runs.get("image") != "Dockerfile":
        problems.append(f"runs must be docker with image: Dockerfile, got {runs}")
    # The Dockerfile's ENTRYPOINT already runs `idm-gate action`; args would be appended to it.
    for key in ("args", "entrypoint", "pre-entrypoint", "post-entrypoint"):
        if key in runs:
            problems.append(f"runs.{key} is set; the Dockerfile's ENTRYPOINT is the only command")
    inputs = action.get("inputs", {})
    if set(inputs) != set(EXPECTED_INPUTS):
        problems.append(f"inputs differ: missing {set(EXPECTED_INPUTS) - set(inputs)}, "
                        f"unexpected {set(inputs) - set(EXPECTED_INPUTS)}")
    for name, spec in inputs.items():
        if not str(spec.get("description", "")).strip():
            problems.append(f"input {name} has no description")
        if name in EXPECTED_INPUTS and str(spec.get("default")) != EXPECTED_INPUTS[name]:
            problems.append(f"input {name}: default {spec.get('default')!r}, "
                            f"expected {EXPECTED_INPUTS[name]!r}")
        if spec.get("required"):
            problems.append(f"input {name} is required; every input has a default")
    mode_doc = str(inputs.get("mode", {}).get("description", ""))
    problems += [f"mode description does not name {m}" for m in sorted(MODES) if m not in mode_doc]
    comment_doc = str(inputs.get("comment", {}).get("description", ""))
    problems += [f"comment description does not name {c}" for c in
                 ("always", "on-change", "on-regression", "never") if c not in comment_doc]
    outputs = action.get("outputs", {})
    if set(outputs) != EXPECTED_OUTPUTS:
        problems.append(f"outputs differ: missing {EXPECTED_OUTPUTS - set(outputs)}, "
                        f"unexpected {set(outputs) - EXPECTED_OUTPUTS}")
    problems += [f"output {n} has no description" for n, spec in outputs.items()
                 if not str((spec or {}).get("description", "")).strip()]
    return problems


def test_action_runs_the_dockerfile_with_the_documented_inputs_and_outputs():
    assert action_problems(load_yaml(ACTION)) == []


@pytest.mark.parametrize("edit", [
    lambda a: a["runs"].update(image="docker://python:3.11"),
    lambda a: a["runs"].update(args=["action"]),
    lambda a: a["inputs"].pop("comment-key"),
    lambda a: a["inputs"]["mode"].update(default="check"),
    lambda a: a["outputs"]["verdict"].pop("description"),
], ids=["image", "args", "missing-input", "default", "output-description"])
def test_action_check_catches_a_broken_action(edit):
    action = load_yaml(ACTION)
    edit(action)
    assert action_problems(action)


def documented_action_uses(text: str) -> list[dict]:
    """`with:` blocks and output references of idm-gate steps in a workflow or a Markdown doc."""
    found = []
    blocks = [text]
    if "```" in text:  # Markdown: the YAML code blocks
        blocks = re.findall(r"```ya?ml\n(.*?)```", text, flags=re.S)
    for block in blocks:
        try:
            doc = yaml.safe_load(block)
        except yaml.YAMLError:
            continue
        stack = [doc]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if str(node.get("uses", "")).startswith("idm-gate/idm-gate"):
                    found.append(node.get("with") or {})
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return found


def doc_problems(texts: dict[str, str], action: dict) -> list[str]:
    inputs, outputs = set(action["inputs"]), set(action["outputs"])
    problems = []
    for where, text in texts.items():
        for with_ in documented_action_uses(text):
            problems += [f"{where}: input {k!r} is not in action.yml" for k in with_ if k not in inputs]
            mode = with_.get("mode")
            if mode is not None and mode not in MODES:
                problems.append(f"{where}: mode {mode!r} is not one of {sorted(MODES)}")
        for name in re.findall(r"steps\.[\w-]+\.outputs\.([\w-]+)", text):
            if name not in outputs:
                problems.append(f"{where}: output {name!r} is not in action.yml")
    return problems


def _docs() -> dict[str, str]:
    paths = [*WORKFLOW_FILES, ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
    return {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in paths if p.exists()}


def test_every_input_and_output_the_docs_use_exists():
    docs = _docs()
    assert any(documented_action_uses(t) for t in docs.values()), "no idm-gate step found in the docs"
    assert doc_problems(docs, load_yaml(ACTION)) == []


def test_docs_check_catches_an_unknown_input_and_output():
    doc = ("```yaml\n- id: idm\n  uses: idm-gate/idm-gate@v0\n  with:\n    max_drop: 5%\n"
           "    mode: gate\n```\nUse `${{ steps.idm.outputs.density-delta }}`.\n")
    problems = doc_problems({"README.md": doc}, load_yaml(ACTION))
    assert len(problems) == 3, problems


# ---------------------------------------------------------------------------------------------
# Dockerfile and .dockerignore


def dockerfile_problems(text: str) -> list[str]:
    problems = []
    ins = dockerfile_instructions(text)
    froms = [a for k, a in ins if k == "FROM"]
    if not froms or not all(re.search(r"^python:3\.11[\w.-]*-slim[\w.-]*@sha256:[0-9a-f]{64}\b", f)
                            for f in froms):
        problems.append(f"FROM must be an official python slim image pinned by @sha256: {froms}")
    entry = [a for k, a in ins if k == "ENTRYPOINT"]
    try:
        argv = json.loads(entry[-1]) if entry else None
    except json.JSONDecodeError:
        argv = None  # shell form
    if not (isinstance(argv, list) and len(argv) == 2 and Path(argv[0]).name == "idm-gate"
            and argv[1] == "action"):
        problems.append(f"ENTRYPOINT must be the exec form of `idm-gate action`, got {entry}")
    if any(k == "CMD" for k, _ in ins):
        problems.append("CMD would be appended to the ENTRYPOINT as arguments")
    if any(k == "USER" for k, _ in ins):
        problems.append("USER: container actions run as root (GitHub's Dockerfile guidance)")
    runs = " ".join(a for k, a in ins if k == "RUN")
    if "--no-install-recommends" not in runs or "rm -rf /var/lib/apt/lists/*" not in runs:
        problems.append("apt-get without --no-install-recommends or without cleaning its lists")
    if not re.search(r"pip install --no-cache-dir \S+", runs):
        problems.append("the package is not installed with pip install --no-cache-dir")
    copied = " ".join(a for k, a in ins if k == "COPY")
    problems += [f"{src} is not copied into the image" for src in
                 ("pyproject.toml", "README.md", "idm_gate/") if src not in copied]
    # Every inline ignore carries its reason in the comment block right above it.
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "hadolint ignore=" in line and (i == 0 or not lines[i - 1].lstrip().startswith("#")):
            problems.append(f"line {i + 1}: `{line.strip()}` has no comment explaining it")
    return problems


def test_dockerfile_pins_the_base_by_digest_and_runs_idm_gate_action():
    assert dockerfile_problems(DOCKERFILE.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("old,new", [
    (r"@sha256:[0-9a-f]{64}", ""),
    (r'ENTRYPOINT \["idm-gate", "action"\]', "ENTRYPOINT idm-gate action"),
    (r'ENTRYPOINT \["idm-gate", "action"\]', 'ENTRYPOINT ["idm-gate"]'),
    (r"\nENTRYPOINT", "\nUSER nobody\nENTRYPOINT"),
    (r"(?m)^#.*\n(?=# hadolint ignore=)", "\n"),
], ids=["no-digest", "shell-form", "no-action", "user", "unexplained-ignore"])
def test_dockerfile_check_catches_a_broken_dockerfile(old, new):
    text = DOCKERFILE.read_text(encoding="utf-8")
    broken = re.sub(old, new, text)
    assert broken != text
    assert dockerfile_problems(broken)


def dockerignore_problems(text: str) -> list[str]:
    patterns = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    problems = [f"{p} is needed by the image but excluded" for p in
                ("pyproject.toml", "README.md", "idm_gate/__init__.py", "idm_gate/cli.py")
                if dockerignore_excludes(patterns, p)]
    problems += [f"{p} should stay out of the build context" for p in
                 (".git/config", ".venv/bin/python", "examples/model-repo/idm.yaml",
                  "tests/action/test_action_lint.py", "idm_gate/__pycache__/cli.cpython-311.pyc")
                 if not dockerignore_excludes(patterns, p)]
    return problems


def test_dockerignore_sends_only_what_the_image_copies():
    assert dockerignore_problems(DOCKERIGNORE.read_text(encoding="utf-8")) == []


def test_dockerignore_check_catches_a_missing_source():
    text = DOCKERIGNORE.read_text(encoding="utf-8")
    assert dockerignore_problems(text.replace("!README.md\n", ""))
    assert dockerignore_problems(text.replace("*\n", "", 1))


# ---------------------------------------------------------------------------------------------
# example workflows


def _job_permissions(workflow: dict, job: dict) -> dict | None:
    perms = job.get("permissions", workflow.get("permissions"))
    return perms if isinstance(perms, dict) else None


def workflow_problems(name: str, workflow: dict, text: str) -> list[str]:
    problems = []
    on = triggers(workflow)
    jobs = workflow.get("jobs", {})
    steps = idm_steps(workflow)
    modes = {job_id: step.get("with", {}).get("mode", "auto") for job_id, step in steps}

    if "permissions" not in workflow:
        problems.append("no top-level permissions block (the default token may be read-write)")
    for job_id, job in jobs.items():
        if _job_permissions(workflow, job) is None:
            problems.append(f"job {job_id}: no permissions")

    def perms(job_id: str) -> dict:
        return _job_permissions(workflow, jobs[job_id]) or {}

    writes = {job_id: {k for k, v in perms(job_id).items() if v == "write"} for job_id in jobs}

    if name == "idm-gate.yml":
        # merge_group: a merge queue's group must get the status the queue waits for
        if set(on) != {"pull_request", "merge_group", "push"} or on["push"].get("branches") != ["main"]:
            problems.append(f"triggers must be pull_request, merge_group and push to main, got {on}")
        if set(modes.values()) != {"check", "record"}:
            problems.append(f"modes must be check and record, got {modes}")
        for job_id, mode in modes.items():
            cond = str(jobs[job_id].get("if", ""))
            want = {"check": ("pull_request", {"pull-requests", "statuses"}),
                    "record": ("push", {"contents"})}.get(mode)
            if want is None:
                continue
            event, write_set = want
            if event not in cond:
                problems.append(f"job {job_id} ({mode}) does not run only on {event}: if={cond!r}")
            if mode == "check" and "merge_group" not in cond:
                problems.append(f"job {job_id} ({mode}) skips merge queue groups: if={cond!r}")
            if writes[job_id] != write_set:
                problems.append(f"job {job_id} ({mode}) writes {sorted(writes[job_id])}, "
                                f"should write exactly {sorted(write_set)}")
            if mode == "record" and "concurrency" not in jobs[job_id]:
                problems.append(f"job {job_id}: two records can run at once (no concurrency)")
    elif name == "idm-gate-measure.yml":
        if set(on) != {"pull_request"}:
            problems.append(f"measure must run on pull_request only, got {set(on)}")
        if set(modes.values()) != {"measure"}:
            problems.append(f"modes must be measure, got {modes}")
        for job_id in jobs:
            if perms(job_id) != {"contents": "read"}:
                problems.append(f"job {job_id}: permissions {perms(job_id)}, expected contents: read")
        if "actions/upload-artifact@" not in text:
            problems.append("the report is not uploaded with actions/upload-artifact")
    elif name == "idm-gate-publish.yml":
        run = on.get("workflow_run") or {}
        if set(on) != {"workflow_run"} or run.get("types") != ["completed"] \
                or "idm-gate measure" not in run.get("workflows", []):
            problems.append(f"publish must run on workflow_run of 'idm-gate measure' completed: {on}")
        if set(modes.values()) != {"publish"}:
            problems.append(f"modes must be publish, got {modes}")
        want = {"pull-requests": "write", "statuses": "write", "actions": "read", "contents": "read"}
        for job_id in jobs:
            if perms(job_id) != want:
                problems.append(f"job {job_id}: permissions {perms(job_id)}, expected {want}")
        for job_id, job in jobs.items():
            for step in job.get("steps", []):
                uses = str(step.get("uses", ""))
                with_ = step.get("with", {}) or {}
                if uses.startswith("actions/checkout@"):
                    ref = str(with_.get("ref", "")) + str(with_.get("repository", ""))
                    if "head" in ref or "pull_request" in ref:
                        problems.append(f"job {job_id} checks out the pull request's code: {ref}")
                    if with_.get("persist-credentials") is False:
                        problems.append(f"job {job_id}: persist-credentials: false, so fetching the baseline "
                                        "branch fails on a private repository")
                if uses.startswith("actions/download-artifact@") and not (
                        "run-id" in with_ and "github-token" in with_):
                    problems.append("download-artifact needs run-id and github-token "
                                    "to read another run's artifact")
        if "actions/download-artifact@" not in text:
            problems.append("the report is not downloaded with actions/download-artifact")
    elif name == "idm-gate-sharded.yml":
        if set(on) != {"pull_request", "merge_group", "push"} or on["push"].get("branches") != ["main"]:
            problems.append(f"triggers must be pull_request, merge_group and push to main, got {on}")
        if sorted(modes.values()) != ["auto", "measure"]:
            problems.append(f"modes must be measure (the matrix) and auto (the gate), got {modes}")
        for job_id, step in steps:
            with_ = step.get("with", {}) or {}
            job = jobs[job_id]
            if with_.get("mode") == "measure":
                shards = (job.get("strategy") or {}).get("matrix", {}).get("shard")
                if not isinstance(shards, list) or shards != list(range(1, len(shards) + 1)):
                    problems.append(f"job {job_id}: matrix shard must be 1..N, got {shards}")
                elif str(with_.get("shard")) != f"${{{{ matrix.shard }}}}/{len(shards)}":
                    problems.append(f"job {job_id}: shard must be ${{{{ matrix.shard }}}}/{len(shards)}, "
                                    f"got {with_.get('shard')!r}")
                if perms(job_id) != {"contents": "read"}:
                    problems.append(f"job {job_id}: permissions {perms(job_id)}, expected contents: read")
                if not any(str(s.get("uses", "")).startswith("actions/upload-artifact@") for s in job["steps"]):
                    problems.append(f"job {job_id}: the part is not uploaded")
            else:
                needs = job.get("needs")
                measure_jobs = [j for j, st in steps if (st.get("with") or {}).get("mode") == "measure"]
                if needs not in (measure_jobs[0] if measure_jobs else None, measure_jobs):
                    problems.append(f"job {job_id}: must need the measure job, got needs={needs!r}")
                if not with_.get("measured-report"):
                    problems.append(f"job {job_id}: gates without measured-report (it would measure again)")
                if writes[job_id] != {"contents", "pull-requests", "statuses"}:
                    problems.append(f"job {job_id} writes {sorted(writes[job_id])}, should write contents (record), "
                                    "pull-requests and statuses (check)")
                downloads = [s.get("with") or {} for s in job["steps"]
                             if str(s.get("uses", "")).startswith("actions/download-artifact@")]
                if not downloads or downloads[0].get("merge-multiple") is not True or not downloads[0].get("pattern"):
                    problems.append(f"job {job_id}: download every part into one folder (pattern, merge-multiple: true)")
    else:
        problems.append(f"unknown example workflow {name}; add its expectations to this test")

    # upload-artifact 4.4+ leaves out hidden files, a dot folder's included (actions/upload-artifact#602):
    # the report in .idm-gate/ (or the report-path output, which names it there) needs include-hidden-files
    for job_id, job in jobs.items():
        for step in job.get("steps", []):
            with_ = step.get("with", {}) or {}
            if str(step.get("uses", "")).startswith("actions/upload-artifact@"):
                path = str(with_.get("path", ""))
                hidden = "report-path" in path or any(part.startswith(".") for part in path.split("/"))
                if hidden and with_.get("include-hidden-files") is not True:
                    problems.append(f"job {job_id}: upload-artifact skips {path} (a dot folder) without "
                                    "include-hidden-files: true")

    # Third-party actions by full commit SHA with the version in a comment; idm-gate itself by a
    # tag the user is told to replace with a SHA.
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"\s*(?:-\s+)?uses:\s*(\S+)(.*)", line)
        if not m:
            continue
        ref, rest = m.groups()
        if ref.startswith("idm-gate/idm-gate@"):
            if "SHA" not in rest and (i == 0 or "SHA" not in lines[i - 1]):
                problems.append(f"line {i + 1}: {ref}: say (beside it) to pin it by commit SHA")
        elif not SHA_PIN.match(ref) or not re.search(r"#\s*v\d", rest):
            problems.append(f"{ref}: pin by a 40-hex commit SHA with `# vX.Y.Z` after it")
    return problems


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_example_workflow_runs_its_mode_with_least_permissions(path):
    text = path.read_text(encoding="utf-8")
    assert workflow_problems(path.name, yaml.safe_load(text), text) == []


def test_the_four_example_workflows_are_there():
    assert {p.name for p in WORKFLOW_FILES} == {
        "idm-gate.yml", "idm-gate-measure.yml", "idm-gate-publish.yml", "idm-gate-sharded.yml"}


@pytest.mark.parametrize("name,old,new", [
    ("idm-gate.yml", "contents: write", "contents: read"),
    ("idm-gate.yml", "mode: record", "mode: check"),
    ("idm-gate.yml", "    concurrency:\n      group: idm-gate-record-${{ github.ref }}\n"
     "      cancel-in-progress: false\n", ""),
    ("idm-gate.yml", "  # pin to a full commit SHA\n", "\n"),
    ("idm-gate.yml", "  merge_group:\n", ""),
    ("idm-gate.yml", " || github.event_name == 'merge_group'", ""),
    ("idm-gate-measure.yml", "contents: read", "contents: write"),
    ("idm-gate-measure.yml", "mode: measure", "mode: check"),
    ("idm-gate-publish.yml", "ref: ${{ github.event.repository.default_branch }}",
     "ref: ${{ github.event.workflow_run.head_sha }}"),
    ("idm-gate-publish.yml", "          fetch-depth: 0\n          lfs: false",
     "          fetch-depth: 0\n          persist-credentials: false\n          lfs: false"),
    ("idm-gate-publish.yml", "actions: read", "actions: write"),
    ("idm-gate-publish.yml", "          run-id: ${{ github.event.workflow_run.id }}\n", ""),
    ("idm-gate-publish.yml", "@d3f86a106a0bac45b974a628896c90dbdf5c8093", "@v4"),
    ("idm-gate-sharded.yml", "    needs: measure\n", ""),
    ("idm-gate-sharded.yml", "          merge-multiple: true\n", ""),
    ("idm-gate-sharded.yml", "shard: ${{ matrix.shard }}/4", "shard: ${{ matrix.shard }}/3"),
    ("idm-gate-sharded.yml", "          measured-report: .idm-gate/parts/part-*.json\n", ""),
    ("idm-gate-sharded.yml", "  merge_group:\n", ""),
    ("idm-gate-measure.yml", "          include-hidden-files: true\n", ""),
    ("idm-gate-sharded.yml", "include-hidden-files: true  #", "include-hidden-files: false  #"),
    ("idm-gate-sharded.yml", "    permissions:\n      contents: read\n", "    permissions:\n      contents: write\n"),
], ids=["record-cannot-push", "no-record", "record-races", "no-pin-advice", "no-merge-queue", "check-skips-groups",
        "measure-writes",
        "measure-mode",
        "publish-checks-out-head", "publish-no-credentials", "publish-actions-write", "no-run-id", "tag-pin",
        "sharded-gate-before-parts", "sharded-parts-in-folders", "sharded-wrong-count", "sharded-measures-again",
        "sharded-no-merge-queue", "measure-upload-skips-dot-folder", "sharded-upload-skips-dot-folder",
        "sharded-measure-writes"])
def test_workflow_check_catches_a_broken_workflow(name, old, new):
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    assert old in text
    broken = text.replace(old, new)
    assert workflow_problems(name, yaml.safe_load(broken), broken)
