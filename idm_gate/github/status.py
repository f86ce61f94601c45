"""The commit status that mirrors the verdict, so a branch protection rule can require it."""

from __future__ import annotations

from typing import Any

from idm_gate.errors import truncate
from idm_gate.github.client import STATUS_DESCRIPTION_LIMIT, GitHubClient

VERDICT_STATES = {"fail": "failure", "pass": "success", "warn": "success", "error": "error",
                  "pending": "pending"}


def status_for(verdict: str, description: str) -> tuple[str, str]:
    """(state, description) for a verdict: a warning passes, and its description says so."""
    try:
        state = VERDICT_STATES[verdict]
    except KeyError:
        raise ValueError(f"verdict {verdict!r}: use one of {', '.join(VERDICT_STATES)}") from None
    text = " ".join(description.split())
    if verdict == "warn" and not text.lower().startswith("warning"):
        text = f"warning: {text}"
    return state, truncate(text, STATUS_DESCRIPTION_LIMIT)


def set_status(client: GitHubClient, owner: str, repo: str, sha: str, verdict: str, context: str,
               description: str, target_url: str | None = None) -> dict[str, Any]:
    """Post the commit status for ``verdict`` (fail -> failure; pass, warn -> success).

    Raises ``GitHubAPIError``; callers wrap it in ``try_write`` because the status only reports
    the verdict: the verdict and exit code never depend on it being written.
    """
    state, text = status_for(verdict, description)
    return client.create_status(owner, repo, sha, state, context, text, target_url=target_url)
