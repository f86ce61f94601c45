"""`idm-gate action` in a subprocess with the environment the Actions runner gives a container action.

Shared by end-to-end tests that need the action itself (not the CLI): the event payload in a file, the
``GITHUB_*`` variables, ``INPUT_<NAME>`` with hyphens kept, and ``GITHUB_OUTPUT``/``GITHUB_STEP_SUMMARY``
files read back the way the runner reads them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from actionrunner import OWNER, REPO, TOKEN, read_outputs


def push_payload(branch: str = "main") -> dict:
    return {"ref": f"refs/heads/{branch}", "repository": {"full_name": f"{OWNER}/{REPO}", "default_branch": "main"}}


def pr_payload(head: str, base: str, number: int, base_branch: str = "main") -> dict:
    """A ``pull_request`` ``synchronize`` payload, the fields GitHub's webhook example has that we read."""
    return {"action": "synchronize", "number": number,
            "pull_request": {"number": number, "state": "open",
                             "head": {"sha": head, "ref": "pr", "repo": {"full_name": f"{OWNER}/{REPO}"}},
                             "base": {"sha": base, "ref": base_branch, "repo": {"full_name": f"{OWNER}/{REPO}"}}},
            "repository": {"full_name": f"{OWNER}/{REPO}", "default_branch": "main"}}


@dataclass
class ActionRun:
    """One run: the process, the outputs it set and the job summary it wrote."""

    proc: subprocess.CompletedProcess
    outputs: dict = field(default_factory=dict)
    summary: str = ""


def action_env(workspace: Path, base_env: dict, files: Path, event_name: str, payload: dict, inputs: dict,
               api_url: str = "http://127.0.0.1:9", token: str | None = TOKEN, extra_env: dict | None = None) -> dict:
    """The environment of a container action step; the event, output and summary files go in ``files``."""
    files.mkdir(parents=True, exist_ok=True)
    event = files / f"event-{event_name}.json"
    event.write_text(json.dumps(payload))
    for name in ("github_output", "step_summary"):
        (files / name).write_text("")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=workspace, env=base_env, capture_output=True,
                          text=True).stdout.strip()
    env = dict(base_env, GITHUB_ACTIONS="true", GITHUB_EVENT_NAME=event_name, GITHUB_EVENT_PATH=str(event),
               GITHUB_REPOSITORY=f"{OWNER}/{REPO}", GITHUB_API_URL=api_url, GITHUB_WORKSPACE=str(workspace),
               GITHUB_SHA=head, GITHUB_OUTPUT=str(files / "github_output"),
               GITHUB_STEP_SUMMARY=str(files / "step_summary"), IDM_GATE_GH_BACKOFF="0.01",
               IDM_GATE_GH_MAX_WAIT="0.2")
    if event_name == "push":
        env["GITHUB_REF"] = payload.get("ref", "refs/heads/main")
    elif event_name.startswith("pull_request"):
        env.update(GITHUB_BASE_REF=payload["pull_request"]["base"]["ref"],
                   GITHUB_REF=f"refs/pull/{payload['number']}/merge")
    if token is not None:
        env["INPUT_GITHUB-TOKEN"] = token
    for k, v in inputs.items():
        env[f"INPUT_{k.upper()}"] = v
    env.update(extra_env or {})
    return env


def run_action(env: dict, cwd: Path, timeout: float = 120, python: str = sys.executable) -> ActionRun:
    """Run the action. The test pushes what GitHub would hold for the event itself (a pull request's head:
    ``Repo.push_pull_request``) and gives a fake GitHub its ``origin`` (``FakeGitHub.add_repository``)."""
    files = Path(env["GITHUB_OUTPUT"]).parent
    p = subprocess.run([python, "-m", "idm_gate", "action"], cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=timeout)
    return ActionRun(p, read_outputs(files / "github_output"), (files / "step_summary").read_text())
