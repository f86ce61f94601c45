"""Run `idm-gate action` in a subprocess with the environment the Actions runner gives a container action."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


class Runner:
    """The environment the Actions runner gives a container action."""

    def __init__(self, repo, gh, tmp: Path):
        self.repo, self.gh, self.tmp = repo, gh, tmp

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
        if token is not None:
            env["INPUT_GITHUB-TOKEN"] = token
        for k, v in inputs.items():
            env[f"INPUT_{k.upper()}"] = v
        p = subprocess.run([sys.executable, "-m", "idm_gate", "action"], cwd=self.repo.path, env=env,
                           capture_output=True, text=True, timeout=120)
        self.outputs = read_outputs(self.output)
        return p
