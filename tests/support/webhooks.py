"""GitHub's published webhook payloads (tests/data/webhooks/, from @octokit/webhooks-examples, MIT),
adjusted only in SHAs, repository/owner/branch names and the PR number to match a temp repository."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

HOOKS = Path(__file__).parents[1] / "data" / "webhooks"


@cache
def _load(name: str) -> dict:
    return json.loads((HOOKS / f"{name}.json").read_text(encoding="utf-8"))


def load(name: str) -> dict:
    """A fresh copy of ``tests/data/webhooks/<name>.json``."""
    return copy.deepcopy(_load(name))


def _set_repo(obj: dict, full_name: str) -> None:
    owner, _, name = full_name.partition("/")
    obj["full_name"], obj["name"] = full_name, name
    obj.setdefault("owner", {})["login"] = owner


def pull_request(action: str, *, repository: str, number: int, head_sha: str, base_sha: str,
                 head_repository: str | None = None, head_ref: str = "pr", base_ref: str = "main",
                 default_branch: str = "main") -> dict:
    """A ``pull_request`` (or ``pull_request_target``: the same payload) event for ``action``."""
    payload = load(f"pull_request.{action}")
    pr = payload["pull_request"]
    payload["number"] = pr["number"] = number
    head_repository = head_repository or repository
    head, base = pr["head"], pr["base"]
    head.update(sha=head_sha, ref=head_ref, label=f"{head_repository.split('/')[0]}:{head_ref}")
    base.update(sha=base_sha, ref=base_ref, label=f"{repository.split('/')[0]}:{base_ref}")
    _set_repo(head["repo"], head_repository)
    _set_repo(base["repo"], repository)
    head["repo"]["fork"] = head_repository.lower() != repository.lower()
    _set_repo(payload["repository"], repository)
    payload["repository"]["default_branch"] = base["repo"]["default_branch"] = default_branch
    return payload


def merge_group(*, repository: str, head_sha: str, base_sha: str, base_ref: str = "main",
                pr_number: int = 104, default_branch: str = "main") -> dict:
    """A ``merge_group`` ``checks_requested`` event: the queue's group commit ``head_sha`` on ``base_sha``."""
    payload = load("merge_group.checks_requested")
    group = payload["merge_group"]
    group.update(head_sha=head_sha, base_sha=base_sha, base_ref=f"refs/heads/{base_ref}",
                 head_ref=f"refs/heads/gh-readonly-queue/{base_ref}/pr-{pr_number}-{base_sha}")
    group["head_commit"]["id"] = head_sha
    _set_repo(payload["repository"], repository)
    payload["repository"]["default_branch"] = default_branch
    return payload


def workflow_run(*, repository: str, head_sha: str, head_repository: str, head_branch: str,
                 event: str = "pull_request", pull_requests: list | None = None,
                 default_branch: str = "main") -> dict:
    """A ``workflow_run`` ``completed`` event for an upstream run on ``head_repository``'s ``head_branch``.

    For a fork GitHub sends ``pull_requests: []``, which is the default here."""
    payload = load("workflow_run.completed")
    run = payload["workflow_run"]
    run.update(head_sha=head_sha, head_branch=head_branch, event=event, pull_requests=pull_requests or [])
    run["head_commit"]["id"] = head_sha
    _set_repo(run["head_repository"], head_repository)
    _set_repo(run["repository"], repository)
    _set_repo(payload["repository"], repository)
    payload["repository"]["default_branch"] = default_branch
    return payload
