"""Where baselines live: one protocol, one implementation per backend.

* ``branch`` / ``branch:<name>`` (default): a dedicated branch on ``origin`` -- see ``store.branch``.
* ``file:<path>``: a JSON file committed in the repository, read from a commit -- see ``store.file``.

A record is a JSON object (the measurement report plus metadata) filed under the commit SHA it
measured and the gate key of its manifest (``store.records``: the manifest's repository-relative path
unless named), so two manifests in one repository keep two series of baselines. A store is opened for
one gate; the store checks only that a record's ``"commit"`` equals its SHA. A corrupt record is
skipped with a warning, as if absent.

Shallow clones: ``actions/checkout`` fetches one commit by default, so neither the merge-base nor the
ancestors walked by ``find_baseline`` exist locally. ``ensure_history`` fetches the base branch and
deepens the history (``git fetch --deepen``) until the merge-base and ``depth`` of its first-parent
ancestors are present. Setting ``fetch-depth: 0`` on checkout makes it a no-op.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

from ..errors import InputError, StoreError
from ..gitutil import Git, is_full_sha
from .records import canonical_json

if TYPE_CHECKING:
    from ..retry import RetryPolicy

__all__ = [
    "BaselineStore",
    "canonical_json",
    "ensure_history",
    "export_records",
    "find_baseline",
    "open_store",
]


class BaselineStore(Protocol):
    """What the gate needs from a place that keeps baselines."""

    description: str
    key: str  # the gate key this store reads and writes

    def get_many(self, shas: list[str]) -> dict[str, dict[str, Any]]:
        """This gate's records found among ``shas``, by SHA (one git call, never a walk over all records)."""
        ...

    def put(self, sha: str, record: dict[str, Any]) -> None:
        """Store ``record`` for ``sha`` and this gate; ``StoreError`` when it could not (nothing was lost)."""
        ...


DEFAULT_BRANCH = "idm-baselines"  # the branch store's branch unless named


def _warn_stderr(message: str) -> None:
    from ..messages import Messages

    Messages(color="never").warn(message)


def open_store(
    spec: str,
    git: Git,
    *,
    key: str,
    remote: str = "origin",
    branch: str = DEFAULT_BRANCH,
    warn: Callable[[str], None] = _warn_stderr,
    retry: RetryPolicy | None = None,
) -> BaselineStore:
    """Open the store ``spec`` names (``branch``, ``branch:<name>`` or ``file:<path>``) for the gate ``key``.

    ``retry`` tunes how a branch store retries a lost push race (default ``store.branch.PUSH_RETRY``).
    """
    kind, sep, arg = spec.partition(":")
    if kind == "branch":
        from .branch import BranchStore

        name = arg if sep else branch
        # git's ref rules decide a name; the default one is valid, so it costs no git process
        if not name or (name != DEFAULT_BRANCH and git.exec("check-ref-format", f"refs/heads/{name}").returncode != 0):
            raise InputError(f"--store {spec!r}: {name!r} is not a valid branch name; e.g. branch:idm-baselines")
        return BranchStore(git, key=key, remote=remote, branch=name, warn=warn, retry=retry)
    if kind == "file" and sep:
        from .file import FileStore

        return FileStore(git, arg, key=key, warn=warn)
    raise InputError(
        f"--store {spec!r}: unknown store; use 'branch', 'branch:<name>' or 'file:<path>' "
        f"(path relative to the repository root)"
    )


_T = TypeVar("_T")


@overload
def find_baseline(store: BaselineStore, git: Git, start_sha: str, max_walk: int = 50,
                  parse: None = None, *,
                  candidates: list[str] | None = None) -> tuple[str, dict[str, Any], int] | None: ...
@overload
def find_baseline(store: BaselineStore, git: Git, start_sha: str, max_walk: int,
                  parse: Callable[[str, dict[str, Any]], _T | None], *,
                  candidates: list[str] | None = None) -> tuple[str, _T, int] | None: ...
