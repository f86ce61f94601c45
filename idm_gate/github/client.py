"""The GitHub REST client: ghapi's ``GhApi`` behind one retry policy and one error type.

Every call goes through ghapi (its generated operations, or its transport for ``Link`` URLs) and
through ``GitHubClient._call``, which is the only retry loop, under ``ClientPolicy.retry`` (an
:class:`idm_gate.retry.RetryPolicy`, ``GITHUB_RETRY`` by default):

* connection errors, timeouts and 5xx: retried with exponential backoff (``base_delay_s``, doubling),
  at most ``attempts`` tries and ``budget_s`` seconds of sleeping in all;
* 429, and 403 that is a rate limit: wait what GitHub asks (``Retry-After``, else
  ``x-ratelimit-reset`` when ``x-ratelimit-remaining`` is 0); a secondary rate limit without
  ``Retry-After`` waits a minute, as GitHub's docs ask. A wait longer than ``max_delay_s`` is not
  attempted: the call fails at once and says when the limit resets, rather than burning CI minutes;
* every other 4xx: raised at once.

A POST that creates something (a comment) is not repeated after an answer that may mean it was
done (a read timeout, a reset connection, a 5xx): the error comes back with ``ambiguous=True`` and
the caller checks before trying again, so a flaky network never leaves two sticky comments.

ghapi (2.1.4) notes, for whoever upgrades it:

* ``import ghapi.all`` (through ``ghapi.actions``) sets ``CONTEXT_GITHUB``, ``CONTEXT_NEEDS`` and
  ``GITHUB_REPOSITORY=octocat/Hello-World`` in ``os.environ`` when unset. We import only
  ``ghapi.core`` and still restore the environment if an import changed it.
* ``GhApi(token=None)`` falls back to ``GITHUB_TOKEN`` and ``GITHUB_JWT_TOKEN`` (the JWT even wins
  over an explicit token). We build it with ``authenticate=False`` and pass the header per call.
* Generated operations raise ``fasttransport.errors.APIError`` (``status_code``, ``response`` for
  HTTP errors; ``raw`` holds the ``httpx2.RequestError`` for network errors). The transport
  itself raises ``httpx2.HTTPStatusError`` / ``httpx2.RequestError``. Its own retry of connect
  errors (``transport.retries``, 0.5 s then 1 s) is switched off so ours is the only one.
"""

from __future__ import annotations

import email.utils
import functools
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from idm_gate.errors import InputError, RemoteError, truncate
from idm_gate.jsonsafe import JSONError, load_json
from idm_gate.retry import RetryPolicy

if TYPE_CHECKING:
    import httpx2

log = logging.getLogger("idm_gate.github")
T = TypeVar("T")

STATUS_STATES = ("error", "failure", "pending", "success")
STATUS_DESCRIPTION_LIMIT = 140


class GitHubAPIError(RemoteError):
    """A GitHub API call failed: ``status`` is the HTTP status, or None when no answer came.

    ``str()`` is one line, never holding the token. ``ambiguous`` is set when a create may have
    happened anyway (timeout or 5xx after the request was sent). ``rate_limited`` is set when the
    answer was a rate limit: a 403 that says nothing about the token's permissions.
    """

    def __init__(self, status: int | None, message: str, *, method: str = "", path: str = "",
                 ambiguous: bool = False, reset_in: float | None = None, rate_limited: bool = False):
        self.status = status
        self.message = " ".join(str(message).split())
        self.method = method
        self.path = path
        self.ambiguous = ambiguous
        self.reset_in = reset_in
        self.rate_limited = rate_limited or reset_in is not None
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.method} {self.path}".strip()
        code = str(self.status) if self.status is not None else "no response"
        return f"GitHub API {where}: {code}: {self.message}" if where else f"GitHub API: {code}: {self.message}"


# Per call: 4 tries, waits of 1, 2, 4 s after a 5xx or network error (a rate limit waits what GitHub
# asks), at most 60 s each and 180 s of sleeping in all.
GITHUB_RETRY = RetryPolicy(attempts=4, base_delay_s=1.0, max_delay_s=60.0, budget_s=180.0)


