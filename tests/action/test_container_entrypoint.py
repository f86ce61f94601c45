"""The container action without a Docker engine: the image as the Dockerfile builds it, run as GitHub runs it.

The Dockerfile is read, not restated here: its ``COPY`` lines decide which files (after .dockerignore)
go into a temp folder standing for the image's ``/``, its ``ENV`` lines become the environment, each
``RUN`` that installs with pip runs as written (``/bin/sh -c``, image paths mapped into that folder)
with the ``pip`` of a fresh virtualenv first on ``PATH``, and its exec-form ``ENTRYPOINT`` is what the
action runs. So a file the package needs but no ``COPY`` brings fails here as it would fail
``docker build`` or the action: a module or the schema JSON (package data) the entrypoint loads, or
README.md, pyproject's ``readme`` (setuptools only warns about a missing one, so the installed
metadata is checked for it).

Not reproduced: ``FROM`` (the host's Python 3.11 stands for the image's) and the ``RUN`` that installs
git with apt (the host's git is used). ``--no-cache-dir`` is kept: with this machine's pip config the
install takes a few seconds, and a cache would hide nothing from it anyway.

The image is built once per test session, shared by xdist workers under a file lock.
"""

from __future__ import annotations

import email
import fcntl
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from actionrunner import OWNER, PR, REPO, TOKEN, pr_payload, read_outputs, regress
from dockerfiles import dockerfile_instructions, dockerignore_excludes
from gatecase import BASE, GATE, manifest
from gitrepo import make_repo

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ACTION = ROOT / "action.yml"
# Whatever the image's PATH, only the venv's scripts and the system's git, sh and friends are found.
SYSTEM_PATH = "/usr/bin:/bin"
# Variables that would let the dev environment leak into the fresh venv's build or runs.
LEAKS = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONSAFEPATH",
         "PIP_USER", "PIP_PREFIX", "PIP_TARGET", "PIP_ROOT", "PIP_EDITABLE", "__PYVENV_LAUNCHER__")


@dataclass(frozen=True)
class Image:
    root: Path             # stands for the image's "/"
    bin: Path              # the fresh venv's scripts
    env: dict              # the Dockerfile's ENV
    entrypoint: list       # ENTRYPOINT, argv[0] resolved to its absolute path in the venv
    copied: list           # files the COPY lines put in, relative to root

    def path(self) -> str:
        return f"{self.bin}:{SYSTEM_PATH}"


# ---------------------------------------------------------------------------------------------
# building the image from the Dockerfile


def _ignore_patterns() -> list[str]:
    if not DOCKERIGNORE.exists():
        return []
    return [ln.strip() for ln in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
            if ln.strip() and not ln.lstrip().startswith("#")]


def _copy(args: str, root: Path, workdir: str, patterns: list[str]) -> list[str]:
    """One COPY: sources from the build context (the repository, minus .dockerignore) into root."""
    parts = json.loads(args) if args.startswith("[") else shlex.split(args)
    parts = [p for p in parts if not p.startswith("--")]  # --chown, --chmod, --link: no effect here
    *sources, dest = parts
    assert sources, f"COPY {args}: no source"
    target = root / (dest if dest.startswith("/") else f"{workdir}/{dest}").lstrip("/")
    into_dir = dest.endswith("/") or len(sources) > 1
    copied = []
    for src in sources:
        matches = sorted(ROOT.glob(src.rstrip("/"))) if any(c in src for c in "*?[") else [ROOT / src.rstrip("/")]
        pairs = []
        for m in (m for m in matches if m.exists()):
            if m.is_dir():  # the folder's contents, not the folder, as Docker does
                pairs += [(f, target / f.relative_to(m)) for f in sorted(m.rglob("*"))
                          if f.is_file() and not dockerignore_excludes(patterns, f.relative_to(ROOT).as_posix())]
            elif not dockerignore_excludes(patterns, m.relative_to(ROOT).as_posix()):
                pairs.append((m, target / m.name if into_dir or len(matches) > 1 else target))
        # docker build fails the same way: "failed to compute cache key: ... not found"
        assert pairs, f"COPY {src}: not in the build context (missing, or excluded by .dockerignore)"
        for s, t in pairs:
            t.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(s, t)
            copied.append(t.relative_to(root).as_posix())
    return copied


def _in_image(command: str, root: Path) -> str:
    """Absolute paths into the image's filesystem (/opt/...) mapped under root; /dev/null and the like kept."""
    def repl(m: re.Match) -> str:
        path = m.group(2)
        return m.group(1) + (str(root) + path if (root / path.lstrip("/").split("/")[0]).exists() else path)
    return re.sub(r"(^|[\s=])(/[^\s;&|<>'\"]+)", repl, command)