def find_baseline(
    store: BaselineStore, git: Git, start_sha: str, max_walk: int = 50,
    parse: Callable[[str, dict[str, Any]], object | None] | None = None, *,
    candidates: list[str] | None = None,
) -> tuple[str, object, int] | None:
    """The nearest first-parent ancestor of ``start_sha`` (itself first) that has a usable record.

    Returns ``(sha, record, distance)`` with distance 0 for ``start_sha`` itself, or None when none of
    the first ``max_walk`` commits has one. ``parse(sha, record)`` may turn a record into a value, or
    return None to skip it (a record that does not validate) and keep walking. One ``rev-list`` and
    one store lookup, however many records the store holds. ``candidates``: that walk, when the caller
    has already made it (``git.first_parent_ancestors(start_sha, max_walk)``); then only the store is asked.
    """
    if candidates is None:
        candidates = git.first_parent_ancestors(start_sha, max_walk)
    found = store.get_many(candidates)
    for distance, sha in enumerate(candidates):
        if sha not in found:
            continue
        value = found[sha] if parse is None else parse(sha, found[sha])
        if value is not None:
            return sha, value, distance
    return None


def export_records(branch_store: BaselineStore, shas: list[str], existing: object = None) -> dict[str, Any]:
    """The ``file:`` store document holding ``branch_store``'s records for ``shas``, under its gate key.

    ``idm-gate baseline export`` passes e.g. the bounded first-parent history of HEAD and writes
    ``canonical_json(export_records(...))`` to the file, which the user then commits. ``existing`` is
    the document already in that file (version 1 or 2), if any: nothing in it is dropped. Other gates'
    records are kept, so one file can hold every gate of the repository; this gate's are kept too,
    with the branch's record winning for a commit both have.
    """
    from .file import FILE_VERSION, gates_in

    gates = dict(gates_in(existing, "the existing baseline file")) if existing is not None else {}
    gates[branch_store.key] = {**gates.get(branch_store.key, {}), **branch_store.get_many(shas)}
    return {"version": FILE_VERSION, "gates": gates}


def _base_refspec(base_ref: str, remote: str) -> tuple[str, str]:
    """(what to fetch, where to keep it) for a branch name, ``<remote>/<name>``, ``refs/heads/..`` or SHA."""
    if is_full_sha(base_ref):
        return base_ref, "refs/idm-gate/base"
    name = base_ref
    for prefix in ("refs/heads/", f"refs/remotes/{remote}/", f"{remote}/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return f"refs/heads/{name}", f"refs/remotes/{remote}/{name}"


def ensure_history(
    git: Git, base_ref: str, depth: int = 50, *, remote: str = "origin", head: str = "HEAD", rounds: int = 8
) -> str:
    """Make ``base_ref``, the merge-base with ``head`` and ``depth`` of its ancestors available.

    Returns the base commit's SHA. In a full clone that already has the base this only resolves it.
    In a shallow clone (or when the base is missing) it fetches the base from ``remote`` into
    ``refs/remotes/<remote>/<name>`` (a SHA into ``refs/idm-gate/base``) and deepens the shallow
    history by ``depth`` commits per round (``git fetch --deepen``) until the merge-base exists and
    has ``depth`` first-parent ancestors, the history stops growing, or ``rounds`` run out.
    """
    if depth < 1:
        raise InputError(f"history depth {depth}: must be at least 1")
    src, dst = _base_refspec(base_ref, remote)
    shallow = git.is_shallow()
    local = None
    for candidate in (base_ref, dst) if not base_ref.startswith("-") else ():
        proc = git.exec("rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}")
        if proc.returncode == 0:
            local = proc.stdout.decode().strip()
            break
    if not shallow and local:
        return local
    if not git.has_remote(remote):
        if local:
            return local
        return git.rev_parse(base_ref)  # raises the "unknown ref" InputError
    refspec = f"+{src}:{dst}"
    fetch = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-auto-maintenance"]
    proc = git.exec(*fetch, *([f"--deepen={depth}"] if shallow else []), remote, refspec)
    if proc.returncode != 0:
        msg = git.fail_message(("fetch",), proc)
        if "couldn't find remote ref" in msg or "not our ref" in msg or "unadvertised object" in msg:
            raise InputError(f"base ref {base_ref!r}: {remote} has no such branch or commit; "
                             f"name the PR's base branch, e.g. {remote}/main")
        raise StoreError(msg)
    base = git.rev_parse(dst)
    progress = None
    for _ in range(rounds):
        if not git.is_shallow():
            break
        mb = git.merge_base(head, base)
        have = len(git.first_parent_ancestors(mb, depth)) if mb else 0
        if mb and have >= depth:
            break
        if progress == (mb, have):
            break  # deepening no longer adds anything: the whole history is here
        progress = (mb, have)
        git.run(*fetch, f"--deepen={depth}", remote, refspec)
    return base
