"""Baselines on a dedicated git branch (default ``idm-baselines``) of the ``origin`` remote.

Layout: one file per measured commit and gate, ``records/<sha[:2]>/<sha>/<gate key>.json`` (the key
percent-encoded, see ``store.records.key_filename``), canonical JSON (sorted keys, indent 1). The
two-character fan-out keeps every tree small, so reading one record and adding one costs the same with
ten records or a hundred thousand. idm-gate 0.1.0 wrote ``records/<sha[:2]>/<sha>.json``, one per
commit; such a record is still read, for the gate whose manifest path it names in ``"manifest"``, when
the commit has no record of the new layout for that gate. Nothing rewrites or deletes it: a new record
goes beside it.

Reading fetches ``+refs/heads/<branch>`` into the private ref ``refs/idm-gate/<branch>`` (never one of
the user's branches or remote-tracking refs), once per process, then asks one
``git cat-file --batch`` for every candidate SHA at once. A remote without the branch means "no
baselines yet", not an error. In a shallow clone the fetch is ``--depth=1`` (only the tip's tree is
needed); in a full clone it is a normal incremental fetch so the repository does not become shallow.

Writing never touches the working tree, ``HEAD`` or the user's index: the blob is written with
``hash-object -w``, the tree is built in a temporary index (``GIT_INDEX_FILE`` in a temp folder),
the commit with ``commit-tree`` on top of the fetched tip (or as a parentless orphan when the branch
does not exist yet, so the first record creates it), and it is pushed as a fast-forward, never forced.
When another recorder pushed first, the push is rejected; we fetch the new tip, rebuild on it and push
again, with exponential backoff and jitter (``PUSH_RETRY``, an ``idm_gate.retry.RetryPolicy``).
Recording a commit whose identical record is already there (same gate) is a no-op; a different record
for the same commit and gate replaces the old one (the old one stays in the branch's history); another
gate's record is never touched.

Without the remote (a laptop repository with no ``origin``) the store uses the local branch
``refs/heads/<branch>``: reads come from it and writes move it with ``git update-ref <new> <old>``,
a compare-and-swap that fails, and is retried the same way, when someone else moved it first.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import InputError, StoreError
from ..gitutil import Git, first_error_line, is_full_sha
from ..retry import RetriesExhausted, RetryPolicy
from .records import Warn, canonical_json, check_gate_key, key_filename, legacy_record_applies, parse_record

IDENTITY_NAME = "idm-gate"
IDENTITY_EMAIL = "idm-gate@localhost"

# Push failures that retrying cannot fix: no point waiting 20 s to report them.
_PERMANENT = ("permission", "denied", "403", "authentication", "could not read username", "not found")


# Lost push races: 10 attempts, waits drawn from [d/2, d] for d = 0.25, 0.5, 1, 2, 4, 4, 4, 4, 4 s
# (23.75 s at most, about 18 s on average), none starting past 25 s. Ten, not eight: with eight jobs
# racing, the unluckiest one may lose seven rounds, and a job should not fail for being eighth in line.
PUSH_RETRY = RetryPolicy(attempts=10, base_delay_s=0.25, max_delay_s=4.0, budget_s=25.0, jitter=True)


class _LostRace(Exception):
    """One attempt's push lost (or failed in a way worth retrying); the message says how."""


def record_path(sha: str, key: str | None) -> str:
    """Where the record for ``sha`` and gate ``key`` lives in the branch's tree.

    ``key=None`` gives the path idm-gate 0.1.0 used, one record per commit for whatever gate recorded last.
    """
    if key is None:
        return f"records/{sha[:2]}/{sha}.json"
    return f"records/{sha[:2]}/{sha}/{key_filename(key)}"


