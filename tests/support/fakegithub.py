"""A fake GitHub REST API on 127.0.0.1 for tests: real HTTP, in-memory state, honest about bodies.

* Every request body is validated against its operation's ``requestBody`` schema in
  ``tests/data/github-openapi-subset.json`` (from @octokit/openapi 23.0.2, MIT, generated from
  github/rest-api-description), and every query parameter the operation declares against its
  schema (a ``state=opened`` is caught). An invalid request, or one to a route the fake does not
  know, gets 422/404 and is recorded in ``failures``; the ``fake_github`` fixture fails the test at
  teardown if any were recorded (clear ``failures`` in a test that provokes one on purpose).
* It answers as GitHub does where GitHub is surprising (each researched, see tests/data/webhooks/
  README.md): ``commits/{sha}/pulls`` lists no open pull request from a fork (the head commit is
  not in the base repository; the merged PR once it is); ``pulls?head=`` filters only in the form
  ``owner:branch`` (a bare branch name is ignored and every PR comes back); ``GET /user`` is 403
  "Resource not accessible by integration" for installation tokens (``GITHUB_TOKEN``, Apps), while
  GraphQL ``query { viewer { login } }`` (``POST /graphql``, GHES: ``/api/graphql``) answers every
  token with its login (``<app-slug>[bot]`` for an installation token).
* ``POST statuses/{sha}`` needs a commit the repository has, as on GitHub: a SHA not 40 hex digits
  is 422 "Validation Failed" ("sha must be a 40 character SHA1", activebridge/projectr#53 for
  ``HEAD``, FundingCircle/shipment_tracker#29 for a 7-digit SHA, alphagov/govuk-content-schemas#970
  for the body: GitHub does not expand an abbreviated SHA here, zendesk/samson#667), and a commit
  GitHub does not have is 422 "No commit found for SHA: <sha>" (rust-lang/homu#141,
  kubernetes/test-infra#21987); both bodies carry ``"status": "422"``, as GitHub's now do
  (r-lib/gh#229). A 40-digit SHA in capitals is refused like a short one: no public report says
  what GitHub does with it, and the product sends lowercase. The repository has what was pushed to
  it (``add_repository``: the test's bare ``origin``, asked with ``git cat-file``), the head and
  base of every pull request (``add_pull``: GitHub keeps a PR's head as ``refs/pull/N/head`` even
  from a fork, and CI posts a fork PR's status on the base repository,
  jenkinsci/pipeline-github-plugin#42) and its merge commit (``refs/pull/N/merge``), and what
  ``add_commit`` names. Kinder or stricter than GitHub, knowingly: a head force-pushed away stays
  found here (GitHub answers 422 once it is gone, readthedocs/readthedocs.org#9347), and a commit
  pushed only to a fork, with no PR, is not found here, while GitHub's API resolves commits across
  a fork network (octokit/octokit.net#1643; not shown for statuses). Either 422 is also recorded in
  ``failures`` (a test reporting on a short SHA or a commit it never pushed passes here and warns in
  production); clear it in a test that provokes one. There is no switch to accept any SHA: give the
  fake the commit instead.
* ``Authorization: Bearer <token>`` (or ``token <token>``) must name a token from ``add_user``;
  no header is an anonymous reader, who may not write.
* Lists page like GitHub: ``?page=&per_page=`` (default 30, max 100) with a ``Link`` header
  carrying ``rel="next"``, ``rel="last"`` (and ``prev``/``first``).
* ``requests`` records every request (method, path, query, body), faulted ones included.
* ``inject(method, path_regex, ...)`` queues a fault for the next matching request(s): a status
  with body and headers, ``reset=True`` (the socket is closed with RST), or ``delay=`` seconds
  before answering (a slow server, for timeouts), or ``drop_response=True`` (the request is
  served, then the socket is reset: a write that happened but whose answer was lost). Helpers
  below build GitHub's usual faults. ``FakeGitHub(prefix="/api/v3")`` serves like GHES.

Usage::

    def test_x(fake_github):
        gh = fake_github
        gh.add_user("tok-user", "idm-bot")                      # /user -> {"login": "idm-bot"}
        gh.add_user("tok-actions", "github-actions[bot]", app=True)   # /user -> 403, like GITHUB_TOKEN
        gh.add_user("tok-fork", "github-actions[bot]", app=True, read_only=True)  # writes -> 403
        gh.add_comment("octo", "models", 7, "hello", "someone")
        gh.add_repository("octo", "models", repo.origin)          # statuses only on pushed commits
        gh.add_pull("octo", "models", 7, head_sha="a" * 40)
        gh.add_pull("octo", "models", 8, head_sha="c" * 40, head_repo="alice/models", head_ref="patch-1")
        gh.inject("GET", r"/issues/7/comments", **server_error(502))
        client = make_client("tok-user", gh.url)

``fake_github`` gives each test a fresh ``FakeGitHub`` behind one server per test process (the URL
stays the same, so the client's cached ghapi instance is reused); use ``serve()`` for a server of
your own, e.g. ``serve(FakeGitHub(prefix="/api/v3"))``. Import both fixtures into a test module:
``from fakegithub import fake_github, fake_github_server  # noqa: F401``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest

SPEC_PATH = Path(__file__).parents[1] / "data" / "github-openapi-subset.json"
COMMENT_LIMIT = 65536
STATUS_DESCRIPTION_LIMIT = 140
STATUS_DOCS = "https://docs.github.com/rest/commits/statuses#create-a-commit-status"


# -- fault builders --------------------------------------------------------------------------------

def server_error(status: int = 502) -> dict:
    return dict(status=status, body={"message": "Server Error"})


def rate_limited_429(retry_after: int | str = 1) -> dict:
    return dict(status=429, body={"message": "API rate limit exceeded"},
                headers={"Retry-After": str(retry_after)})


def primary_rate_limit(reset_in: float = 1, reset_at: float | None = None) -> dict:
    reset = int(reset_at if reset_at is not None else time.time() + reset_in)
    return dict(status=403, headers={"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0",
                                     "x-ratelimit-used": "5000", "x-ratelimit-reset": str(reset)},
                body={"message": "API rate limit exceeded for installation ID 1.",
                      "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"})


def secondary_rate_limit(retry_after: int | None = None) -> dict:
    headers = {"x-ratelimit-remaining": "4000"}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return dict(status=403, headers=headers, body={
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"})


def forbidden_for_fork() -> dict:
    return dict(status=403, body={"message": "Resource not accessible by integration",
                                  "documentation_url": "https://docs.github.com/rest"})


def graphql_rate_limited(reset_in: float = 60) -> dict:
    """GraphQL's rate limit: HTTP 200 with an error of type RATE_LIMITED (renovatebot/renovate#21861,
    github/docs#22607), not the REST 403/429."""
    return dict(status=200, headers={"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0",
                                     "x-ratelimit-resource": "graphql",
                                     "x-ratelimit-reset": str(int(time.time() + reset_in))},
                body={"errors": [{"type": "RATE_LIMITED",
                                  "message": "API rate limit exceeded for installation ID 1."}]})