def _build_env(image_env: dict, bin_dir: Path) -> dict:
    # The host's pip configuration (index, find-links, certificates) stays: it is this machine's network.
    env = {k: v for k, v in os.environ.items() if k not in LEAKS}
    return {**env, **image_env, "PATH": f"{bin_dir}:{SYSTEM_PATH}"}


def build_image(text: str, root: Path) -> tuple[Image, str]:
    """Reproduce the Dockerfile in root; return the image and the install's log."""
    root.mkdir(parents=True)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
    cfg = (venv / "pyvenv.cfg").read_text()
    assert re.search(r"include-system-site-packages\s*=\s*false", cfg), cfg
    bin_dir = venv / "bin"
    env, workdir, copied, entrypoint, installs, log = {}, "/", [], None, 0, []
    patterns = _ignore_patterns()
    for keyword, args in dockerfile_instructions(text):
        if keyword == "ENV":
            words = shlex.split(args)
            if words and "=" not in words[0]:  # the legacy `ENV KEY value` form
                words = [f"{words[0]}={' '.join(words[1:])}"]
            env.update(w.split("=", 1) for w in words)
        elif keyword == "WORKDIR":
            workdir = args if args.startswith("/") else f"{workdir.rstrip('/')}/{args}"
            (root / workdir.lstrip("/")).mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            copied += _copy(args, root, workdir, patterns)
        elif keyword == "ADD":
            raise AssertionError(f"ADD {args}: not reproduced by this test; use COPY or teach it ADD")
        elif keyword == "RUN" and re.search(r"\bpip3?\s+install\b", args):
            assert not args.startswith("["), f"RUN {args}: exec form is not reproduced; use the shell form"
            benv = _build_env(env, bin_dir)
            assert shutil.which("pip", path=benv["PATH"]) == str(bin_dir / "pip")
            command = _in_image(args, root)
            p = subprocess.run(["/bin/sh", "-c", command], cwd=root / workdir.lstrip("/"), env=benv,
                               capture_output=True, text=True, timeout=600)
            log.append(f"$ {command}\n{p.stdout}{p.stderr}")
            assert p.returncode == 0, f"RUN {args} failed in the image:\n{log[-1]}"
            installs += 1
        elif keyword == "ENTRYPOINT":
            entrypoint = json.loads(args) if args.startswith("[") else None
            assert entrypoint, f"ENTRYPOINT {args}: only the exec form (a JSON list) is reproduced"
    assert installs, "no `RUN pip install ...` in the Dockerfile: nothing installs idm-gate"
    assert entrypoint, "no ENTRYPOINT in the Dockerfile"
    exe = shutil.which(entrypoint[0], path=f"{bin_dir}:{SYSTEM_PATH}")
    assert exe and Path(exe).parent == bin_dir, f"ENTRYPOINT {entrypoint[0]}: not installed in the venv ({exe})"
    return Image(root, bin_dir, env, [exe, *entrypoint[1:]], copied), "\n".join(log)



def _source_dir(copied: list[str]) -> Path:
    """Where the COPY lines put the package's source: the folder of its pyproject.toml."""
    return Path(next(c for c in copied if Path(c).name == "pyproject.toml")).parent


def _installed_metadata(site_packages: Path) -> str:
    (dist,) = site_packages.glob("idm_gate-*.dist-info")
    return (dist / "METADATA").read_text(encoding="utf-8")


def description_problem(metadata: str, readme: Path) -> str | None:
    """None when the package's long description is the README pyproject names, else what is wrong."""
    body = email.message_from_string(metadata).get_payload() or ""
    if not body.strip():
        return "the package has no description: README.md (pyproject's readme) was not there when it was built"
    if readme.exists() and body.strip() != readme.read_text(encoding="utf-8").strip():
        return "the package's description is not README.md"
    return None


@pytest.fixture(scope="session")
def image(tmp_path_factory) -> Image:
    """Built once per session; xdist workers share one build (the parent of their basetemps) under a lock."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root, done = shared / "container-image", shared / "container-image.json"
    with open(shared / "container-image.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            if root.exists():
                shutil.rmtree(root)  # what a failed build left
            img, _ = build_image(DOCKERFILE.read_text(encoding="utf-8"), root)
            done.write_text(json.dumps({"root": str(img.root), "bin": str(img.bin), "env": img.env,
                                        "entrypoint": img.entrypoint, "copied": img.copied}))
        d = json.loads(done.read_text())
    return Image(Path(d["root"]), Path(d["bin"]), d["env"], d["entrypoint"], d["copied"])


def minimal_env(image: Image, home: Path, **extra: str) -> dict:
    """What a container sees: the image's ENV, its PATH (the venv's bin, then the system's) and HOME."""
    return {**image.env, "PATH": image.path(), "HOME": str(home), **extra}


# ---------------------------------------------------------------------------------------------
# the image