@dataclass(frozen=True, kw_only=True)
class ClientPolicy:
    """How hard one call tries (``retry``: its ``max_delay_s`` is also the longest rate-limit wait
    accepted; a limit asking for more fails at once; its ``budget_s`` counts seconds slept), how long
    one request may take, and the wait for a secondary rate limit that names none. Environment
    overrides (for tests and impatient users) in ``ENV``."""

    retry: RetryPolicy = GITHUB_RETRY
    timeout: float = 30.0         # seconds per request (connect and read)
    secondary_wait: float = 60.0  # a secondary rate limit without Retry-After, doubling per attempt

    # variable -> the field of ``retry`` it sets ("timeout" sets this policy's own)
    ENV = {
        "IDM_GATE_GH_ATTEMPTS": "attempts",
        "IDM_GATE_GH_BACKOFF": "base_delay_s",
        "IDM_GATE_GH_MAX_WAIT": "max_delay_s",
        "IDM_GATE_GH_TOTAL_WAIT": "budget_s",
        "IDM_GATE_GH_TIMEOUT": "timeout",
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ClientPolicy:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for var, field_name in cls.ENV.items():
            raw = env.get(var, "").strip()
            if not raw:
                continue
            try:
                value = int(raw) if field_name == "attempts" else float(raw)
            except ValueError:
                raise InputError(f"{var}: {raw!r} is not a number") from None
            if value < (1 if field_name == "attempts" else 0):
                raise InputError(f"{var}: {raw!r} must be {'at least 1' if field_name == 'attempts' else '>= 0'}")
            values[field_name] = value
        timeout = values.pop("timeout", cls.timeout)
        return cls(retry=replace(GITHUB_RETRY, **values), timeout=timeout)


def _import_ghapi() -> Any:
    """``ghapi.core.GhApi``, imported so that the process environment is left as it was."""
    saved = dict(os.environ)
    try:
        from ghapi.core import GhApi
    finally:
        if dict(os.environ) != saved:
            for key in set(os.environ) - set(saved):
                del os.environ[key]
            os.environ.update(saved)
    return GhApi


def make_client(token: str | None, api_url: str = "https://api.github.com", *,
                policy: ClientPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                clock: Callable[[], float] = time.time) -> GitHubClient:
    """A client for ``api_url`` (github.com or a GHES ``https://host/api/v3``).

    The token is used only as given: never read from ``GITHUB_TOKEN`` behind the caller's back.
    Without one, calls go out unauthenticated (reads of public data only).
    """
    policy = policy or ClientPolicy.from_env()
    api_url = api_url.rstrip("/")
    api = _ghapi(api_url, policy.timeout)
    return GitHubClient(api, token=token, api_url=api_url, policy=policy, sleep=sleep, clock=clock)


@functools.lru_cache(maxsize=16)
def _ghapi(api_url: str, timeout: float) -> Any:
    """One token-free ``GhApi`` per API URL and timeout, shared by the clients of a process.

    Building one generates ~1,000 operations (0.2 s), and a fresh ``httpx2.Client`` per request
    (ghapi's default) costs a TLS context and a connection each time; so the instance is cached
    with a persistent, pooled HTTP client. The token is never stored in it: every call passes its
    ``Authorization`` header, so clients with different tokens cannot mix them up.
    """
    import httpx2

    GhApi = _import_ghapi()
    api = GhApi(gh_host=api_url, sync=True, authenticate=False, timeout=timeout)
    api.transport.retries = 0  # one retry policy: ours
    api.transport.client = httpx2.Client(timeout=timeout, follow_redirects=True)
    api.transport.base_headers["X-GitHub-Api-Version"] = "2022-11-28"
    return api


def _parse_links(header: str | None) -> dict[str, str]:
    links = {}
    for part in (header or "").split(","):
        m = re.match(r'\s*<([^>]*)>\s*;(.*)', part)
        if m:
            rel = re.search(r'rel="?([^";]+)"?', m.group(2))
            if rel:
                for name in rel.group(1).split():
                    links[name] = m.group(1)
    return links


def _retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now, 0.0)


