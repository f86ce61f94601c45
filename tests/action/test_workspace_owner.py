"""A clean workspace after a container action: as GitHub runs it, root in a workspace the runner's user owns.

The runner starts the container as root and mounts the job's workspace, owned by the runner's user
(uid 1001 on GitHub-hosted runners), at /github/workspace (docs: "Dockerfile support for GitHub
Actions", USER; runner: ContainerActionHandler). Files a root step leaves there break later steps:
"insufficient permission for adding an object to repository database .git/objects" on the next
`git add`. Here the workspace is a shallow clone (actions/checkout's default) owned by uid 1001, and
`idm-gate action` runs as root in a subprocess; after every mode each path under the workspace,
.git included, must be 1001's, the index must be byte for byte what it was, and `git status` clean.
"""

from __future__ import annotations

import os
import shutil
import site
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

import webhooks
from actionrun import OWNER, REPO, TOKEN, action_env, pr_payload, push_payload, run_action
from gitrepo import git_env

RUNNER_UID = RUNNER_GID = 1001  # the runner user's ids on GitHub-hosted Ubuntu runners

as_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                             reason="starting the action as root in a workspace another user owns needs root")

MANIFEST = {"version": 1, "gate": {"max_drop": "5%"},
            "models": [{"name": "bonsai", "size_bytes": 2 * 10**9,
                        "evals": [{"scale": "percent", "scores": {"arc": 70.0, "gsm8k": 60.0}}]}]}


def _open_to_others(path: Path) -> bool:
    """Can a user who is neither the owner nor in the group reach ``path`` (every folder above: o+x)?"""
    for p in [path, *path.parents]:
        if p.is_dir() and not p.stat().st_mode & stat.S_IXOTH:
            return False
    return True


def python_for_the_runner_user(folder: Path) -> str:
    """An interpreter that still works after the action switched to uid 1001, with this test run's packages.

    In the image Python lives in /usr/local, readable by all. Where this run's interpreter sits under a
    private folder (pyenv in /root), a venv of the system's Python of the same minor version is made in
    ``folder`` (no pip, no download) that adds this run's site-packages, so idm_gate and its compiled
    dependencies load from the same files.
    """
    if _open_to_others(Path(sys.base_prefix)) and _open_to_others(Path(sys.prefix)):
        return sys.executable
    minor = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (f"/usr/bin/python{minor}", f"/usr/local/bin/python{minor}"):
        if Path(candidate).is_file() and _open_to_others(Path(candidate)):
            venv = folder / "venv"
            subprocess.run([candidate, "-m", "venv", "--without-pip", str(venv)], check=True)
            pure = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip()
            dirs = [d for d in site.getsitepackages() if _open_to_others(Path(d))]
            (Path(pure) / "idm_gate_test_run.pth").write_text(
                "import site; " + "; ".join(f"site.addsitedir({d!r})" for d in dirs) + "\n")
            return str(venv / "bin" / "python")
    pytest.skip(f"no Python {minor} that uid {RUNNER_UID} can run next to {sys.executable}")


def not_owned(top: Path) -> list[str]:
    """Every path under ``top`` (itself included, symlinks not followed) not owned by the runner user."""
    bad = []
    for folder, dirs, files in os.walk(top):
        for name in [folder, *(os.path.join(folder, x) for x in dirs + files)]:
            st = os.lstat(name)
            if (st.st_uid, st.st_gid) != (RUNNER_UID, RUNNER_GID):
                bad.append(f"{os.path.relpath(name, top)} ({st.st_uid}:{st.st_gid})")
    return sorted(set(bad))


def chown_tree(top: Path) -> None:
    for folder, dirs, files in os.walk(top):
        for name in [folder, *(os.path.join(folder, x) for x in dirs + files)]:
            os.lchown(name, RUNNER_UID, RUNNER_GID)


class Workspace:
    def __init__(self, base: Path):
        self.base = base
        self.env = git_env(base / "home")  # HOME like /github/home: the runner user's
        self.ws = base / "workspace"
        self.origin = base / "origin.git"
        self.python = sys.executable

    def git(self, *args: str, as_runner: bool = True) -> str:
        """git as the runner's user (a later workflow step), or as root with safe.directory (the test)."""
        kw = {"user": RUNNER_UID, "group": RUNNER_GID, "extra_groups": []} if as_runner else {}
        env = self.env if as_runner else dict(self.env, GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="safe.directory",
                                              GIT_CONFIG_VALUE_0="*")
        p = subprocess.run(["git", *args], cwd=self.ws, env=env, capture_output=True, text=True, **kw)
        assert p.returncode == 0, f"git {args}: {p.stderr}"
        return p.stdout.strip()

    def index(self) -> tuple[bytes, int]:
        p = self.ws / ".git" / "index"
        return p.read_bytes(), p.stat().st_mtime_ns

    def stale_stat(self) -> None:
        """Give a tracked file a new mtime, same content: any index refresh would now rewrite the index."""
        t = (self.ws / "idm.yaml").stat().st_mtime + 5
        os.utime(self.ws / "idm.yaml", (t, t))

    def action(self, gh, name: str, event: str, payload: dict, inputs: dict, files_owned_by_runner: bool = True):
        files = self.base / "files" / name  # like /github/file_commands: the runner user's
        probe = dict(self.env, GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="safe.directory", GIT_CONFIG_VALUE_0="*")
        env = action_env(self.ws, probe, files, event, payload, inputs, api_url=gh.url)
        for k in ("GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0"):
            del env[k]  # the action is on its own with the ownership, as in the container
        if files_owned_by_runner:
            chown_tree(files)
        return run_action(env, self.ws, python=self.python)