def test_image_installs_from_the_copied_files_only_and_carries_its_package_data(image, tmp_path):
    # Only what the COPY lines name (minus .dockerignore) was there when pip ran.
    srcdir = _source_dir(image.copied)
    sources = {Path(c).relative_to(srcdir).as_posix() for c in image.copied if Path(c).is_relative_to(srcdir)}
    assert "pyproject.toml" in sources and "idm_gate/cli.py" in sources
    assert not any(s.startswith(("tests/", "examples/", ".git/", "idm_gate.egg-info/")) or "__pycache__" in s
                   for s in sources), sorted(sources)

    env = minimal_env(image, tmp_path)
    # The venv's own idm_gate, not the editable one the tests run on, and nothing of the repository on sys.path.
    p = subprocess.run([str(image.bin / "python"), "-c",
                        "import idm_gate, json, sys; print(json.dumps([idm_gate.__file__, sys.path]))"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    module, path = json.loads(p.stdout)
    assert Path(module).is_relative_to(image.root / "venv"), module
    assert not [e for e in path if e and Path(e).resolve().is_relative_to(ROOT)], path

    # Package data: every schema of the repository is in the installed package, and `idm-gate schema`
    # (the command users run to get the manifest's schema) prints it.
    src, pkg = image.root / srcdir, Path(module).parent
    schemas = sorted((ROOT / "idm_gate" / "schemas").glob("*.json"))
    missing = [s.name for s in schemas if not (pkg / "schemas" / s.name).is_file()]
    assert not missing, f"not in the installed package: {missing}"
    p = subprocess.run([image.entrypoint[0], "schema"], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == json.loads((ROOT / "idm_gate/schemas/manifest.schema.json").read_text())

    # pyproject's `readme`: setuptools only warns when README.md is missing and ships an empty description,
    # so the installed metadata is where a forgotten COPY shows.
    assert description_problem(_installed_metadata(pkg.parent), src / "README.md") is None


def test_a_dockerfile_that_forgets_readme_fails_the_metadata_check(image, tmp_path):
    """The check above on an image whose COPY lines lost README.md: the wheel builds (setuptools only
    warns) but without its description, and the check says so. Only the COPY step and a wheel build
    (``pip wheel --no-deps``) run, so this costs seconds."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    broken = re.sub(r"(?m)^(COPY .*?)\s+README\.md\b", r"\1", text)
    assert broken != text, "the Dockerfile no longer copies README.md by name; update this test"
    root = tmp_path / "image"
    root.mkdir()
    copied = []
    for keyword, args in dockerfile_instructions(broken):
        if keyword == "COPY":
            copied += _copy(args, root, "/", _ignore_patterns())
    src = root / _source_dir(copied)
    assert not (src / "README.md").exists()
    wheels = tmp_path / "wheels"
    p = subprocess.run([str(image.bin / "pip"), "wheel", "--no-deps", "--no-cache-dir", "-w", str(wheels), str(src)],
                       cwd=tmp_path, env=_build_env(image.env, image.bin), capture_output=True, text=True,
                       timeout=300)
    if p.returncode == 0:  # today's setuptools: a warning and an empty description
        (wheel,) = wheels.glob("*.whl")
        with zipfile.ZipFile(wheel) as z:
            meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        assert description_problem(meta, ROOT / "README.md")
    else:  # a setuptools that refuses a missing readme
        assert "README.md" in p.stdout + p.stderr, p.stdout + p.stderr


# ---------------------------------------------------------------------------------------------
# the entrypoint, run as GitHub runs a container action


def action_inputs(token: str) -> dict:
    """INPUT_* for every input in action.yml with its default, as the runner passes them (hyphens kept)."""
    out = {}
    for name, spec in yaml.safe_load(ACTION.read_text(encoding="utf-8"))["inputs"].items():
        value = (spec or {}).get("default", "")
        value = {True: "true", False: "false"}.get(value, value) if isinstance(value, bool) else str(value)
        if re.fullmatch(r"\$\{\{\s*github\.token\s*\}\}", value):
            value = token
        assert "${{" not in value, f"input {name}: default {value!r} is an expression this test cannot evaluate"
        out[f"INPUT_{name.replace(' ', '_').upper()}"] = value
    return out


class ContainerRunner:
    """`docker run` as the runner does it: --workdir /github/workspace, HOME=/github/home, the event file,
    the file commands, GITHUB_* and every INPUT_*, and nothing else from the host."""

    def __init__(self, image: Image, repo, gh, tmp: Path):
        self.image, self.repo, self.gh = image, repo, gh
        self.home = tmp / "github-home"
        self.files = tmp / "github-files"
        for d in (self.home, self.files):
            d.mkdir()
        self.n = 0

    def run(self, event_name: str, payload: dict, ref: str, **extra: str) -> subprocess.CompletedProcess:
        self.n += 1
        event = self.home / "workflow" / "event.json"
        event.parent.mkdir(exist_ok=True)
        event.write_text(json.dumps(payload))
        self.output, self.summary = self.files / f"output-{self.n}", self.files / f"summary-{self.n}"
        for f in (self.output, self.summary, self.files / f"env-{self.n}", self.files / f"path-{self.n}"):
            f.write_text("")
        env = minimal_env(
            self.image, self.home,
            CI="true", GITHUB_ACTIONS="true", RUNNER_OS="Linux", RUNNER_TEMP=str(self.files),
            GITHUB_EVENT_NAME=event_name, GITHUB_EVENT_PATH=str(event),
            GITHUB_REPOSITORY=f"{OWNER}/{REPO}", GITHUB_REPOSITORY_OWNER=OWNER,
            GITHUB_SERVER_URL="https://github.com", GITHUB_API_URL=self.gh.url,
            GITHUB_WORKSPACE=str(self.repo.path), GITHUB_SHA=self.repo.git("rev-parse", "HEAD"),
            GITHUB_REF=ref, GITHUB_REF_NAME=ref.split("/", 2)[2],
            GITHUB_OUTPUT=str(self.output), GITHUB_STEP_SUMMARY=str(self.summary),
            GITHUB_ENV=str(self.files / f"env-{self.n}"), GITHUB_PATH=str(self.files / f"path-{self.n}"),
            # This host's /etc/gitconfig is not the image's; no git identity either, as in the image.
            GIT_CONFIG_NOSYSTEM="1",
            **action_inputs(TOKEN), **extra)
        p = subprocess.run(self.image.entrypoint, cwd=self.repo.path, env=env, capture_output=True, text=True,
                           timeout=120)
        self.outputs = read_outputs(self.output)
        return p


def test_entrypoint_records_on_push_then_fails_a_regressing_pull_request(image, tmp_path, fake_github):
    repo = make_repo(tmp_path, {"idm.yaml": manifest(BASE, gate=GATE)})
    fake_github.add_user(TOKEN, "github-actions[bot]", app=True)
    fake_github.add_repository(OWNER, REPO, repo.origin)
    runner = ContainerRunner(image, repo, fake_github, tmp_path)
    main_sha = repo.git("rev-parse", "HEAD")

    # a push to main (mode auto -> record): the baseline lands on origin's idm-baselines branch
    push = {"ref": "refs/heads/main", "after": main_sha,
            "repository": {"full_name": f"{OWNER}/{REPO}", "default_branch": "main"}}
    p = runner.run("push", push, "refs/heads/main")
    assert p.returncode == 0, p.stderr + p.stdout
    assert "recorded 1 model(s)" in p.stdout and "Traceback" not in p.stderr
    assert list(repo.records_on_origin()) == [main_sha]
    # no git identity in the container: the record is committed as idm-gate
    author = subprocess.run(["git", "log", "-1", "--format=%an <%ae>", "idm-baselines"], cwd=repo.origin,
                            env=repo.env, capture_output=True, text=True, check=True).stdout.strip()
    assert author == "idm-gate <idm-gate@localhost>"
    # relative to the workspace, as upload-artifact on the runner resolves it; it ignores itself in git
    assert runner.outputs["report-path"] == ".idm-gate/idm.yaml.json"
    assert (repo.path / ".idm-gate/idm.yaml.json").is_file() and repo.git("status", "--porcelain") == ""

    # a pull request that makes the model 10 % bigger for the same scores
    repo.git("checkout", "-q", "-b", "pr")
    regress(repo)
    head = repo.push_pull_request(PR)
    p = runner.run("pull_request", pr_payload(repo), f"refs/pull/{PR}/merge",
                   GITHUB_BASE_REF="main", GITHUB_HEAD_REF="pr")
    assert p.returncode == 1, p.stderr + p.stdout
    assert "Traceback" not in p.stderr
    assert p.stdout.splitlines()[0] == f"::add-mask::{TOKEN}"
    o = runner.outputs
    assert o["verdict"] == "fail" and float(o["delta-pct"]) == pytest.approx(-9.09, abs=0.01)
    assert json.loads((repo.path / o["report-path"]).read_text())["verdict"] == "fail"
    assert runner.summary.read_text().startswith("## ❌ idm-gate")
    comments = fake_github.issue_comments(OWNER, REPO, PR)
    assert len(comments) == 1 and "idm-gate: **fail**" in comments[0]["body"]
    assert o["comment-url"].endswith(f"#issuecomment-{comments[0]['id']}")
    states = fake_github.statuses[(OWNER, REPO, head)]
    assert [(s["state"], s["context"]) for s in states] == [("failure", "idm-gate")]
