"""The GitHub Actions runner's environment: the event payload and the action's inputs.

Everything is read from an explicit ``environ`` mapping (``os.environ`` by default) so that tests and
a local run can hand in a made-up environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, overload

from idm_gate.errors import InputError, where
from idm_gate.jsonsafe import JSONError, load_json

DEFAULT_API_URL = "https://api.github.com"
PR_EVENTS = ("pull_request", "pull_request_target")
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")


@dataclass(frozen=True)
class RunnerContext:
    """What the workflow run is about, from ``GITHUB_*`` variables and the event payload."""

    event_name: str                  # GITHUB_EVENT_NAME: "pull_request", "push", "workflow_run", ...
    owner: str                       # from GITHUB_REPOSITORY "owner/name"
    repo: str
    api_url: str                     # GITHUB_API_URL (GHES: https://host/api/v3), no trailing slash
    sha: str | None                  # GITHUB_SHA (for a PR: the merge commit, not the head)
    ref: str | None                  # GITHUB_REF
    base_ref: str | None             # GITHUB_BASE_REF (PR events), the target branch of a merge_group
    workspace: str | None            # GITHUB_WORKSPACE
    pr_number: int | None = None
    head_sha: str | None = None      # pull_request.head.sha, or workflow_run.head_sha
    base_sha: str | None = None      # pull_request.base.sha
    is_fork: bool = False            # the head repository is not the base repository
    default_branch: str | None = None
    triggering_event: str | None = None   # workflow_run.event: what started the upstream run
    head_repository: str | None = None    # full name of the PR's (or upstream run's) head repo
    event_action: str | None = None       # the payload's "action": "opened", "synchronize", "closed", ...
    head_branch: str | None = None        # pull_request.head.ref, workflow_run.head_branch
    head_owner: str | None = None         # login owning the head repository (a fork's owner)

    @property
    def commit_sha(self) -> str | None:
        """The commit a status belongs on: the PR's head, the upstream run's head, else GITHUB_SHA."""
        return self.head_sha or self.sha


def _full_name(repo_obj: object) -> str | None:
    if isinstance(repo_obj, dict):
        name = repo_obj.get("full_name")
        return name if isinstance(name, str) else None
    return None


def _owner(repo_obj: object) -> str | None:
    """``repo.owner.login``, else the part of ``full_name`` before the slash."""
    if not isinstance(repo_obj, dict):
        return None
    owner = repo_obj.get("owner")
    login = owner.get("login") if isinstance(owner, dict) else None
    if isinstance(login, str):
        return login
    name = _full_name(repo_obj)
    return name.split("/", 1)[0] if name and "/" in name else None


def load_event(path: str) -> dict[str, Any]:
    """The event payload at ``path``; a missing or malformed file is an InputError."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise InputError(f"{where(path)}: cannot read the event payload ({exc.strerror}); "
                         "GITHUB_EVENT_PATH must name the runner's event JSON") from None
    try:
        payload = load_json(data, where(path), allow_nan=True, duplicate_keys="last", allow_bom=False)
    except JSONError as exc:
        detail = f"{exc.place}: {exc.reason}" if exc.place else exc.reason
        raise InputError(f"{where(path)}: the event payload is not valid JSON ({detail}); "
                         "GITHUB_EVENT_PATH must name the runner's event JSON") from None
    if not isinstance(payload, dict):
        raise InputError(f"{where(path)}: the event payload is a {type(payload).__name__}, "
                         "expected a JSON object")
    return payload


