"""Real git repositories in temp folders, with a bare repository as ``origin``, and the CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import yaml


def git_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_", "INPUT_"))}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="Dev", GIT_AUTHOR_EMAIL="dev@example.com",
               GIT_COMMITTER_NAME="Dev", GIT_COMMITTER_EMAIL="dev@example.com", LC_ALL="C")
    return env


@dataclass
class Repo:
    path: Path
    origin: Path
    env: dict

    def git(self, *args, check=True) -> str:
        p = subprocess.run(["git", *args], cwd=self.path, env=self.env, capture_output=True, text=True)
        if check and p.returncode:
            raise AssertionError(f"git {args} failed: {p.stderr}")
        return p.stdout.strip()

    def write(self, rel: str, content) -> None:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, (dict, list)):
            content = yaml.safe_dump(content, sort_keys=False)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)

    def commit(self, msg: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", msg, "--allow-empty")
        return self.git("rev-parse", "HEAD")

    def push_pull_request(self, number: int) -> str:
        """HEAD as pull request ``number``'s head, where GitHub keeps it: origin's ``refs/pull/<number>/head``
        (for a PR from a fork too), moved along on each push. Returns the head SHA.

        A fake GitHub that knows ``origin`` (``FakeGitHub.add_repository``) then has the commit, as
        GitHub has a PR's head once the PR exists; a commit never pushed is a 422 there."""
        self.git("push", "-q", "origin", f"+HEAD:refs/pull/{number}/head")
        return self.git("rev-parse", "HEAD")

    def idm(self, *args, env_extra: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        env = dict(self.env, **(env_extra or {}))
        return subprocess.run([sys.executable, "-m", "idm_gate", *args], cwd=self.path, env=env,
                              capture_output=True, text=True, timeout=timeout)

    def records_on_origin(self, branch: str = "idm-baselines", gate: str | None = None) -> dict:
        """``{sha: record}`` on origin's baseline branch: of the gate key ``gate``, else of the only gate there.

        Legacy records (``records/<xx>/<sha>.json``, idm-gate 0.1.0) count for the gate their ``manifest`` names.
        """
        by_gate = self.gates_on_origin(branch)
        if gate is not None:
            return by_gate.get(gate, {})
        assert len(by_gate) <= 1, f"records of several gates on origin: {sorted(by_gate)}; name one"
        return next(iter(by_gate.values()), {})

    def gates_on_origin(self, branch: str = "idm-baselines") -> dict:
        """``{gate key: {sha: record}}`` for every record file on origin's baseline branch."""
        out = subprocess.run(["git", "ls-tree", "-r", "--name-only", branch], cwd=self.origin, env=self.env,
                             capture_output=True, text=True)
        if out.returncode:
            return {}
        gates: dict = {}
        for name in out.stdout.split():
            blob = subprocess.run(["git", "show", f"{branch}:{name}"], cwd=self.origin, env=self.env,
                                  capture_output=True, text=True, check=True).stdout
            rec = json.loads(blob)
            parts = Path(name).parts  # records/<xx>/<sha>/<key>.json, or records/<xx>/<sha>.json before 0.2
            if len(parts) == 4:
                sha, key = parts[2], unquote(parts[3].removesuffix(".json"))
            else:
                sha, key = Path(name).stem, rec["manifest"]
            gates.setdefault(key, {})[sha] = rec
        return gates


def make_repo(tmp: Path, files: dict) -> Repo:
    env = git_env(tmp)
    origin = tmp / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], env=env, check=True)
    work = tmp / "work"
    subprocess.run(["git", "clone", "-q", str(origin), str(work)], env=env, check=True, capture_output=True)
    r = Repo(work, origin, env)
    r.git("checkout", "-q", "-b", "main")
    for k, v in files.items():
        r.write(k, v)
    r.commit("initial")
    r.git("push", "-q", "origin", "main")
    return r
