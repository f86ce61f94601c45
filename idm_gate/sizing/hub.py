"""Remote artifacts: Hugging Face Hub globs and plain HTTP(S) URLs, sized without downloading.

``hf://org/repo@revision/glob`` (revision defaults to ``main``) lists the repository with the Hub
tree API, ``GET {HF_ENDPOINT}/api/models/{org}/{repo}/tree/{revision}?recursive=true``, following
the ``Link: <...>; rel="next"`` header across pages. Each entry has ``type``, ``path``, ``size`` and,
for LFS files, ``lfs: {oid, size, pointerSize}``; the real size of an LFS file is ``lfs.size``.
Files whose path matches the glob (same semantics as local globs) are summed.

``https://...`` is sized with one ``HEAD`` (redirects followed): ``X-Linked-Size`` (sent by the Hub
on ``resolve`` URLs, on the redirect, with the size of the file behind it) wins over the final
``Content-Length``. No body is downloaded.

``HF_TOKEN`` is sent as a bearer token only to the Hub endpoint's host. Timeouts are 10 s for
connect and for read, or ``IDM_GATE_HTTP_TIMEOUT`` seconds. A missing repository, revision, file
or permission (HTTP 4xx) and a glob that matches nothing are ``InputError``; a Hub or server fault
(HTTP 5xx, timeout, connection failure, an answer that is not what the API documents) is a
``RemoteError`` (exit 3) naming the artifact, so a measurement never goes on without it; the message
says to retry.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from ..data import ArtifactSize
from ..errors import InputError, RemoteError
from ..jsonsafe import JSONError, load_json
from ._glob import compile_glob
from ._io import format_from_name

if TYPE_CHECKING:
    import requests

DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_TIMEOUT_S = 10.0
MAX_PAGES = 1000
MAX_REDIRECTS = 10
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_INT = re.compile(r"[0-9]{1,19}")


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def timeout() -> float:
    raw = os.environ.get("IDM_GATE_HTTP_TIMEOUT")
    if raw is None or raw == "":
        return DEFAULT_TIMEOUT_S
    try:
        t = float(raw)
    except ValueError:
        t = -1.0
    if not 0 < t <= 3600:
        raise InputError(f"IDM_GATE_HTTP_TIMEOUT: {raw[:40]!r} is not a number of seconds between "
                         "0 and 3600")
    return t


def parse_hf(pattern: str, what: str) -> tuple[str, str, str]:
    """``hf://org/repo@rev/glob`` -> (``org/repo``, revision, glob)."""
    parts = pattern[len("hf://"):].split("/", 2)
    bad = (f"{what}: {pattern[:200]!r} is not a Hub address; use hf://org/repo@revision/glob "
           "(e.g. hf://acme/tiny-llm@main/*.safetensors)")
    if len(parts) != 3 or not parts[2].strip("/"):
        raise InputError(bad)
    org, repo_rev, glob = parts
    repo, _, rev = repo_rev.partition("@")
    if "@" in repo_rev and not rev:
        raise InputError(bad)
    rev = rev or "main"
    if not _NAME.fullmatch(org) or not _NAME.fullmatch(repo) or any(c.isspace() for c in rev):
        raise InputError(bad)
    return f"{org}/{repo}", rev, glob


def _headers_for(url: str) -> dict[str, str]:
    headers = {"Accept-Encoding": "identity", "User-Agent": "idm-gate"}
    token = os.environ.get("HF_TOKEN")
    if token and _origin(url) == _origin(endpoint()):
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _origin(url: str) -> tuple[str, str]:
    s = urlsplit(url)
    return s.scheme.lower(), s.netloc.lower()


def _request(method: str, url: str, what: str, shown: str, **kw: Any) -> requests.Response:
    import requests

    t = timeout()
    with requests.Session() as s:
        s.max_redirects = MAX_REDIRECTS
        try:
            return s.request(method, url, headers=_headers_for(url), timeout=(t, t), **kw)
        except requests.Timeout:
            raise RemoteError(f"{what}: {shown}: no answer within {t:g} s; retry, or set "
                              "IDM_GATE_HTTP_TIMEOUT to wait longer") from None
        except requests.TooManyRedirects:
            raise InputError(f"{what}: {shown}: more than {MAX_REDIRECTS} redirects") from None
        except requests.RequestException as e:
            raise RemoteError(f"{what}: {shown}: request failed ({type(e).__name__}); check the "
                              "network and retry") from None


def _check_status(r: requests.Response, what: str, shown: str, hint_404: str) -> None:
    code = r.status_code
    if 200 <= code < 300:
        return
    if code in (401, 403):
        raise InputError(f"{what}: {shown}: access denied (HTTP {code}); set HF_TOKEN to a token "
                         "that can read it, or check the address")
    if code == 404:
        raise InputError(f"{what}: {shown}: not found (HTTP 404); {hint_404}")
    if 400 <= code < 500:
        raise InputError(f"{what}: {shown}: refused (HTTP {code}); check the address")
    raise RemoteError(f"{what}: {shown}: server error (HTTP {code}); retry later")