class BranchStore:
    """The ``branch`` store. See the module docstring for the layout and the write protocol."""

    def __init__(
        self,
        git: Git,
        *,
        key: str,
        remote: str = "origin",
        branch: str = "idm-baselines",
        warn: Warn,
        retry: RetryPolicy | None = None,
    ):
        self.git = git
        self.key = check_gate_key(key, "baseline key")
        self.remote = remote
        self.branch = branch
        self.warn = warn
        self.retry = retry or PUSH_RETRY
        self.use_remote = git.has_remote(remote)
        if self.use_remote:
            self.ref = f"refs/idm-gate/{branch}"
            self.description = f"branch {branch!r} on remote {remote!r}"
        else:
            self.ref = f"refs/heads/{branch}"
            self.description = f"local branch {branch!r} (no remote {remote!r} configured)"
        self._fetched = False
        self._shallow: bool | None = None

    # -- reading ---------------------------------------------------------------------------------

    def fetch(self) -> None:
        """Bring the remote branch into the private ref (a missing remote branch deletes it)."""
        if not self.use_remote:
            return
        if self._shallow is None:
            self._shallow = self.git.is_shallow()
        # --no-auto-maintenance: no `git maintenance run --auto` (one more process) after a fetch of our own
        args = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-auto-maintenance"]
        if self._shallow:
            args.append("--depth=1")
        proc = self.git.exec(*args, self.remote, f"+refs/heads/{self.branch}:{self.ref}")
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace")
            if "couldn't find remote ref" not in err:
                raise StoreError(
                    f"{self.description}: fetching the baselines failed: {first_error_line(err)}; "
                    f"check that {self.remote!r} is reachable and retry"
                )
            # No baselines yet. Drop a stale private ref left from when the branch existed.
            self.git.exec("update-ref", "-d", self.ref)
        self._fetched = True

    def _ensure_fetched(self) -> None:
        if not self._fetched:
            self.fetch()

    def tip(self) -> str | None:
        """The branch's commit as last fetched (or the local branch), None when there is none."""
        proc = self.git.exec("rev-parse", "--verify", "--quiet", f"{self.ref}^{{commit}}")
        out = proc.stdout.decode().strip()
        return out if proc.returncode == 0 and out else None

    def get_many(self, shas: list[str]) -> dict[str, dict[str, Any]]:
        """This gate's records for any of ``shas``, by SHA; one ``git cat-file --batch`` call.

        For each commit the gate's own record wins; without one, a 0.1.0 record at the commit's old path
        counts when its ``"manifest"`` names this gate (another gate's 0.1.0 record is passed over).
        """
        self._ensure_fetched()
        wanted = list(dict.fromkeys(s for s in shas if is_full_sha(s)))
        if not wanted:
            return {}
        paths = [(sha, path) for sha in wanted for path in (record_path(sha, self.key), record_path(sha, None))]
        query = "".join(f"{self.ref}:{path}\n" for _, path in paths).encode()
        out = self.git.run_bytes("cat-file", "--batch", input=query)
        found: dict[str, dict[str, Any]] = {}
        pos = 0
        for sha, path in paths:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) != 3:  # "<name> missing" (or ambiguous): no record at this path
                continue
            size = int(header[2])
            data = out[pos : pos + size]
            pos += size + 1  # the content is followed by a newline
            if sha in found:
                continue  # the gate's own record came first; the 0.1.0 one beside it is not needed
            legacy = path == record_path(sha, None)
            if header[1] != b"blob":
                self.warn(f"{self.description}: {path} is not a file; ignoring it")
                continue
            record = parse_record(sha, data, f"{self.description}: {path}", self.warn)
            if record is not None and (not legacy or legacy_record_applies(record, self.key)):
                found[sha] = record
        return found

    # -- writing ---------------------------------------------------------------------------------

    def _identity_env(self) -> dict[str, str]:
        """Author/committer variables for ``commit-tree`` where the user has no identity set."""
        env: dict[str, str] = {}
        if self.git.config_get("user.name") is None:
            env.update(GIT_AUTHOR_NAME=IDENTITY_NAME, GIT_COMMITTER_NAME=IDENTITY_NAME)
        if self.git.config_get("user.email") is None:
            env.update(GIT_AUTHOR_EMAIL=IDENTITY_EMAIL, GIT_COMMITTER_EMAIL=IDENTITY_EMAIL)
        # Variables the caller set explicitly win over our fallback.
        return {k: v for k, v in env.items() if not os.environ.get(k) and not self.git.env.get(k)}

    def _build_commit(self, sha: str, blob: str, tip: str | None, env: dict[str, str]) -> str:
        """A commit whose tree is ``tip``'s plus ``blob`` at the record's path; no index touched."""
        with tempfile.TemporaryDirectory(prefix="idm-gate-index-") as tmp:
            ienv = {**env, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if tip:
                self.git.run("read-tree", tip, env=ienv)
            self.git.run("update-index", "--add", "--cacheinfo", f"100644,{blob},{record_path(sha, self.key)}",
                         env=ienv)
            tree = self.git.run("write-tree", env=ienv)
        parents = ["-p", tip] if tip else []
        message = f"idm-gate: baseline for {sha} ({self.key})\n".encode()
        return self.git.run("commit-tree", tree, *parents, input=message, env=env).strip()

    def _publish(self, new: str, old: str | None) -> str | None:
        """Move the branch from ``old`` to ``new``; None on success, else why it failed."""
        if not self.use_remote:
            zero = "0" * len(new)
            proc = self.git.exec(
                "update-ref", "-m", "idm-gate: record baseline", self.ref, new, old or zero
            )
            return None if proc.returncode == 0 else first_error_line(proc.stderr.decode("utf-8", "replace"))
        # --no-verify: the user's pre-push hooks are about their code, not this data branch.
        proc = self.git.exec(
            "push", "--quiet", "--no-verify", "--porcelain", self.remote, f"{new}:refs/heads/{self.branch}"
        )
        if proc.returncode == 0:
            self.git.exec("update-ref", self.ref, new)
            return None
        text = proc.stdout.decode("utf-8", "replace") + "\n" + proc.stderr.decode("utf-8", "replace")
        rejected = [ln.strip() for ln in text.splitlines() if ln.startswith("!")]
        reason = rejected[0] if rejected else first_error_line(proc.stderr.decode("utf-8", "replace"))
        if rejected and "protected branch" in reason.lower():
            raise StoreError(
                f"{self.description}: pushing the baseline was refused by a branch protection rule: {reason}; "
                f"let the job's token push to {self.branch!r} or exclude it from the rule (retrying cannot help)"
            )
        if not rejected and any(p in reason.lower() for p in _PERMANENT):
            raise StoreError(
                f"{self.description}: pushing the baseline was refused: {reason}; the job needs "
                f"permission to push to {self.remote!r} (in GitHub Actions: permissions: contents: write)"
            )
        return reason

    def _blob_at(self, tip: str, sha: str) -> str | None:
        proc = self.git.exec("rev-parse", "--verify", "--quiet", f"{tip}:{record_path(sha, self.key)}")
        return proc.stdout.decode().strip() or None

    def put(self, sha: str, record: dict[str, Any]) -> None:
        """Store ``record`` for ``sha`` (a full commit SHA) and this gate; replaces this gate's different
        record, else no-op. Other gates' records and 0.1.0 records stay as they are."""
        if not is_full_sha(sha):
            raise InputError(f"baseline record: {sha!r} is not a full commit SHA; pass the 40-hex SHA")
        if not isinstance(record, dict) or record.get("commit") != sha:
            got = record.get("commit") if isinstance(record, dict) else type(record).__name__
            raise InputError(f"baseline record for {sha[:12]}: its 'commit' field is {got!r}; it must be {sha}")
        data = canonical_json(record, f"baseline record for {sha[:12]}")
        blob = self.git.run("hash-object", "-w", "--stdin", input=data).strip()
        env = self._identity_env()

        def attempt() -> None:
            self.fetch()  # always start from the newest tip: fewer lost races
            tip = self.tip()
            if tip and self._blob_at(tip, sha) == blob:
                return  # the identical record is already there
            failure = self._publish(self._build_commit(sha, blob, tip, env), tip)
            if failure is not None:
                raise _LostRace(failure)

        try:
            self.retry.call(attempt, retry_on=lambda e: isinstance(e, _LostRace))
        except RetriesExhausted as e:
            raise StoreError(
                f"{self.description}: could not record the baseline for {sha[:12]} after {e.attempts} "
                f"attempt(s) in {e.elapsed_s:.1f}s (last: {e.last}); nothing was lost, the branch holds every "
                f"record written so far; run the record step again to retry"
            ) from None