@pytest.fixture
def workspace():
    # Not under pytest's tmp_path: its root is private to root (0700), and the runner's user must reach it.
    base = Path(tempfile.mkdtemp(prefix="idm-owner-", dir="/tmp"))
    base.chmod(0o755)
    w = Workspace(base)
    (base / "home").mkdir()
    w.python = python_for_the_runner_user(base)
    env = w.env
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(w.origin)], env=env, check=True)
    seed = base / "seed"
    subprocess.run(["git", "clone", "-q", str(w.origin), str(seed)], env=env, check=True, capture_output=True)
    (seed / "idm.yaml").write_text(yaml.safe_dump(MANIFEST, sort_keys=False))
    for args in (["checkout", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "c0"],
                 ["commit", "-q", "--allow-empty", "-m", "c1"], ["push", "-q", "origin", "main"]):
        subprocess.run(["git", *args], cwd=seed, env=env, check=True)
    shutil.rmtree(seed)
    # actions/checkout's default: one commit, fetched over the remote (file:// keeps a local clone shallow)
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "main", f"file://{w.origin}", str(w.ws)],
                   env=env, check=True, capture_output=True)
    chown_tree(base)  # everything the runner's user owns, the bare origin included (it pushes there)
    yield w
    shutil.rmtree(base, ignore_errors=True)


@as_root
def test_every_mode_leaves_the_workspace_to_its_owner_and_the_index_as_it_was(workspace, fake_github):
    w = workspace
    fake_github.add_user(TOKEN, "github-actions[bot]", app=True)
    fake_github.add_repository(OWNER, REPO, w.origin)
    assert w.git("rev-parse", "--is-shallow-repository") == "true"

    # record, on a push to main, with the index's stat data stale (as after a checkout and a touch)
    w.stale_stat()
    before = w.index()
    r = w.action(fake_github, "record", "push", push_payload(), {})
    assert r.proc.returncode == 0, r.proc.stderr + r.proc.stdout
    assert "recorded 1 model(s)" in r.proc.stdout
    assert not_owned(w.ws) == []
    assert w.index() == before  # not even rewritten with the same entries
    assert w.git("status", "--porcelain", "--untracked-files=all") == ""
    assert r.outputs["report-path"] == ".idm-gate/idm.yaml.json" and (w.ws / r.outputs["report-path"]).is_file()

    # a later step as the runner's user: the PR branch, a commit; git can add objects where we wrote some
    w.git("checkout", "-q", "-b", "pr")
    bigger = dict(MANIFEST, models=[dict(MANIFEST["models"][0], size_bytes=22 * 10**8)])
    (w.ws / "idm.yaml").write_text(yaml.safe_dump(bigger, sort_keys=False))
    w.git("add", "-A")
    w.git("-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-q", "-m", "bigger")
    head, base = w.git("rev-parse", "HEAD"), w.git("rev-parse", "origin/main")
    w.git("push", "-q", "origin", "HEAD:refs/pull/7/head")  # the PR opened: GitHub has its head

    # check, on a pull request: deepens the shallow clone, fetches the baselines, writes the report
    w.stale_stat()
    before = w.index()
    r = w.action(fake_github, "check", "pull_request", pr_payload(head, base, 7), {})
    assert r.proc.returncode == 1, r.proc.stderr + r.proc.stdout  # 10 % bigger: density -9.1 %, over 5 %
    assert r.outputs["verdict"] == "fail"
    assert not_owned(w.ws) == []
    assert w.index() == before
    assert w.git("status", "--porcelain", "--untracked-files=all") == ""
    # what the check wrote into .git (now the owner's, as checked above): the deepened history, the base ref
    assert w.git("rev-parse", "--is-shallow-repository") == "false"
    assert w.git("for-each-ref", "--format=%(refname)", "refs/idm-gate") == "refs/idm-gate/idm-baselines"

    # measure (stage 1 of the fork setup)
    r = w.action(fake_github, "measure", "pull_request", pr_payload(head, base, 7), {"mode": "measure"})
    assert r.proc.returncode == 0, r.proc.stderr + r.proc.stdout
    assert not_owned(w.ws) == []
    assert w.git("status", "--porcelain", "--untracked-files=all") == ""
    measured = (w.ws / r.outputs["report-path"]).read_text()

    # publish (stage 2): main checked out, the artifact downloaded by the runner's user into .idm-gate/
    # as examples/workflows/idm-gate-publish.yml does, in a fresh job (no .idm-gate/ yet)
    w.git("checkout", "-q", "main")
    shutil.rmtree(w.ws / ".idm-gate")
    artifact = w.ws / ".idm-gate" / "artifact"
    artifact.mkdir(parents=True)
    (artifact / "idm-report.json").write_text(measured)
    chown_tree(artifact.parent)
    fake_github.add_pull(OWNER, REPO, 7, head_sha=head, base_sha=base, head_repo="fork/models", head_ref="pr")
    run = webhooks.workflow_run(repository=f"{OWNER}/{REPO}", head_sha=head, head_repository="fork/models",
                                head_branch="pr")
    w.stale_stat()
    before = w.index()
    r = w.action(fake_github, "publish", "workflow_run", run,
                 {"mode": "publish", "report": ".idm-gate/artifact/idm-report.json"})
    assert r.proc.returncode == 1, r.proc.stderr + r.proc.stdout
    assert r.outputs["report-path"] == ".idm-gate/artifact/idm-report-check.json"
    assert not_owned(w.ws) == []
    assert w.index() == before
    assert w.git("status", "--porcelain", "--untracked-files=all") == ""

    # and the workspace stays usable by the runner's user: add, commit, gc (repacks every object)
    (w.ws / "NOTES.md").write_text("later step\n")
    w.git("add", "-A")
    w.git("-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-q", "-m", "later")
    w.git("gc", "-q")
    w.git("clean", "-fdx")  # a later checkout cleans ignored files too: ours can be removed
    assert not (w.ws / ".idm-gate").exists()


