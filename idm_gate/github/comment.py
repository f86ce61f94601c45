"""The sticky pull request comment: one per PR and key, edited in place on every run.

Ours is the comment that carries the hidden marker ``<!-- idm-gate:comment-key=<key> -->`` AND is
written by the token's own account (GraphQL ``viewer``, which answers personal, App installation and
Actions tokens alike; ``GET /user`` refuses the last two), or by ``github-actions[bot]`` when neither
answers. Anyone can paste the marker into a comment; only the author check makes it ours.
``author`` overrides the lookup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from idm_gate.github.client import GitHubAPIError, GitHubClient

COMMENT_LIMIT = 65536                # GitHub refuses a longer comment body (422)
ACTIONS_BOT = "github-actions[bot]"
MARKER_ROOM = 200                    # marker line plus slack, kept free by fit_body
_CUT_NOTE = ("\n\n> [!NOTE]\n> The details were shortened to fit GitHub's limit of 65,536 "
             "characters per comment: {shown:,} of {total:,} characters are shown. The verdict "
             "above is complete.\n")


@dataclass(frozen=True)
class CommentResult:
    """What ``upsert_comment`` did: ``action`` is ``created``, ``updated`` or ``unchanged``."""

    url: str | None
    action: str
    comment_id: int | None = None


def sanitize_key(key: str) -> str:
    """A key safe inside an HTML comment and a regex-free match: ``[A-Za-z0-9._-]``, 1-100 chars."""
    # no "--" either: it may not appear inside an HTML comment
    cleaned = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._-]+", "-", key or "")).strip("-")[:100]
    return cleaned or "default"


def marker(key: str) -> str:
    return f"<!-- idm-gate:comment-key={sanitize_key(key)} -->"


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _close_blocks(text: str) -> str:
    """Close a code fence or ``<details>`` left open by a cut, so the rest renders normally."""
    if text.count("```") % 2:
        text += "\n```"
    opened = len(re.findall(r"<details\b", text, re.I)) - len(re.findall(r"</details>", text, re.I))
    return text + "\n</details>" * max(opened, 0)


def _cut(text: str, budget: int, measure: Callable[[str], int]) -> str:
    """The longest head of ``text`` within ``budget`` (by ``measure``), ended at a line break."""
    if measure(text) <= budget:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # binary search on characters: measure may count bytes
        mid = (lo + hi + 1) // 2
        if measure(_close_blocks(text[:mid])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    head = text[:lo]
    nl = head.rfind("\n")
    if nl > lo // 2:
        head = head[:nl]
    return _close_blocks(head)


def fit_body(verdict_md: str, details_md: str, limit: int = COMMENT_LIMIT, *,
             measure: Callable[[str], int] = len) -> str:
    """``verdict_md`` + ``details_md``, under ``limit`` (less room for the marker).

    Only the details are shortened, at a line break, with open code fences and ``<details>``
    closed and a note saying how much is shown. The verdict part is kept whole; only if it alone
    could not fit (it never should) is it cut too.
    """
    budget = limit - MARKER_ROOM
    sep = "\n\n" if verdict_md and details_md else ""
    whole = verdict_md + sep + details_md
    if measure(whole) <= budget:
        return whole
    total = len(details_md)
    note = _CUT_NOTE.format(shown=total, total=total)  # longest form, to reserve room for it
    room = budget - measure(verdict_md + sep) - measure(note)
    if room <= 0:
        dropped = ("\n\n> [!NOTE]\n> This comment was cut to fit GitHub's limit of 65,536 "
                   "characters per comment; the details were left out.\n")
        return _cut(verdict_md, budget - measure(dropped), measure) + dropped
    kept = _cut(details_md, room, measure)
    return verdict_md + sep + kept + _CUT_NOTE.format(shown=len(kept), total=total)


def _shorten(body: str, details: str | None, limit: int, measure: Callable[[str], int]) -> str:
    if details is not None:
        return fit_body(body, details, limit, measure=measure)
    if measure(body) <= limit - MARKER_ROOM:
        return body
    note = "\n\n_The rest of this comment was cut to fit GitHub's limit of 65,536 characters._\n"
    return _cut(body, limit - MARKER_ROOM - measure(note), measure) + note


def _too_long(exc: GitHubAPIError) -> bool:
    return exc.status == 422 and "too long" in exc.message.lower()


def _norm(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n")


def find_comment(comments: list[dict[str, Any]], key: str, authors: set[str]) -> dict[str, Any] | None:
    """The oldest comment carrying ``key``'s marker and written by one of ``authors``."""
    tag = marker(key)
    for c in comments:
        login = (c.get("user") or {}).get("login")
        if login in authors and tag in (c.get("body") or ""):
            return c
    return None