def read_context(environ: Mapping[str, str] | None = None) -> RunnerContext:
    """Read the runner's environment and, when ``GITHUB_EVENT_PATH`` is set, its event payload."""
    env = os.environ if environ is None else environ
    event_name = env.get("GITHUB_EVENT_NAME", "").strip()
    repository = env.get("GITHUB_REPOSITORY", "").strip()
    owner, _, repo = repository.partition("/")
    if not owner or not repo or "/" in repo:
        raise InputError(f"GITHUB_REPOSITORY: {repository!r} is not 'owner/name'; "
                         "run inside GitHub Actions or set it, e.g. GITHUB_REPOSITORY=octo/models")
    api_url = (env.get("GITHUB_API_URL") or DEFAULT_API_URL).strip().rstrip("/")
    if not api_url.startswith(("https://", "http://")):
        raise InputError(f"GITHUB_API_URL: {api_url!r} is not an http(s) URL")

    event_path = env.get("GITHUB_EVENT_PATH", "").strip()
    payload = load_event(event_path) if event_path else {}

    fields: dict[str, Any] = {}
    repository_obj = payload.get("repository")
    if isinstance(repository_obj, dict) and isinstance(repository_obj.get("default_branch"), str):
        fields["default_branch"] = repository_obj["default_branch"]

    if isinstance(payload.get("action"), str):
        fields["event_action"] = payload["action"]

    if event_name in PR_EVENTS:
        pr = payload.get("pull_request")
        if not isinstance(pr, dict):
            raise InputError(f"{where(event_path or 'GITHUB_EVENT_PATH', 'pull_request')}: missing "
                             f"from a {event_name} event payload")
        head_obj, base_obj = pr.get("head"), pr.get("base")
        head: dict[str, Any] = head_obj if isinstance(head_obj, dict) else {}
        base: dict[str, Any] = base_obj if isinstance(base_obj, dict) else {}
        number = pr.get("number", payload.get("number"))
        if not isinstance(number, int) or isinstance(number, bool):
            raise InputError(f"{where(event_path, 'pull_request.number')}: {number!r} is not a number")
        head_repo, base_repo = _full_name(head.get("repo")), _full_name(base.get("repo"))
        fields.update(
            pr_number=number,
            head_sha=head.get("sha"),
            base_sha=base.get("sha"),
            head_repository=head_repo,
            head_branch=head.get("ref") if isinstance(head.get("ref"), str) else None,
            head_owner=_owner(head.get("repo")),
            # A deleted fork has head.repo == null: treat it as a fork (read-only token, untrusted).
            is_fork=head_repo is None or (base_repo is not None and head_repo.lower() != base_repo.lower()),
        )
    elif event_name == "workflow_run":
        run = payload.get("workflow_run")
        if not isinstance(run, dict):
            raise InputError(f"{where(event_path or 'GITHUB_EVENT_PATH', 'workflow_run')}: missing "
                             "from a workflow_run event payload")
        head_repo, base_repo = _full_name(run.get("head_repository")), _full_name(run.get("repository"))
        base_repo = base_repo or repository
        prs = run.get("pull_requests") or []
        first = prs[0] if prs and isinstance(prs[0], dict) else {}
        fields.update(
            head_sha=run.get("head_sha"),
            triggering_event=run.get("event"),
            head_repository=head_repo,
            head_branch=run.get("head_branch") if isinstance(run.get("head_branch"), str) else None,
            head_owner=_owner(run.get("head_repository")),
            # Runs from forks list no pull_requests (actions/runner#3444): publish looks the PR up.
            pr_number=first.get("number") if isinstance(first.get("number"), int) else None,
            is_fork=head_repo is not None and head_repo.lower() != base_repo.lower(),
        )
        if isinstance(first.get("base"), dict):
            fields["base_sha"] = first["base"].get("sha")
    elif event_name == "merge_group":
        # A merge queue's group: head_sha is the commit to check (GITHUB_SHA), base_sha the target
        # branch's commit it was built on, base_ref the target's full ref. GITHUB_BASE_REF is empty.
        mg = payload.get("merge_group")
        if not isinstance(mg, dict):
            raise InputError(f"{where(event_path or 'GITHUB_EVENT_PATH', 'merge_group')}: missing "
                             "from a merge_group event payload")
        target = mg.get("base_ref")
        fields.update(head_sha=mg.get("head_sha") if isinstance(mg.get("head_sha"), str) else None,
                      base_sha=mg.get("base_sha") if isinstance(mg.get("base_sha"), str) else None)
        if isinstance(target, str) and target:
            fields["base_ref"] = target.removeprefix("refs/heads/")

    base_ref = env.get("GITHUB_BASE_REF") or fields.pop("base_ref", None)
    fields.pop("base_ref", None)
    return RunnerContext(
        event_name=event_name,
        owner=owner,
        repo=repo,
        api_url=api_url,
        sha=env.get("GITHUB_SHA") or None,
        ref=env.get("GITHUB_REF") or None,
        base_ref=base_ref,
        workspace=env.get("GITHUB_WORKSPACE") or None,
        **fields,
    )


def _input_var(name: str) -> str:
    # actions/toolkit: spaces become underscores, hyphens are kept, upper-cased.
    return "INPUT_" + name.replace(" ", "_").upper()


def ref_name(environ: Mapping[str, str] | None = None) -> str | None:
    """The branch or tag a workflow run is for (``GITHUB_REF_NAME``); None outside Actions."""
    env = os.environ if environ is None else environ
    return env.get("GITHUB_REF_NAME") or None


@overload
def get_input(name: str, default: str, environ: Mapping[str, str] | None = None) -> str: ...
@overload
def get_input(name: str, default: None = None, environ: Mapping[str, str] | None = None) -> str | None: ...
def get_input(name: str, default: str | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """The action input ``name`` from ``INPUT_<NAME>`` (hyphens kept), whitespace stripped.

    An unset or empty input gives ``default``.
    """
    env = os.environ if environ is None else environ
    value = env.get(_input_var(name), "").strip()
    return value if value else default


def get_bool_input(name: str, default: bool = False, environ: Mapping[str, str] | None = None) -> bool:
    """A boolean input, accepted only as the YAML 1.2 core schema spells it, like actions/toolkit."""
    value = get_input(name, None, environ)
    if value is None:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InputError(f"input {name}: {value!r} is not a boolean; "
                     "use one of true | True | TRUE | false | False | FALSE")