@as_root
def test_where_it_must_stay_root_git_still_works_in_the_users_workspace(workspace, fake_github):
    """The fallback: step files root's (0644), so no switch; safe.directory lets git into the 1001-owned repo."""
    w = workspace
    fake_github.add_user(TOKEN, "github-actions[bot]", app=True)
    for folder, dirs, files in os.walk(w.origin):  # a remote root can push to (on GitHub: https)
        for name in [folder, *(os.path.join(folder, x) for x in dirs + files)]:
            os.lchown(name, 0, 0)
    r = w.action(fake_github, "record-as-root", "push", push_payload(), {}, files_owned_by_runner=False)
    assert r.proc.returncode == 0, r.proc.stderr + r.proc.stdout
    assert "recorded 1 model(s)" in r.proc.stdout and "dubious ownership" not in r.proc.stderr
    assert f"::warning::staying root: GITHUB_OUTPUT ({w.base}/files/record-as-root/github_output) is not " \
           f"writable by the workspace owner uid {RUNNER_UID}" in r.proc.stdout
    assert r.outputs["report-path"] == ".idm-gate/idm.yaml.json"  # and the outputs were written
    assert w.git("status", "--porcelain", "--untracked-files=all") == ""


@as_root
def test_the_cli_as_root_in_another_users_checkout_says_git_refuses_it(workspace):
    """Not the action (which switches): `idm-gate record` as root names git's refusal, not "no repository"."""
    w = workspace
    # the manifest in a subfolder: the folder to trust is still the repository's top, as git names it
    (w.ws / "models").mkdir()
    os.chown(w.ws / "models", RUNNER_UID, RUNNER_GID)
    w.git("mv", "idm.yaml", "models/idm.yaml")
    p = subprocess.run([sys.executable, "-m", "idm_gate", "record", "-m", "models/idm.yaml"], cwd=w.ws, env=w.env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and len(p.stderr.splitlines()) == 1, p.stderr
    assert p.stderr.startswith("idm-gate: error: models/idm.yaml: git refuses the repository, which another user owns "
                               "(fatal: detected dubious ownership in repository at ")
    assert p.stderr.rstrip().endswith(f"git config --global --add safe.directory {w.ws}")


# -- the switch itself, in process: where it stays root, and says so -----------------------------------


class FakeIds:
    """os's id calls as root would see them; records what was switched, or refuses like a missing CAP_SETUID."""

    def __init__(self, monkeypatch, refuse: bool = False):
        self.calls: list = []
        monkeypatch.setattr(os, "geteuid", lambda: 0)
        monkeypatch.setattr(os, "getegid", lambda: 0)

        def call(name):
            def f(value):
                if refuse:
                    raise PermissionError(1, "Operation not permitted")
                self.calls.append((name, value))
            return f

        for name in ("setgroups", "setgid", "setuid"):
            monkeypatch.setattr(os, name, call(name))


def owned(path: Path, uid: int, gid: int, mode: int) -> Path:
    path.chmod(mode)
    st = path.stat()
    if (st.st_uid, st.st_gid) != (uid, gid):
        if os.geteuid() != 0:
            pytest.skip("giving a file to another owner needs root")
        os.chown(path, uid, gid)
    return path


def test_switch_order_is_groups_gid_uid_and_home_moves_when_unreadable(tmp_path, monkeypatch):
    from idm_gate.github.container import become_workspace_owner

    ids = FakeIds(monkeypatch)
    ws = owned(tmp_path, RUNNER_UID, RUNNER_GID, 0o755)
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # HOME=/root is not the runner user's
    monkeypatch.setenv("HOME", "/root")
    warnings: list[str] = []
    sw = become_workspace_owner(ws, {}, warnings.append)
    assert (sw.switched, sw.uid, sw.gid) == (True, RUNNER_UID, RUNNER_GID) and warnings == []
    assert ids.calls == [("setgroups", [RUNNER_GID]), ("setgid", RUNNER_GID), ("setuid", RUNNER_UID)]
    assert os.environ["HOME"] != "/root" and Path(os.environ["HOME"]).is_dir()


_HOME_PROBE = """
import os, sys
from pathlib import Path
os.geteuid = os.getegid = lambda: 0  # root, as a container action starts
for name in ("setgroups", "setgid", "setuid"):
    setattr(os, name, lambda value: None)
os.access = lambda path, mode: False  # HOME=/root is not the runner user's
os.environ["HOME"] = "/root"
from idm_gate.github.container import become_workspace_owner
become_workspace_owner(Path(sys.argv[1]), {}, print)
print(os.environ["HOME"], os.path.isdir(os.environ["HOME"]))
"""


def test_the_private_home_is_removed_when_the_process_exits(tmp_path):
    (tmp_path / "ws").mkdir()
    ws = owned(tmp_path / "ws", RUNNER_UID, RUNNER_GID, 0o755)
    run = subprocess.run([sys.executable, "-c", _HOME_PROBE, str(ws)], capture_output=True, text=True, timeout=60)
    home, existed = run.stdout.split()
    assert (run.returncode, existed, run.stderr) == (0, "True", "")
    assert Path(home).name.startswith("idm-gate-home-") and not Path(home).exists()


def test_root_stays_root_with_a_warning_when_the_switch_is_refused(tmp_path, monkeypatch):
    from idm_gate.github.container import become_workspace_owner

    FakeIds(monkeypatch, refuse=True)
    ws = owned(tmp_path, RUNNER_UID, RUNNER_GID, 0o755)
    warnings: list[str] = []
    sw = become_workspace_owner(ws, {}, warnings.append)
    assert not sw.switched and sw.reason == "setuid refused: Operation not permitted"
    assert warnings == [f"staying root: could not switch to the workspace owner uid {RUNNER_UID} (Operation not "
                        "permitted); files this step writes in the workspace will be owned by root"]


def test_root_stays_root_when_the_owner_could_not_write_the_step_outputs(tmp_path, monkeypatch):
    from idm_gate.github.container import become_workspace_owner

    ids = FakeIds(monkeypatch)
    (tmp_path / "ws").mkdir()
    ws = owned(tmp_path / "ws", RUNNER_UID, RUNNER_GID, 0o755)
    out = tmp_path / "set_output"
    out.write_text("")
    owned(out, 0, 0, 0o644)  # root's, not writable by others: the user could not set outputs
    warnings: list[str] = []
    sw = become_workspace_owner(ws, {"GITHUB_OUTPUT": str(out)}, warnings.append)
    assert not sw.switched and ids.calls == []
    assert warnings and warnings[0].startswith(f"staying root: GITHUB_OUTPUT ({out}) is not writable by the "
                                               f"workspace owner uid {RUNNER_UID}")


def test_nothing_changes_when_root_owns_the_workspace_or_we_are_not_root(tmp_path, monkeypatch):
    from idm_gate.github.container import become_workspace_owner

    ids = FakeIds(monkeypatch)
    ws = owned(tmp_path, 0, 0, 0o755)
    assert become_workspace_owner(ws, {}, print).reason == "root owns the workspace" and ids.calls == []
    monkeypatch.setattr(os, "geteuid", lambda: 1001)
    monkeypatch.setattr(os, "getegid", lambda: 1001)
    sw = become_workspace_owner(ws, {}, print)
    assert (sw.switched, sw.uid, sw.reason) == (False, 1001, "not running as root") and ids.calls == []