class GitHubClient:
    """The calls idm-gate makes, each through the retry policy. ``requests`` counts HTTP attempts."""

    def __init__(self, api: Any, *, token: str | None, api_url: str, policy: ClientPolicy,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time):
        self._api = api  # a ghapi GhApi: its generated operations are untyped
        self._token = token
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.api_url = api_url
        self.policy = policy
        self._sleep = sleep
        self._clock = clock
        self.requests = 0
        self.request_log: list[tuple[str, str]] = []  # (method, path) of every attempt

    # -- plumbing -------------------------------------------------------------------------------

    def _redact(self, text: object) -> str:
        text = str(text)
        if self._token:
            text = text.replace(self._token, "***")
        return re.sub(r"(?i)\b(bearer|token)\s+[A-Za-z0-9_.\-]{8,}", r"\1 ***", text)

    def _fail(self, status: int | None, message: str, method: str, path: str, **kw: Any) -> GitHubAPIError:
        return GitHubAPIError(status, self._redact(message), method=method, path=path, **kw)

    @staticmethod
    def _error_parts(exc: BaseException) -> tuple[httpx2.Response | None, BaseException | None]:
        """(response or None, request error or None) from whatever ghapi's layers raised."""
        import httpx2
        from fasttransport.errors import APIError  # type: ignore[import-untyped]  # ships no types

        if isinstance(exc, APIError):
            if exc.response is not None:
                return exc.response, None
            if isinstance(exc.raw, httpx2.RequestError):
                return None, exc.raw
            return None, exc
        if isinstance(exc, httpx2.HTTPStatusError):
            return exc.response, None
        if isinstance(exc, httpx2.RequestError):
            return None, exc
        return None, None

    @staticmethod
    def _message(resp: httpx2.Response) -> str:
        try:
            data = load_json(resp.content, "GitHub error answer", allow_nan=True, duplicate_keys="last",
                             allow_bom=True)
        except JSONError:
            return (resp.text or resp.reason_phrase or "").strip()[:300]
        if not isinstance(data, dict):
            return str(data)[:300]
        parts = [str(data.get("message") or "")]
        errors = data.get("errors") or []
        if not isinstance(errors, list):
            # lately one string on a statuses 422 (r-lib/gh#229): one detail, not a list of letters
            errors = [errors]
        for err in errors:
            if isinstance(err, dict):
                detail = err.get("message") or " ".join(str(err.get(k)) for k in ("field", "code") if err.get(k))
                if detail:
                    parts.append(str(detail))
            elif err:
                parts.append(str(err))
        return "; ".join(p for p in parts if p) or resp.reason_phrase

    def _rate_limit_wait(self, resp: httpx2.Response, message: str, attempt: int) -> float | None:
        """Seconds GitHub asks us to wait, or None when ``resp`` is not a rate limit."""
        status, headers = resp.status_code, resp.headers
        now = self._clock()
        retry_after = _retry_after(headers.get("retry-after"), now)
        remaining = headers.get("x-ratelimit-remaining")
        lowered = message.lower()
        if status not in (403, 429):
            return None
        if retry_after is not None:
            return retry_after
        if remaining == "0" and headers.get("x-ratelimit-reset"):
            try:
                return max(float(headers["x-ratelimit-reset"]) - now, 0.0) + 1.0
            except ValueError:
                pass
        if "secondary rate limit" in lowered or "abuse" in lowered:
            return min(self.policy.secondary_wait * 2.0 ** (attempt - 1), self.policy.retry.max_delay_s)
        if status == 429 or "rate limit" in lowered:
            return self.policy.retry.delay(attempt)
        return None

    def _call(self, method: str, path: str, send: Callable[[], httpx2.Response], *,
              creates: bool = False) -> httpx2.Response:
        """Run ``send`` (one ghapi request returning an ``httpx2.Response``) under the policy."""
        import httpx2

        retry = self.policy.retry
        slept = 0.0
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            self.request_log.append((method, path))
            try:
                return send()
            except Exception as exc:  # sorted out right below
                resp, neterr = self._error_parts(exc)
                if resp is None and neterr is None:
                    raise
            if resp is not None:
                status = resp.status_code
                message = self._message(resp)
                asked = self._rate_limit_wait(resp, message, attempt)
                limited = asked is not None
                if asked is not None:
                    if asked > retry.max_delay_s:
                        raise self._fail(status, f"rate limited ({message}); GitHub asks to wait "
                                         f"{asked:.0f}s, more than the {retry.max_delay_s:g}s this run "
                                         "waits (IDM_GATE_GH_MAX_WAIT)", method, path, reset_in=asked)
                    again = True
                elif status >= 500:
                    again = not creates
                else:
                    raise self._fail(status, message, method, path)
                error = self._fail(status, message, method, path, ambiguous=creates and status >= 500,
                                   rate_limited=limited)
            else:
                never_sent = isinstance(neterr, (httpx2.ConnectError, httpx2.ConnectTimeout,
                                                 httpx2.PoolTimeout))
                kind = type(neterr).__name__
                detail = str(neterr) or kind
                message = detail if detail.startswith(kind) else f"{kind}: {detail}"
                asked = None
                again = never_sent or not creates
                error = self._fail(None, message, method, path, ambiguous=creates and not never_sent)
            if not again:
                raise error
            wait = retry.next_wait(attempt, slept, asked)
            if wait is None:
                error.message += f" (gave up after {attempt} attempt{'s' if attempt > 1 else ''})"
                error.args = (str(error),)
                raise error
            log.warning("%s; retrying in %.1fs (attempt %d of %d)", error, wait, attempt + 1, retry.attempts)
            self._sleep(wait)
            slept += wait

    def _op(self, key: str, method: str, path: str, *, creates: bool = False, **params: Any) -> Any:
        op = self._api.func_dict[key]
        resp = self._call(method, path, lambda: op(raw_=True, headers_=dict(self._headers), **params),
                          creates=creates)
        return _json(resp, method, path)

    def _get_url(self, url: str) -> httpx2.Response:
        """GET a full URL from a ``Link`` header, through ghapi's transport."""
        here, there = urlsplit(self.api_url), urlsplit(url)
        if (here.scheme, here.netloc) != (there.scheme, there.netloc):
            raise GitHubAPIError(None, f"refusing to follow a pagination link to {there.scheme}://"
                                 f"{there.netloc}, which is not {self.api_url}", method="GET",
                                 path=there.path)
        transport = self._api.transport
        return self._call("GET", there.path,
                          lambda: transport.request("GET", url, headers=dict(self._headers), raw=True))

    def _paginate(self, key: str, path: str, **params: Any) -> list[Any]:
        op = self._api.func_dict[key]
        resp = self._call("GET", path, lambda: op(raw_=True, headers_=dict(self._headers), per_page=100,
                                                  **params))
        items: list[Any] = []
        seen: set[str] = set()
        while True:
            page = _json(resp, "GET", path) or []
            if not isinstance(page, list):
                raise GitHubAPIError(resp.status_code, f"expected a list, got {type(page).__name__}",
                                     method="GET", path=path)
            items.extend(page)
            nxt = _parse_links(resp.headers.get("link")).get("next")
            if not nxt or nxt in seen or len(seen) > 1000:
                return items
            seen.add(nxt)
            resp = self._get_url(nxt)

    # -- the calls ------------------------------------------------------------------------------

    def graphql_url(self) -> str:
        """GitHub's GraphQL endpoint beside this REST API: ``GITHUB_GRAPHQL_URL`` when the runner sets
        it, else ``https://api.github.com/graphql``, or ``https://HOST/api/graphql`` for a GHES
        ``https://HOST/api/v3`` (GHES does not serve GraphQL under ``/api/v3``)."""
        env = os.environ.get("GITHUB_GRAPHQL_URL", "").strip().rstrip("/")
        if env and urlsplit(env).netloc == urlsplit(self.api_url).netloc:
            return env
        if self.api_url.endswith("/api/v3"):
            return self.api_url[: -len("/v3")] + "/graphql"
        return self.api_url + "/graphql"

    def viewer_login(self) -> str | None:
        """The token's own login from GraphQL ``query { viewer { login } }``; None without a token.

        Unlike ``GET /user`` this answers installation tokens too: ``github-actions[bot]`` for an
        Actions ``GITHUB_TOKEN``, ``<app-slug>[bot]`` for a GitHub App's, the user for a personal
        token (what sticky-comment actions such as marocchino/sticky-pull-request-comment rely on).
        Raises ``GitHubAPIError`` when GitHub answers with an error (HTTP or GraphQL ``errors``).
        """
        if not self._token:
            return None
        url = self.graphql_url()
        path = urlsplit(url).path
        transport = self._api.transport
        resp = self._call("POST", path, lambda: transport.request(
            "POST", url, headers=dict(self._headers), json={"query": "query { viewer { login } }"}, raw=True))
        doc = _json(resp, "POST", path)
        login = ((doc or {}).get("data") or {}).get("viewer", {}).get("login") if isinstance(doc, dict) else None
        if not isinstance(login, str) or not login:
            errors = doc.get("errors") if isinstance(doc, dict) else None
            errors = errors if isinstance(errors, list) else []
            detail = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
            # GraphQL answers a rate limit with 200 and an error of type RATE_LIMITED (RATE_LIMIT seen too)
            limited = any(isinstance(e, dict) and e.get("type") in ("RATE_LIMITED", "RATE_LIMIT") for e in errors)
            raise GitHubAPIError(resp.status_code, detail or "no viewer login in the answer", method="POST",
                                 path=path, rate_limited=limited)
        return login

    def token_login(self) -> str | None:
        """The token's own login from GraphQL ``viewer``; ``GET /user`` only where there is no GraphQL
        endpoint (404). None without a token, or when ``/user`` refuses (403), so the caller falls
        back to ``github-actions[bot]``.

        Any other failure (a rate limit, an outage that outlasted the retries) raises: guessing
        ``github-actions[bot]`` for an App token would miss its comment and post a second one.
        """
        if not self._token:
            return None
        try:
            return self.viewer_login()
        except GitHubAPIError as exc:
            if exc.status != 404:
                raise
            log.info("no GraphQL endpoint (%s); asking GET /user", exc)
        return self.get_authenticated_login()

    def get_authenticated_login(self) -> str | None:
        """The token's own login; None without a token or for an Actions ``GITHUB_TOKEN`` (403)."""
        if not self._token:
            return None
        try:
            user = self._op("/user:GET", "GET", "/user")
        except GitHubAPIError as exc:
            if exc.status == 403 and not exc.rate_limited:
                return None
            raise
        return (user or {}).get("login")

    def list_issue_comments(self, owner: str, repo: str, number: int) -> list[dict[str, Any]]:
        """Every comment on issue or PR ``number``, all pages, oldest first."""
        return self._paginate("/repos/{owner}/{repo}/issues/{issue_number}/comments:GET",
                              f"/repos/{owner}/{repo}/issues/{number}/comments",
                              owner=owner, repo=repo, issue_number=number)

    def create_comment(self, owner: str, repo: str, number: int, body: str) -> dict[str, Any]:
        created: dict[str, Any] = self._op("/repos/{owner}/{repo}/issues/{issue_number}/comments:POST", "POST",
                        f"/repos/{owner}/{repo}/issues/{number}/comments", creates=True,
                        owner=owner, repo=repo, issue_number=number, body=body)
        return created

    def update_comment(self, owner: str, repo: str, comment_id: int, body: str) -> dict[str, Any]:
        updated: dict[str, Any] = self._op("/repos/{owner}/{repo}/issues/comments/{comment_id}:PATCH", "PATCH",
                        f"/repos/{owner}/{repo}/issues/comments/{comment_id}",
                        owner=owner, repo=repo, comment_id=comment_id, body=body)
        return updated

    def create_status(self, owner: str, repo: str, sha: str, state: str, context: str,
                      description: str, target_url: str | None = None) -> dict[str, Any]:
        """A commit status; ``description`` is cut to GitHub's 140 characters."""
        if state not in STATUS_STATES:
            raise ValueError(f"status state {state!r}: use one of {', '.join(STATUS_STATES)}")
        params: dict[str, Any] = dict(owner=owner, repo=repo, sha=sha, state=state, context=context,
                                      description=truncate(description, STATUS_DESCRIPTION_LIMIT))
        if target_url:
            params["target_url"] = target_url
        status: dict[str, Any] = self._op("/repos/{owner}/{repo}/statuses/{sha}:POST", "POST",
                                          f"/repos/{owner}/{repo}/statuses/{sha}", **params)
        return status

    def pulls_for_commit(self, owner: str, repo: str, sha: str) -> list[dict[str, Any]]:
        """Pull requests whose head (or merge) is commit ``sha``."""
        return self._paginate("/repos/{owner}/{repo}/commits/{commit_sha}/pulls:GET",
                              f"/repos/{owner}/{repo}/commits/{sha}/pulls",
                              owner=owner, repo=repo, commit_sha=sha)

    def list_pulls(self, owner: str, repo: str, *, head: str | None = None,
                   state: str = "open") -> list[dict[str, Any]]:
        """Pull requests of ``owner/repo`` in ``state``; ``head`` is ``"<user>:<branch>"`` (GitHub
        ignores a bare branch name, so one is refused here)."""
        if head is not None and ":" not in head:
            raise ValueError(f"head {head!r}: give it as '<owner>:<branch>'")
        params: dict[str, Any] = {"state": state}
        if head is not None:
            params["head"] = head
        return self._paginate("/repos/{owner}/{repo}/pulls:GET", f"/repos/{owner}/{repo}/pulls",
                              owner=owner, repo=repo, **params)

    def get_pull(self, owner: str, repo: str, number: int) -> dict[str, Any]:
        pull: dict[str, Any] = self._op("/repos/{owner}/{repo}/pulls/{pull_number}:GET", "GET",
                        f"/repos/{owner}/{repo}/pulls/{number}",
                        owner=owner, repo=repo, pull_number=number)
        return pull