def size_hf(pattern: str, what: str) -> list[ArtifactSize]:
    """Every file of a Hub repository revision whose path matches the glob."""
    repo, rev, glob = parse_hf(pattern, what)
    rx = compile_glob(glob)
    url: str | None = f"{endpoint()}/api/models/{repo}/tree/{quote(rev, safe='')}"
    params: dict[str, Any] | None = {"recursive": "true"}
    shown = f"hf://{repo}@{rev}"
    out: list[ArtifactSize] = []
    pages = 0
    while url:
        pages += 1
        if pages > MAX_PAGES:
            raise InputError(f"{what}: {shown}: tree listing is over {MAX_PAGES} pages; name a "
                              "smaller repository")
        r = _request("GET", url, what, shown, params=params)
        _check_status(r, what, shown, "check the repository id and the revision after '@'")
        try:
            # the Hub's own JSON, read as requests' r.json() reads it (NaN, a repeated key and a BOM
            # pass; only the fields used below are checked), but with bounded nesting
            entries = load_json(r.content, f"{what}: {shown}", allow_nan=True, duplicate_keys="last",
                                allow_bom=True)
        except JSONError:
            entries = None
        if not isinstance(entries, list):
            raise RemoteError(f"{what}: {shown}: the Hub tree answer is not a JSON list; retry "
                              "later or check HF_ENDPOINT")
        for e in entries:
            if not isinstance(e, dict) or e.get("type") != "file":
                continue
            path = e.get("path")
            if not isinstance(path, str) or not rx.fullmatch(path):
                continue
            lfs = e.get("lfs")
            size = lfs.get("size") if isinstance(lfs, dict) else e.get("size")
            if type(size) is not int or size < 0:
                raise RemoteError(f"{what}: {shown}/{path[:200]}: the Hub gave no integer size "
                                  "for this file; retry later")
            out.append(ArtifactSize(path=f"{shown}/{path}", size_bytes=size, source="hf-hub",
                                    format=format_from_name(path)))
        nxt = r.links.get("next", {}).get("url")
        if nxt and _origin(nxt) != _origin(url):
            raise RemoteError(f"{what}: {shown}: the Hub pointed the next page at another host; "
                              "check HF_ENDPOINT")
        url, params = nxt, None
    if not out:
        raise InputError(f"{what}: {pattern[:200]!r} matches no file in {repo} at revision "
                         f"{rev!r}; check the glob (relative to the repository root)")
    return out


def read_hf_file(address: str, what: str, cap: int) -> bytes:
    """The content of one small file of a Hub repository (a shard index), at most ``cap`` bytes.

    ``GET {HF_ENDPOINT}/{org}/{repo}/resolve/{revision}/{path}`` (redirects followed), read as a
    stream and refused past ``cap`` bytes, so a path that names a weight file downloads nothing big.
    """
    import requests

    repo, rev, path = parse_hf(address, what)
    url = f"{endpoint()}/{repo}/resolve/{quote(rev, safe='')}/{quote(path)}"
    shown = address[:300]
    t = timeout()
    with requests.Session() as s:
        s.max_redirects = MAX_REDIRECTS
        try:
            with s.get(url, headers=_headers_for(url), timeout=(t, t), stream=True) as r:
                _check_status(r, what, shown, "check the file's path and the revision")
                chunks, n = [], 0
                for chunk in r.iter_content(64 * 1024):
                    n += len(chunk)
                    if n > cap:
                        raise InputError(f"{what}: {shown}: over the {cap:,}-byte limit for this kind of file")
                    chunks.append(chunk)
                return b"".join(chunks)
        except requests.Timeout:
            raise RemoteError(f"{what}: {shown}: no answer within {t:g} s; retry, or set "
                             "IDM_GATE_HTTP_TIMEOUT to wait longer") from None
        except requests.RequestException as e:
            raise RemoteError(f"{what}: {shown}: request failed ({type(e).__name__}); check the "
                             "network and retry") from None


def size_url(url: str, what: str) -> ArtifactSize:
    """Size of one remote file from a ``HEAD`` request."""
    shown = url[:300]
    if not urlsplit(url).netloc:
        raise InputError(f"{what}: {shown!r} has no host; use a full https:// URL")
    r = _request("HEAD", url, what, shown, allow_redirects=True)
    _check_status(r, what, shown, "check the URL")
    value, header = None, None
    for resp in [r, *reversed(r.history)]:
        if "X-Linked-Size" in resp.headers:
            value, header = resp.headers["X-Linked-Size"], "X-Linked-Size"
            break
    if value is None and "Content-Length" in r.headers:
        value, header = r.headers["Content-Length"], "Content-Length"
    if value is None:
        raise InputError(f"{what}: {shown}: the server sends no Content-Length or X-Linked-Size, "
                         "so the size is unknown; use an hf:// address or a local file")
    value = value.strip()
    if not _INT.fullmatch(value):
        raise RemoteError(f"{what}: {shown}: {header} is not an integer byte count; the server "
                          "answered oddly, retry or use an hf:// address")
    path = urlsplit(url).path
    return ArtifactSize(path=url, size_bytes=int(value), source="http-head",
                        format=format_from_name(path))
