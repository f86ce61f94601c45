"""Our own CI, action self-test, release and Dependabot configuration (.github/).

Each file is validated against SchemaStore's schema (check-jsonschema's vendored copies) and then
checked for what a schema cannot know: CI runs the README's test command on every supported Python,
the self-test runs this commit's action on the bundled example in check and record modes, the release
publishes with trusted publishing and pushes the image the README tells action users about.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GH = ROOT / ".github"
WORKFLOWS = sorted((GH / "workflows").glob("*.yml"))
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "check-jsonschema"
    tool = str(exe) if exe.exists() else shutil.which("check-jsonschema")
    assert tool, "check-jsonschema is not installed; pip install -e '.[test]'"
    return subprocess.run([tool, "--builtin-schema", schema, str(path)], capture_output=True, text=True,
                          timeout=120)


def load(name: str) -> dict:
    return yaml.safe_load((GH / "workflows" / name).read_text())


def on(wf: dict) -> dict:
    return wf.get("on", wf.get(True)) or {}  # YAML 1.1 reads the key `on` as true


def steps(wf: dict, job: str) -> list[dict]:
    return wf["jobs"][job]["steps"]


def test_the_workflows_are_there():
    assert {p.name for p in WORKFLOWS} == {"ci.yml", "action-selftest.yml", "release.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_schemastore(path):
    r = check_jsonschema("vendor.github-workflows", path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_dependabot_passes_schemastore_and_covers_actions_pip_and_docker():
    r = check_jsonschema("vendor.dependabot", GH / "dependabot.yml")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = yaml.safe_load((GH / "dependabot.yml").read_text())
    assert {(u["package-ecosystem"], u["directory"]) for u in doc["updates"]} == {
        ("github-actions", "/"), ("pip", "/"), ("docker", "/")}


def test_the_schema_checks_can_fail(tmp_path):
    bad = tmp_path / "ci.yml"
    bad.write_text((GH / "workflows" / "ci.yml").read_text().replace("runs-on:", "runs_on:"))
    assert check_jsonschema("vendor.github-workflows", bad).returncode != 0
    bad = tmp_path / "dependabot.yml"
    bad.write_text((GH / "dependabot.yml").read_text().replace("interval: weekly", "interval: hourly", 1))
    assert check_jsonschema("vendor.dependabot", bad).returncode != 0


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_sha_with_its_version(path):
    for line in path.read_text().splitlines():
        m = re.match(r"\s*(?:-\s+)?uses:\s*(\S+)(.*)", line)
        if not m or m.group(1) == "./":
            continue
        assert SHA_PIN.match(m.group(1)), line
        assert re.search(r"#\s*v\d+\.\d+", m.group(2)), f"no '# vX.Y' after the SHA: {line}"


def test_ci_runs_the_readmes_test_command_on_python_3_11_to_3_13():
    readme = (ROOT / "README.md").read_text()
    lines = [ln for block in re.findall(r"```sh\n(.*?)```", readme, re.S) for ln in block.splitlines()]
    test_cmd = next(ln.split("#")[0].strip() for ln in lines if ln.startswith("make test"))
    assert test_cmd == "make test"
    wf = load("ci.yml")
    assert set(on(wf)) == {"push", "pull_request"}
    assert wf["permissions"] == {"contents": "read"}
    job = wf["jobs"]["test"]
    assert job["strategy"]["matrix"]["python-version"] == ["3.11", "3.12", "3.13"]
    runs = [s.get("run", "") for s in job["steps"]]
    assert any(r.startswith(test_cmd) for r in runs), runs
    setup = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["python-version"] == "${{ matrix.python-version }}"


def test_ci_and_the_ci_entry_point_run_make_lint():
    lint = load("ci.yml")["jobs"]["lint"]
    assert [s["run"] for s in lint["steps"] if "run" in s] == ["make lint PYTHON=python"]
    commands = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines() if ln.startswith("make ")]
    assert commands == ["make lint", "make test"]
    assert re.search(r"(?m)^lint: .*\n\t\$\(PY\) -m ruff check .*\n\t\$\(PY\) -m mypy$", (ROOT / "Makefile").read_text())


def test_the_self_test_runs_this_commits_action_on_the_example_in_check_and_record_modes():
    wf = load("action-selftest.yml")
    assert set(on(wf)) == {"push", "pull_request"}
    assert wf["permissions"] == {}
    modes = {}
    for job_id, job in wf["jobs"].items():
        for s in job["steps"]:
            if s.get("uses") == "./":
                modes[s["with"]["mode"]] = (job_id, s["with"])
    assert set(modes) == {"measure", "check", "record"}
    for _job_id, with_ in modes.values():
        folder = ROOT / with_["working-directory"]
        assert (folder / with_.get("manifest", "idm.yaml")).is_file(), folder
    jobs = wf["jobs"]
    assert jobs[modes["record"][0]]["if"] == "github.event_name == 'push'"
    assert jobs[modes["record"][0]]["permissions"] == {"contents": "write"}
    assert jobs[modes["check"][0]]["if"] == "github.event_name == 'pull_request'"
    # record and check use the same baseline branch, and not the one a user's workflow would
    assert modes["record"][1]["baseline-branch"] == modes["check"][1]["baseline-branch"] != "idm-baselines"


def test_release_publishes_with_trusted_publishing_and_pushes_the_image():
    wf = load("release.yml")
    assert on(wf) == {"push": {"tags": ["v*"]}}
    assert wf["permissions"] == {}
    jobs = wf["jobs"]
    pypi = jobs["pypi"]
    assert pypi["permissions"] == {"id-token": "write"}  # nothing else: no stored token, no write access
    assert pypi["environment"]["name"] == "pypi"
    assert any(s.get("uses", "").startswith("pypa/gh-action-pypi-publish@") for s in pypi["steps"])
    assert not any("password" in (s.get("with") or {}) for s in pypi["steps"])
    image = jobs["image"]
    assert image["permissions"] == {"contents": "read", "packages": "write"}
    login = next(s for s in image["steps"] if s.get("uses", "").startswith("docker/login-action@"))
    assert login["with"]["registry"] == "ghcr.io"
    meta = next(s for s in image["steps"] if s.get("uses", "").startswith("docker/metadata-action@"))
    assert meta["with"]["images"] == "ghcr.io/${{ github.repository_owner }}/idm-gate"
    assert "pattern=v{{version}}" in meta["with"]["tags"]
    push = next(s for s in image["steps"] if s.get("uses", "").startswith("docker/build-push-action@"))
    assert push["with"]["push"] is True and push["with"]["context"] == "."
    # the tag must be the package version, so `pip install idm-gate==X` and the image vX agree
    build = " ".join(s.get("run", "") for s in jobs["build"]["steps"])
    assert 'test "$TAG" = "v$version"' in build


def test_readme_shows_how_to_pick_the_prebuilt_image_or_the_dockerfile_build():
    readme = (ROOT / "README.md").read_text()
    uses = re.findall(r"uses: (\S+)", readme)
    assert any(u.startswith("docker://ghcr.io/idm-gate/idm-gate:v") for u in uses), uses
    assert any(re.fullmatch(r"idm-gate/idm-gate@v\d+\.\d+\.\d+", u) for u in uses), uses