def _json(resp: httpx2.Response, method: str, path: str) -> Any:
    """The decoded body of a successful answer; a proxy's HTML page is an error, not a crash."""
    if not resp.content:
        return None
    try:
        # GitHub's JSON, read as httpx's resp.json() reads it (NaN, a repeated key and a BOM pass),
        # but with bounded nesting: a hostile proxy's deep answer is this error, not a crash
        return load_json(resp.content, f"{method} {path}", allow_nan=True, duplicate_keys="last", allow_bom=True)
    except JSONError:
        kind = resp.headers.get("content-type", "no content type")
        raise GitHubAPIError(resp.status_code, f"the answer is not JSON ({kind}); is the API URL "
                             "right (GHES: https://HOST/api/v3)?", method=method, path=path) from None


def try_write(fn: Callable[[], T], warn: Callable[[str], None], what: str = "GitHub write") -> T | None:
    """Run a GitHub write; on ``GitHubAPIError`` call ``warn`` with one line and return None.

    Comments and statuses are reports of the verdict, not part of it: the verdict and the exit
    code never depend on whether they could be written. A pull request from a fork runs with a
    read-only token, so its 403 is expected and the hint says so. A status on a commit GitHub does
    not have (422 "No commit found for SHA: <sha>") warns too, with the likely causes: failing the
    job would not make the status appear, and a required status that never arrives already blocks
    the merge.
    """
    try:
        return fn()
    except GitHubAPIError as exc:
        hint = ""
        if exc.status == 403 and not exc.rate_limited:
            hint = (" (the token cannot write here: a pull request from a fork gets a read-only "
                    "GITHUB_TOKEN; give the job 'pull-requests: write' and 'statuses: write', or "
                    "post from a workflow_run workflow)")
        elif exc.status == 401:
            hint = " (the token was refused: check the github-token input)"
        elif exc.status == 422 and exc.message.startswith("No commit found for SHA"):
            repo = re.match(r"/repos/([^/]+/[^/]+)/", exc.path)
            where = repo.group(1) if repo else "the repository"
            hint = (f" (GitHub has no such commit in {where}: push it first if it is only local, and check "
                    "that the repository and API URL are the ones it was pushed to; a head that was "
                    "force-pushed away gets no status, the run for the new head sets one)")
        warn(f"{what} skipped: {exc}{hint}")
        return None