def comment_authors(client: GitHubClient, author: str | None) -> set[str]:
    """The logins whose comments count as ours: ``author`` when given, else the token's own login.

    The login comes from GraphQL ``viewer`` (which answers App installation tokens and
    ``GITHUB_TOKEN`` alike), then ``GET /user``, else ``github-actions[bot]``. REST lists a bot's
    comments as ``<slug>[bot]``; GraphQL has been seen to name bots without the suffix, so both
    spellings are accepted (no user name can contain brackets, so nobody else matches).
    """
    if author:
        return {author}
    login = client.token_login()
    if not login:
        return {ACTIONS_BOT}
    return {login, login + "[bot]"} if not login.endswith("[bot]") else {login}


def upsert_comment(client: GitHubClient, owner: str, repo: str, number: int, key: str, body: str,
                   *, details: str | None = None, author: str | None = None,
                   limit: int = COMMENT_LIMIT, create: bool = True) -> CommentResult:
    """Create or update our sticky comment on PR ``number``, writing nothing if it is unchanged.

    ``body`` is the comment (or, with ``details``, its verdict part, which is never shortened).
    A comment deleted between the lookup and the update (404) is created anew; a 422 "too long"
    is retried once, cut by UTF-8 bytes, which no way of counting GitHub uses can exceed.
    With ``create=False`` an existing comment is brought up to date but none is created (action
    ``"skipped"``): the ``on-change`` / ``on-regression`` modes keep a comment current without
    starting one for a PR that touches no model.
    Raises ``GitHubAPIError``; wrap in ``try_write`` where a failure must only warn.
    """
    tag = marker(key)
    authors = comment_authors(client, author)

    def render(measure: Callable[[str], int]) -> str:
        return f"{tag}\n{_shorten(body, details, limit, measure)}"

    def write(existing: dict[str, Any] | None, text: str) -> tuple[dict[str, Any], str]:
        if existing is not None:
            try:
                return client.update_comment(owner, repo, existing["id"], text), "updated"
            except GitHubAPIError as exc:
                if exc.status != 404:
                    raise
        try:
            return client.create_comment(owner, repo, number, text), "created"
        except GitHubAPIError as exc:
            if not exc.ambiguous:
                raise
            # The create may have happened: look before creating a second one.
            again = find_comment(client.list_issue_comments(owner, repo, number), key, authors)
            if again is None:
                return client.create_comment(owner, repo, number, text), "created"
            if _norm(again.get("body")) == _norm(text):
                return again, "created"
            return client.update_comment(owner, repo, again["id"], text), "created"

    existing = find_comment(client.list_issue_comments(owner, repo, number), key, authors)
    if existing is None and not create:
        return CommentResult(None, "skipped", None)
    text = render(len)
    if existing is not None and _norm(existing.get("body")) == _norm(text):
        return CommentResult(existing.get("html_url"), "unchanged", existing.get("id"))
    try:
        result, action = write(existing, text)
    except GitHubAPIError as exc:
        if not _too_long(exc):
            raise
        harder = render(lambda s: _utf8_len(s) + len(s) // 20)  # bytes, and 5% to spare
        result, action = write(existing, harder)
    result = result or {}
    return CommentResult(result.get("html_url"), action, result.get("id"))