def not_found() -> dict:
    return dict(status=404, body={"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})


def body_too_long() -> dict:
    return dict(status=422, body=_too_long_body("IssueComment", "body", COMMENT_LIMIT))


def _too_long_body(resource: str, fld: str, limit: int) -> dict:
    return {"message": "Validation Failed",
            "errors": [{"resource": resource, "code": "custom", "field": fld,
                        "message": f"{fld} is too long (maximum is {limit} characters)"}],
            "documentation_url": "https://docs.github.com/rest"}


# -- the server ------------------------------------------------------------------------------------

@dataclass
class Fault:
    method: str
    path: re.Pattern
    status: int = 200
    body: Any = None                     # dict/list, str, or callable(Recorded) -> either
    headers: dict = field(default_factory=dict)
    reset: bool = False                  # close the socket with RST instead of answering
    delay: float = 0.0                   # sleep before answering (or before passing through)
    passthrough: bool = False            # after ``delay``, serve the request normally
    drop_response: bool = False          # serve the request (state changes), then reset the socket
    times: int = 1


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    body: Any
    auth: str | None      # the token's login, "anonymous", or "invalid" -- never the token
    headers: dict         # request headers without Authorization


def _openapi_to_jsonschema(schema: Any, top: bool = True) -> Any:
    """OpenAPI 3.0 ``nullable`` as JSON Schema; the top-level object refuses unknown keys.

    GitHub ignores unknown keys, but a fake that refuses them catches a misspelt field
    (``descripton``) that GitHub would silently drop.
    """
    if isinstance(schema, list):
        return [_openapi_to_jsonschema(s, False) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _openapi_to_jsonschema(v, False) for k, v in schema.items() if k != "nullable"}
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
    if top and out.get("type") == "object" and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


class _Spec:
    def __init__(self, path: Path):
        doc = json.loads(path.read_text(encoding="utf-8"))
        self.routes = []
        for template, ops in doc["paths"].items():
            rx = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
            for method, op in ops.items():
                body = (op.get("requestBody") or {}).get("content", {}).get("application/json", {})
                schema = body.get("schema")
                query = {q["name"]: _openapi_to_jsonschema(q.get("schema") or {}, False)
                         for q in op.get("parameters", []) if q.get("in") == "query"}
                self.routes.append((method.upper(), rx, op.get("operationId"), op.get("requestBody"),
                                    _openapi_to_jsonschema(schema) if schema else None, query))

    def find(self, method: str, path: str):
        for m, rx, op_id, request_body, schema, query in self.routes:
            if m == method and rx.match(path):
                return op_id, request_body, schema, query
        return None


def _query_problem(query: dict, declared: dict) -> str | None:
    """A declared query parameter whose value its schema refuses (GitHub ignores undeclared ones)."""
    for name, value in query.items():
        schema = declared.get(name)
        if schema is None:
            continue
        candidate: Any = value
        if schema.get("type") == "integer":
            try:
                candidate = int(value)
            except ValueError:
                return f"query {name}={value!r}: not an integer"
        try:
            jsonschema.validate(candidate, schema)
        except jsonschema.ValidationError as exc:
            return f"query {name}={value!r}: {exc.message}"
    return None


class FakeGitHub:
    """State and behaviour of the fake; the HTTP handler below only translates."""

    def __init__(self, spec_path: Path = SPEC_PATH, prefix: str = ""):
        self.spec = _Spec(spec_path)
        self.prefix = prefix.rstrip("/")  # "/api/v3" serves like GitHub Enterprise Server
        self.lock = threading.RLock()
        self.tokens: dict[str, dict] = {}
        self.comments: dict[tuple[str, str, int], list[dict]] = {}
        self.statuses: dict[tuple[str, str, str], list[dict]] = {}
        self.pulls: dict[tuple[str, str, int], dict] = {}
        self.commit_pulls: dict[tuple[str, str, str], list[int]] = {}
        # what each repository (owner, repo lowercased, as GitHub compares them) has: its bare git
        # directory (what was pushed) and commits named by add_pull/push_to_pull/close_pull/add_commit
        self.repositories: dict[tuple[str, str], Path] = {}
        self.commits: dict[tuple[str, str], set[str]] = {}
        self.graphql_path = "/api/graphql" if self.prefix else "/graphql"   # GHES: not under /api/v3
        self.requests: list[Recorded] = []
        self.failures: list[str] = []
        self.faults: list[Fault] = []
        self.comment_measure: Callable[[str], int] = len  # how GitHub counts a body's length
        self._next_id = 1000
        self.url = ""  # set when serving
        self.handler = None

    # -- seeding -------------------------------------------------------------------------------

    def add_user(self, token: str, login: str, *, app: bool = False, read_only: bool = False) -> None:
        """A token. ``app``: an installation token (``/user`` answers 403, like ``GITHUB_TOKEN``);
        ``read_only``: writes answer 403 "Resource not accessible by integration" (a fork PR)."""
        with self.lock:
            self.tokens[token] = {"login": login, "app": app, "read_only": read_only}

    def add_repository(self, owner: str, repo: str, git_dir: Path) -> None:
        """``owner/repo`` holds the commits of the git repository ``git_dir`` (a test's bare ``origin``):
        what was pushed is what GitHub has, looked up when a request names a commit."""
        with self.lock:
            self.repositories[(owner.lower(), repo.lower())] = Path(git_dir)

    def add_commit(self, owner: str, repo: str, sha: str) -> None:
        """A commit ``owner/repo`` has without a git repository to show it (a full 40-hex SHA)."""
        if not re.fullmatch(r"[0-9a-f]{40}", sha):
            raise ValueError(f"add_commit: {sha!r} is not a full lowercase 40-hex SHA")
        with self.lock:
            self.commits.setdefault((owner.lower(), repo.lower()), set()).add(sha)

    def has_commit(self, owner: str, repo: str, sha: str) -> bool:
        """Whether GitHub would find commit ``sha`` (40 hex digits) in ``owner/repo``."""
        key = (owner.lower(), repo.lower())
        with self.lock:
            if sha in self.commits.get(key, set()):
                return True
            git_dir = self.repositories.get(key)
        if git_dir is None:
            return False
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        p = subprocess.run(["git", "--git-dir", str(git_dir), "cat-file", "-t", sha], env=env,
                           capture_output=True, text=True)
        return p.returncode == 0 and p.stdout.strip() == "commit"

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_comment(self, owner: str, repo: str, number: int, body: str, login: str) -> dict:
        with self.lock:
            cid = self._new_id()
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            comment = {
                "id": cid,
                "node_id": f"IC_{cid}",
                "url": f"{self.url}/repos/{owner}/{repo}/issues/comments/{cid}",
                "html_url": f"https://github.com/{owner}/{repo}/pull/{number}#issuecomment-{cid}",
                "issue_url": f"{self.url}/repos/{owner}/{repo}/issues/{number}",
                "body": body,
                "user": {"login": login, "id": abs(hash(login)) % 10**6,
                         "type": "Bot" if login.endswith("[bot]") else "User"},
                "created_at": now,
                "updated_at": now,
                "author_association": "NONE",
            }
            self.comments.setdefault((owner, repo, number), []).append(comment)
            return comment

    def add_pull(self, owner: str, repo: str, number: int, *, head_sha: str, base_sha: str = "b" * 40,
                 head_repo: str | None = None, base_ref: str = "main", head_ref: str = "feature",
                 state: str = "open", merge_sha: str | None = None) -> dict:
        """A pull request from ``head_repo`` (default: this repository) branch ``head_ref``.

        As on GitHub, ``commits/{sha}/pulls`` finds it by its head commit only when that commit is in
        one of this repository's branches: a same-repository PR, not a fork's (see ``close_pull`` for
        after a merge). Statuses may still be posted on a fork's head: GitHub keeps it in this
        repository as ``refs/pull/N/head``, as it keeps ``merge_sha``, the test merge commit of an
        open PR (``refs/pull/N/merge``, the PR's ``merge_commit_sha``), and the base commit.
        """
        with self.lock:
            full = f"{owner}/{repo}"
            head_full = head_repo or full
            pr = {
                "id": self._new_id(), "number": number, "state": state, "title": f"PR {number}",
                "html_url": f"https://github.com/{full}/pull/{number}",
                "url": f"{self.url}/repos/{full}/pulls/{number}",
                "user": {"login": head_full.split("/")[0], "type": "User"},
                "merged_at": None, "merge_commit_sha": merge_sha,
                "head": {"label": f"{head_full.split('/')[0]}:{head_ref}", "sha": head_sha, "ref": head_ref,
                         "repo": {"full_name": head_full, "owner": {"login": head_full.split("/")[0]}}},
                "base": {"label": f"{owner}:{base_ref}", "sha": base_sha, "ref": base_ref,
                         "repo": {"full_name": full, "owner": {"login": owner}}},
            }
            self.pulls[(owner, repo, number)] = pr
            for sha in (head_sha, base_sha, merge_sha):
                if sha:
                    self.add_commit(owner, repo, sha)
            if head_full.lower() == full.lower():
                self.commit_pulls.setdefault((owner, repo, head_sha), []).append(number)
            return pr

    def push_to_pull(self, owner: str, repo: str, number: int, head_sha: str) -> None:
        """A new commit on the PR's head branch: its head moves on."""
        with self.lock:
            pr = self.pulls[(owner, repo, number)]
            pr["head"]["sha"] = head_sha
            self.add_commit(owner, repo, head_sha)
            if pr["head"]["repo"]["full_name"].lower() == f"{owner}/{repo}".lower():
                self.commit_pulls.setdefault((owner, repo, head_sha), []).append(number)

    def close_pull(self, owner: str, repo: str, number: int, merge_sha: str | None = None) -> None:
        """Close the PR; with ``merge_sha`` it was merged, and its commits are now in the repository."""
        with self.lock:
            pr = self.pulls[(owner, repo, number)]
            pr["state"] = "closed"
            if merge_sha:
                pr["merged_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                pr["merge_commit_sha"] = merge_sha
                self.add_commit(owner, repo, merge_sha)
                for sha in (pr["head"]["sha"], merge_sha):
                    numbers = self.commit_pulls.setdefault((owner, repo, sha), [])
                    if number not in numbers:
                        numbers.append(number)

    def inject(self, method: str, path_regex: str, *, times: int = 1, **response: Any) -> Fault:
        """Queue a fault for the next ``times`` requests whose method and path match."""
        fault = Fault(method=method.upper(), path=re.compile(path_regex), times=times, **response)
        with self.lock:
            self.faults.append(fault)
        return fault

    # -- reading back ----------------------------------------------------------------------------

    def issue_comments(self, owner: str, repo: str, number: int) -> list[dict]:
        with self.lock:
            return list(self.comments.get((owner, repo, number), []))

    def writes(self) -> list[Recorded]:
        """Requests that change something: not GETs, and not GraphQL queries (POSTs that only read)."""
        return [r for r in self.requests if r.method not in ("GET", "HEAD")
                and not (r.path == self.graphql_path and isinstance(r.body, dict)
                         and str(r.body.get("query", "")).lstrip().startswith(("query", "{")))]

    def count(self, method: str | None = None, path_regex: str | None = None) -> int:
        return sum(1 for r in self.requests if (method is None or r.method == method)
                   and (path_regex is None or re.search(path_regex, r.path)))

    # -- handling ---------------------------------------------------------------------------------

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.method in (method, "*") and fault.path.search(path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def fail(self, message: str) -> None:
        with self.lock:
            self.failures.append(message)

    def handle(self, method: str, path: str, query: dict, body: Any, who: dict | None):
        """(status, json body, extra headers) for a request that passed validation."""
        def need_write():
            if who is None:
                return 401, {"message": "Requires authentication"}, {}
            if who["read_only"]:
                return forbidden_for_fork()["status"], forbidden_for_fork()["body"], {}
            return None

        if path == "/user" and method == "GET":
            docs = "https://docs.github.com/rest/users/users#get-the-authenticated-user"
            if who is None:
                return 401, {"message": "Requires authentication", "documentation_url": docs}, {}
            if who["app"]:
                return 403, {"message": "Resource not accessible by integration", "documentation_url": docs,
                             "status": "403"}, {}
            return 200, {"login": who["login"], "id": 1, "type": "User"}, {}

        m = re.match(r"^/repos/([^/]+)/([^/]+)/(.*)$", path)
        if not m:
            return 404, not_found()["body"], {}
        owner, repo, rest = m.groups()

        if mm := re.fullmatch(r"issues/(\d+)/comments", rest):
            number = int(mm.group(1))
            if method == "GET":
                return self.page(self.issue_comments(owner, repo, number), path, query)
            if denied := need_write():
                return denied
            if self.comment_measure(body["body"]) > COMMENT_LIMIT:
                return 422, _too_long_body("IssueComment", "body", COMMENT_LIMIT), {}
            return 201, self.add_comment(owner, repo, number, body["body"], who["login"]), {}

        if mm := re.fullmatch(r"issues/comments/(\d+)", rest):
            cid = int(mm.group(1))
            with self.lock:
                found = [(k, c) for k, cs in self.comments.items() for c in cs
                         if c["id"] == cid and k[:2] == (owner, repo)]
                if not found:
                    return 404, not_found()["body"], {}
                key, comment = found[0]
                if method == "GET":
                    return 200, comment, {}
                if denied := need_write():
                    return denied
                if comment["user"]["login"] != who["login"]:
                    return 403, {"message": "Must have admin rights to Repository."}, {}
                if method == "DELETE":
                    self.comments[key].remove(comment)
                    return 204, None, {}
                if self.comment_measure(body["body"]) > COMMENT_LIMIT:
                    return 422, _too_long_body("IssueComment", "body", COMMENT_LIMIT), {}
                comment["body"] = body["body"]
                comment["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                return 200, comment, {}

        if mm := re.fullmatch(r"statuses/([^/]+)", rest):
            if denied := need_write():
                return denied
            sha = mm.group(1)
            # GitHub's answers, and failures of the test unless provoked on purpose: a test that reports on
            # a short SHA or a commit it never pushed would pass here and warn in production
            if not re.fullmatch(r"[0-9a-f]{40}", sha):
                self.fail(f"POST {path}: 422 sha must be a 40 character SHA1 (a full lowercase SHA: git rev-parse "
                          "prints one)")
                return 422, {"message": "Validation Failed",
                             "errors": [{"resource": "Status", "code": "custom", "field": "sha",
                                         "message": "sha must be a 40 character SHA1"}],
                             "documentation_url": STATUS_DOCS, "status": "422"}, {}
            if not self.has_commit(owner, repo, sha):
                self.fail(f"POST {path}: 422 No commit found for SHA: {sha} (push it to the origin given to "
                          "add_repository, or name it in add_pull/add_commit)")
                return 422, {"message": f"No commit found for SHA: {sha}", "documentation_url": STATUS_DOCS,
                             "status": "422"}, {}
            if len(body.get("description") or "") > STATUS_DESCRIPTION_LIMIT:
                return 422, _too_long_body("Status", "description", STATUS_DESCRIPTION_LIMIT), {}
            status = {"id": self._new_id(), "state": body["state"],
                      "context": body.get("context", "default"),
                      "description": body.get("description"), "target_url": body.get("target_url"),
                      "creator": {"login": who["login"]}}
            with self.lock:
                self.statuses.setdefault((owner, repo, sha), []).append(status)
            return 201, status, {}

        if mm := re.fullmatch(r"commits/([0-9a-f]{4,64})/pulls", rest):
            with self.lock:
                numbers = self.commit_pulls.get((owner, repo, mm.group(1)), [])
                prs = [self.pulls[(owner, repo, n)] for n in numbers]
            return self.page(prs, path, query)

        if rest == "pulls":
            return self.page(self.list_pulls(owner, repo, query), path, query)

        if mm := re.fullmatch(r"pulls/(\d+)", rest):
            with self.lock:
                pr = self.pulls.get((owner, repo, int(mm.group(1))))
            return (200, pr, {}) if pr else (404, not_found()["body"], {})

        return 404, not_found()["body"], {}

    def list_pulls(self, owner: str, repo: str, query: dict) -> list[dict]:
        """``GET /repos/{o}/{r}/pulls``: ``state`` (default open), ``head`` only as ``owner:branch``
        (a bare branch name filters nothing, as on GitHub), ``base``; newest first."""
        state = query.get("state", "open")
        head = query.get("head")
        with self.lock:
            prs = [pr for (o, r, _), pr in self.pulls.items() if (o, r) == (owner, repo)]
        if state != "all":
            prs = [pr for pr in prs if pr["state"] == state]
        if head and ":" in head:
            user, _, ref = head.partition(":")
            prs = [pr for pr in prs if pr["head"]["repo"]["owner"]["login"].lower() == user.lower()
                   and pr["head"]["ref"] == ref]
        if query.get("base"):
            prs = [pr for pr in prs if pr["base"]["ref"] == query["base"]]
        return sorted(prs, key=lambda pr: pr["id"], reverse=query.get("direction", "desc") == "desc")

    def graphql(self, body: Any, who: dict | None):
        """``POST /graphql``: the one query idm-gate sends, ``viewer { login }``."""
        if who is None:
            return 401, {"message": "This endpoint requires you to be authenticated.",
                         "documentation_url": "https://docs.github.com/graphql/guides/forming-calls-with-graphql"
                                              "#authenticating-with-graphql"}, {}
        problem = None
        if not isinstance(body, dict) or not isinstance(body.get("query"), str) or \
                set(body) - {"query", "variables", "operationName"}:
            problem = "body must be {query: string, variables?: object, operationName?: string}"
        elif re.sub(r"\s+", " ", body["query"]).strip() not in ("query { viewer { login } }", "{ viewer { login } }"):
            problem = f"query {body['query']!r}: the fake answers only 'query {{ viewer {{ login }} }}'"
        if problem:
            self.fail(f"POST {self.graphql_path}: {problem}")
            return 200, {"errors": [{"message": problem}]}, {}
        return 200, {"data": {"viewer": {"login": who["login"]}}}, {}

    def page(self, items: list, path: str, query: dict):
        try:
            per_page = min(int(query.get("per_page", 30)), 100)
            page = int(query.get("page", 1))
        except ValueError:
            return 422, {"message": "Invalid page"}, {}
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page: page * per_page]
        link = lambda p, rel: f'<{self.url}{path}?per_page={per_page}&page={p}>; rel="{rel}"'  # noqa: E731
        links = []
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        return 200, chunk, ({"Link": ", ".join(links)} if links else {})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeGitHub  # set on a subclass per server

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _send(self, status: int, body: Any, headers: dict | None = None) -> None:
        data = b"" if body is None else (body if isinstance(body, bytes) else
                                         (body.encode() if isinstance(body, str) else json.dumps(body).encode()))
        self.send_response(status)
        if body is not None and not any(k.lower() == "content-type" for k in (headers or {})):
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-GitHub-Request-Id", "FAKE:0001")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _dispatch(self) -> None:
        fake = self.fake
        split = urlsplit(self.path)
        path, query = split.path, {k: v[-1] for k, v in parse_qs(split.query).items()}
        if fake.prefix and path != fake.graphql_path:
            if not path.startswith(fake.prefix + "/"):
                fake.fail(f"{self.command} {path}: outside the API prefix {fake.prefix}")
                self._send(404, not_found()["body"])
                return
            path = path[len(fake.prefix):]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""

        auth = self.headers.get("Authorization")
        who, auth_label = None, "anonymous"
        if auth:
            scheme, _, token = auth.partition(" ")
            who = fake.tokens.get(token) if scheme.lower() in ("bearer", "token") else None
            auth_label = who["login"] if who else "invalid"

        body: Any = None
        body_error = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError as exc:
                body_error = f"body is not JSON: {exc}"
        rec = Recorded(self.command, path, query, body, auth_label,
                       {k: v for k, v in self.headers.items() if k.lower() != "authorization"})
        with fake.lock:
            fake.requests.append(rec)

        fault = fake.take_fault(self.command, path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.reset:
                self._reset()
                return
            if not fault.passthrough and not fault.drop_response:
                out = fault.body(rec) if callable(fault.body) else fault.body
                try:
                    self._send(fault.status, out, fault.headers)
                except OSError:
                    pass  # the client gave up (a timeout test)
                return

        if auth and who is None:
            self._send(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
            return

        if path == fake.graphql_path and self.command == "POST":
            if body_error:
                fake.fail(f"POST {path}: {body_error}")
                self._send(400, {"message": "Problems parsing JSON"})
                return
            self._send(*fake.graphql(body, who))
            return

        found = fake.spec.find(self.command, path)
        if found is None:
            fake.fail(f"{self.command} {path}: no such operation in the OpenAPI subset")
            self._send(404, not_found()["body"])
            return
        if found is not None:
            op_id, request_body, schema, declared = found
            problem = body_error or _query_problem(query, declared)
            if problem is None and request_body is not None:
                if body is None and request_body.get("required"):
                    problem = "request body required"
                elif body is not None and "json" not in (self.headers.get("Content-Type") or ""):
                    problem = f"Content-Type {self.headers.get('Content-Type')!r} is not JSON"
                elif body is not None and schema is not None:
                    try:
                        jsonschema.validate(body, schema)
                    except jsonschema.ValidationError as exc:
                        where = "/".join(map(str, exc.absolute_path)) or "(body)"
                        problem = f"{where}: {exc.message}"
            elif problem is None and body is not None:
                problem = "a body was sent to an operation that takes none"
            if problem:
                fake.fail(f"{self.command} {path} ({op_id}): {problem}")
                self._send(422, {"message": "Invalid request.", "errors": [problem]})
                return

        status, out, headers = fake.handle(self.command, path, query, body, who)
        if fault is not None and fault.drop_response:
            self._reset()
            return
        self._send(status, out, headers)

    def _reset(self) -> None:
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _dispatch


@contextmanager
def serve(fake: FakeGitHub | None = None):
    """Run ``fake`` (a new one by default) on 127.0.0.1 on a free port; yields it with ``url`` set."""
    fake = fake or FakeGitHub()
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.block_on_close = False
    fake.url = f"http://127.0.0.1:{server.server_address[1]}{fake.prefix}"
    fake.handler = handler
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="session")
def fake_github_server():
    """One server per test process: its URL stays the same, so clients built for it are reused."""
    with serve() as fake:
        yield fake


@pytest.fixture
def fake_github(fake_github_server):
    """A fresh ``FakeGitHub`` (empty state, no faults) behind the session's server.

    The test fails at teardown if any request broke the API description.
    """
    fake = FakeGitHub()
    fake.url = fake_github_server.url
    fake_github_server.handler.fake = fake
    try:
        yield fake
    finally:
        fake_github_server.handler.fake = fake_github_server
    assert not fake.failures, "requests the real GitHub would refuse:\n" + "\n".join(fake.failures)
