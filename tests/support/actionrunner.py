"""Run `idm-gate action` in a subprocess with the environment the Actions runner gives a container action."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gatecase import BASE, GATE, manifest

TOKEN = "ghs_faketoken1234567890"
OWNER, REPO, PR = "octo", "models", 7


def read_outputs(path: Path) -> dict:
    """Parse GITHUB_OUTPUT's heredoc format back into a dict (as the runner does)."""
    out, lines = {}, path.read_text().split("\n") if path.exists() else []
    i = 0
    while i < len(lines):
        if "<<" in lines[i]:
            name, delim = lines[i].split("<<", 1)
            j = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1:j])
            i = j + 1
        else:
            i += 1
    return out


def push_event_commits(cwd: Path, env: dict, event_name: str, payload: dict) -> None:
    """Push to ``origin`` from ``cwd`` what GitHub holds before it sends ``event_name``.

    A ``pull_request``/``pull_request_target`` event is about a head GitHub has at the base repository's
    ``refs/pull/<N>/head`` (a fork's PR too); a ``merge_group`` event about the group's commit on its
    ``gh-readonly-queue/...`` branch. A commit ``cwd`` does not have (a SHA the test made up) is left
    out, so GitHub does not know it either. Nothing else is pushed: a test pushes its branches itself.
    """
    if event_name.startswith("pull_request"):
        pr = payload.get("pull_request") or {}
        number = payload.get("number", pr.get("number"))
        sha, ref = (pr.get("head") or {}).get("sha"), number is not None and f"refs/pull/{number}/head"
    elif event_name == "merge_group":
        group = payload.get("merge_group") or {}
        sha, ref = group.get("head_sha"), group.get("head_ref")
    else:
        return
    if not sha or not ref:
        return
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)

    if git("cat-file", "-e", f"{sha}^{{commit}}").returncode == 0:
        p = git("push", "-q", "origin", f"+{sha}:{ref}")
        assert p.returncode == 0, f"git push origin {sha}:{ref}: {p.stderr}"


class Runner:
    """The environment the Actions runner gives a container action.

    The fake GitHub's ``OWNER/REPO`` is ``repo.origin``: it has the commits pushed there, no others (a
    status on an unpushed commit is GitHub's 422 "No commit found for SHA"). Each run first pushes what
    GitHub has before it sends the event (``push_event_commits``: a pull request's head, a merge group's
    commit); branches a test works on it pushes itself.
    """

    def __init__(self, repo, gh, tmp: Path):
        self.repo, self.gh, self.tmp = repo, gh, tmp
        if hasattr(gh, "add_repository"):   # not a stand-in for a run that calls no API (only a url)
            gh.add_repository(OWNER, REPO, repo.origin)

    def run(self, event_name: str, payload: dict, inputs: dict, token: str | None = TOKEN, extra_env=None):
        event = self.tmp / f"event-{event_name}.json"
        event.write_text(json.dumps(payload))
        self.output = self.tmp / "github_output"
        self.summary = self.tmp / "step_summary"
        for f in (self.output, self.summary):
            f.write_text("")
        env = dict(self.repo.env, GITHUB_ACTIONS="true", GITHUB_EVENT_NAME=event_name,
                   GITHUB_EVENT_PATH=str(event), GITHUB_REPOSITORY=f"{OWNER}/{REPO}", GITHUB_API_URL=self.gh.url,
                   GITHUB_WORKSPACE=str(self.repo.path), GITHUB_SHA=self.repo.git("rev-parse", "HEAD"),
                   GITHUB_OUTPUT=str(self.output), GITHUB_STEP_SUMMARY=str(self.summary),
                   IDM_GATE_GH_BACKOFF="0.01", IDM_GATE_GH_MAX_WAIT="0.2")
        env.update(extra_env or {})  # a test's own knobs win over the fast defaults above
        push_event_commits(self.repo.path, self.repo.env, event_name, payload)
        if token is not None:
            env["INPUT_GITHUB-TOKEN"] = token
        for k, v in inputs.items():
            env[f"INPUT_{k.upper()}"] = v
        p = subprocess.run([sys.executable, "-m", "idm_gate", "action"], cwd=self.repo.path, env=env,
                           capture_output=True, text=True, timeout=120)
        self.outputs = read_outputs(self.output)
        return p


# -- a pull request of the one-model repository (gatecase) -------------------------------------------

def pr_payload(repo, base_branch="main", fork=False) -> dict:
    head = repo.git("rev-parse", "HEAD")
    base = repo.git("rev-parse", f"origin/{base_branch}")
    return {"action": "synchronize", "number": PR,
            "pull_request": {"number": PR, "head": {"sha": head, "ref": "pr",
                                                    "repo": {"full_name": f"{'fork' if fork else OWNER}/{REPO}"}},
                             "base": {"sha": base, "ref": base_branch, "repo": {"full_name": f"{OWNER}/{REPO}"}}},
            "repository": {"full_name": f"{OWNER}/{REPO}", "default_branch": "main"}}


def regress(repo, factor=1.10):
    repo.write("idm.yaml", manifest(BASE, size_bytes=int(2 * 10**9 * factor), gate=GATE))
    return repo.commit("bigger model")


def pr_env(repo):
    return {"GITHUB_BASE_REF": "main", "GITHUB_REF": f"refs/pull/{PR}/merge"}


def recorded_main(repo, gh, tmp: Path) -> Runner:
    """The action's push run on main as the token's bot (it records the baseline); the runner for the PR."""
    gh.add_user(TOKEN, "github-actions[bot]", app=True)
    runner = Runner(repo, gh, tmp)
    p = runner.run("push", {"ref": "refs/heads/main", "repository": {"default_branch": "main"}}, {},
                   extra_env={"GITHUB_REF": "refs/heads/main"})
    assert p.returncode == 0, p.stderr + p.stdout
    return runner


def pr_check(runner: Runner, repo):
    """``check(inputs) -> (exit code, the one model of the check report, output)`` for the PR checked out."""

    def check(inputs: dict[str, str]) -> tuple[int, dict, str]:
        p = runner.run("pull_request", pr_payload(repo), inputs, extra_env=pr_env(repo))
        report = json.loads((repo.path / runner.outputs["report-path"]).read_text())
        (model,) = report["models"]
        return p.returncode, model, p.stdout + p.stderr

    return check
