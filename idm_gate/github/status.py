"""The commit status that mirrors the verdict, so a branch protection rule can require it."""

from __future__ import annotations

from typing import Any

from idm_gate.data import Verdict
from idm_gate.errors import truncate
from idm_gate.github.client import STATUS_DESCRIPTION_LIMIT, GitHubClient

# the commit status state for each verdict: a warning does not block a merge
VERDICT_STATES: dict[Verdict, str] = {Verdict.FAIL: "failure", Verdict.PASS: "success", Verdict.WARN: "success"}


def status_for(verdict: Verdict, description: str) -> tuple[str, str]:
    """(state, description) for a verdict: a warning passes, and its description says so."""
    text = " ".join(description.split())
    if verdict is Verdict.WARN and not text.lower().startswith("warning"):
        text = f"warning: {text}"
    return VERDICT_STATES[verdict], truncate(text, STATUS_DESCRIPTION_LIMIT)


def set_status(client: GitHubClient, owner: str, repo: str, sha: str, verdict: Verdict, context: str,
               description: str, target_url: str | None = None) -> dict[str, Any]:
    """Post the commit status for ``verdict`` (fail -> failure; pass, warn -> success).

    Raises ``GitHubAPIError``; callers wrap it in ``try_write`` because the status only reports
    the verdict: the verdict and exit code never depend on it being written.
    """
    state, text = status_for(verdict, description)
    return client.create_status(owner, repo, sha, state, context, text, target_url=target_url)
