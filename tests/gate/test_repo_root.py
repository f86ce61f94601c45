"""The repository's top folder read from the file system agrees with ``git rev-parse --show-toplevel``.

``gitutil.toplevel_on_disk`` answers only where the layout is plain and hands every other case to git
(``ASK_GIT``). Each case builds a real repository with git and compares against git's own answer, so a
layout where the two could disagree shows up here rather than as a wrong containment root in ``measure``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitrepo import git_env
from idm_gate.gitutil import ASK_GIT, Git, toplevel_on_disk


@pytest.fixture
def env(tmp_path, monkeypatch):
    """git's environment for these tests (no GIT_ variable from the caller), also as os.environ."""
    e = git_env(tmp_path)
    for k in list(os.environ):
        if k.startswith("GIT_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("HOME", e["HOME"])
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return e


def git(cwd: Path, env: dict, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)


def gits_toplevel(cwd: Path, env: dict) -> Path | None:
    p = git(cwd, env, "rev-parse", "--show-toplevel")
    return Path(p.stdout.strip()) if p.returncode == 0 and p.stdout.strip() else None


def init(folder: Path, env: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    assert git(folder, env, "init", "-q").returncode == 0
    return folder


def test_a_plain_repository_is_answered_without_git_and_as_git_answers(tmp_path, env):
    top = init(tmp_path / "repo", env)
    deep = top / "models" / "edge"
    deep.mkdir(parents=True)
    for start in (top, deep):
        assert toplevel_on_disk(start) == gits_toplevel(start, env) == top.resolve()


def test_a_symlinked_start_answers_the_real_path_as_git_does(tmp_path, env):
    top = init(tmp_path / "repo", env)
    (top / "sub").mkdir()
    link = tmp_path / "link"
    link.symlink_to(top / "sub")
    assert toplevel_on_disk(link) == gits_toplevel(link, env) == top.resolve()


def test_no_repository_up_to_the_root_is_none_as_for_git(tmp_path, env):
    plain = tmp_path / "plain" / "folder"
    plain.mkdir(parents=True)
    if gits_toplevel(plain, env) is not None:  # a .git above the temp folder (not on this machine or CI)
        pytest.skip(f"{plain} is inside a git repository")
    assert toplevel_on_disk(plain) is None
    assert Git(plain).toplevel() is None


def test_a_linked_work_tree_asks_git(tmp_path, env):
    top = init(tmp_path / "repo", env)
    (top / "f").write_text("x")
    assert git(top, env, "add", "f").returncode == 0
    assert git(top, env, "commit", "-qm", "one").returncode == 0
    linked = tmp_path / "linked"
    assert git(top, env, "worktree", "add", "-q", str(linked)).returncode == 0
    assert (linked / ".git").is_file()
    assert toplevel_on_disk(linked) is ASK_GIT
    assert Git(linked).toplevel() == gits_toplevel(linked, env) == linked.resolve()


def test_a_repository_extension_asks_git(tmp_path, env):
    # sha256 object names are an extension: a git that does not know it refuses the repository
    top = tmp_path / "repo"
    top.mkdir()
    assert git(top, env, "init", "-q", "--object-format=sha256").returncode == 0
    assert toplevel_on_disk(top) is ASK_GIT
    assert Git(top).toplevel() == gits_toplevel(top, env) == top.resolve()


# config git reads but a line reader could misread: a boolean without '=' is true, a key may follow its
# section on the same line, a form feed is whitespace, a format version git does not know is refused;
# every one must be left to git, whose answer Git.toplevel then gives
@pytest.mark.parametrize("config", ["[core]\n\tbare\n", "[core] bare = true\n", "[core] worktree = {elsewhere}\n",
                                    "[core]\n\trepositoryformatversion = 5\n", "[core]\n\f bare = true\n",
                                    "[core]\n\tbare = \\\n true\n", '[core "x"]\n\tbare = false\n',
                                    # lines git refuses as bad config ("fatal: bad config line"): whitespace
                                    # before ']', and whitespace that is Python's but not git's before '='
                                    "[core ]\n", '[remote "origin" ]\n\turl = x\n', "[core]\n\tfilemode\u00a0= true\n"])
def test_hand_written_config_asks_git(tmp_path, env, config):
    top = init(tmp_path / "repo", env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with open(top / ".git" / "config", "a", encoding="utf-8") as f:
        f.write(config.format(elsewhere=elsewhere))
    assert toplevel_on_disk(top) is ASK_GIT
    assert Git(top).toplevel() == gits_toplevel(top, env)


def test_a_git_folder_with_an_invalid_head_asks_git_which_looks_further_up(tmp_path, env):
    outer = init(tmp_path / "outer", env)
    inner = init(outer / "vendored", env)
    (inner / ".git" / "HEAD").write_text("garbage\n")
    assert toplevel_on_disk(inner) is ASK_GIT
    assert Git(inner).toplevel() == gits_toplevel(inner, env) == outer.resolve()


def test_heads_git_writes_are_answered_on_disk(tmp_path, env):
    # a branch (symbolic ref) and a detached HEAD (a full SHA) are both what git takes
    top = init(tmp_path / "repo", env)
    assert toplevel_on_disk(top) == top.resolve()
    (top / "f").write_text("x")
    assert git(top, env, "add", "f").returncode == 0
    assert git(top, env, "commit", "-qm", "one").returncode == 0
    assert git(top, env, "checkout", "-q", "--detach").returncode == 0
    assert len((top / ".git" / "HEAD").read_text().strip()) == 40
    assert toplevel_on_disk(top) == gits_toplevel(top, env) == top.resolve()


def test_core_worktree_moves_the_top_level_and_asks_git(tmp_path, env):
    top = init(tmp_path / "repo", env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert git(top, env, "config", "core.worktree", str(elsewhere)).returncode == 0
    assert toplevel_on_disk(top) is ASK_GIT
    assert Git(top).toplevel() == gits_toplevel(top, env) == elsewhere.resolve()


@pytest.mark.parametrize("name", ["GIT_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES", "GIT_CONFIG_COUNT"])
def test_a_relocating_variable_asks_git_whether_set_for_us_or_for_the_git_we_run(tmp_path, env, monkeypatch, name):
    top = init(tmp_path / "repo", env)
    assert toplevel_on_disk(top, {name: str(tmp_path)}) is ASK_GIT
    monkeypatch.setenv(name, str(tmp_path))
    assert toplevel_on_disk(top) is ASK_GIT


def test_identity_and_tls_variables_keep_the_answer_on_disk(tmp_path, env, monkeypatch):
    top = init(tmp_path / "repo", env)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Dev")
    monkeypatch.setenv("GIT_SSL_CAINFO", "/etc/ssl/certs/ca-certificates.crt")
    assert toplevel_on_disk(top) == top.resolve()


def test_a_folder_named_git_that_git_would_not_take_asks_git(tmp_path, env):
    top = init(tmp_path / "repo", env)
    inner = top / "vendor" / "thing"
    (inner / ".git").mkdir(parents=True)  # empty: no HEAD, objects or refs; git looks further up
    assert toplevel_on_disk(inner) is ASK_GIT
    assert Git(inner).toplevel() == gits_toplevel(inner, env) == top.resolve()


def test_a_start_inside_the_git_folder_or_a_bare_repository_asks_git(tmp_path, env):
    top = init(tmp_path / "repo", env)
    assert toplevel_on_disk(top / ".git" / "refs") is ASK_GIT
    bare = tmp_path / "bare.git"
    assert git(tmp_path, env, "init", "-q", "--bare", str(bare)).returncode == 0
    assert toplevel_on_disk(bare) is ASK_GIT
    assert Git(bare).toplevel() is None  # git: "this operation must be run in a work tree"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown to another user needs root")
def test_a_repository_of_another_owner_asks_git_which_refuses_it(tmp_path, env):
    top = init(tmp_path / "repo", env)
    os.chown(top, 12345, 12345)
    assert toplevel_on_disk(top) is ASK_GIT
    # git 2.35.2+ refuses it without safe.directory (HOME is the temp folder: no global config)
    assert gits_toplevel(top, env) is None
    assert Git(top).toplevel() is None


def test_measure_in_a_plain_repository_starts_no_git_and_keeps_its_root(tmp_path, env):
    # the manifest in a subfolder names a file beside it via ../: inside the repository, so measured
    top = init(tmp_path / "repo", env)
    (top / "weights").mkdir()
    (top / "weights" / "model.bin").write_bytes(b"\0" * 1000)
    (top / "models").mkdir()
    (top / "models" / "idm.yaml").write_text("version: 1\nmodels:\n  - name: one\n    artifacts: [../weights/model.bin]\n"
                                             "    evals: [{scores: {mmlu: 0.5}}]\n")
    probe = ("import sys\nfrom idm_gate.cli import main\ntry:\n    main(['measure', '-m', 'models/idm.yaml', '-f', 'json'])\n"
             "except SystemExit:\n    pass\nprint('subprocess' in sys.modules, file=sys.stderr)\n")
    p = subprocess.run([sys.executable, "-c", probe], cwd=top, env={**env, "GIT_CONFIG_NOSYSTEM": "1"},
                       capture_output=True, text=True, timeout=60)
    assert '"size_bytes": 1000' in p.stdout, p.stderr
    assert p.stderr.strip().splitlines()[-1] == "False"  # no git process: subprocess never imported
    # the same files outside any repository: the manifest's folder is the root, and ../ leaves it
    plain = tmp_path / "plain"
    (top / ".git").rename(tmp_path / "moved.git")
    top.rename(plain)
    p = subprocess.run([sys.executable, "-m", "idm_gate", "measure", "-m", "models/idm.yaml"], cwd=plain, env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert p.stderr.strip() == ("idm-gate: error: models/idm.yaml: models[0].artifacts[0]: '../weights/model.bin' "
                                f"resolves outside the repository ({(plain / 'models').resolve()}); name a file inside it")
