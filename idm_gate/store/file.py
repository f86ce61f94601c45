"""Baselines in a JSON file committed to the repository (``--store file:<path>``).

Format (what ``idm-gate baseline export`` writes), records by gate key and then by commit::

    {"version": 2, "gates": {"<gate key>": {"<sha>": {"commit": "<sha>", ...}, ...}, ...}}

idm-gate 0.1.0 wrote ``{"version": 1, "records": {"<sha>": record}}``, one record per commit; such a
file is still read, each record for the gate whose manifest path its ``"manifest"`` field names (see
``store.records``).

Semantics: the file is read *as committed at the first commit asked about* -- ``find_baseline`` asks
about the merge-base first, so the gate reads the file from the merge-base commit and looks up that
commit and its first-parent ancestors in it. It is never read from the working tree: a pull request
controls its working tree and could otherwise edit its own baseline. A file exported and committed at
commit C usually holds records for C's ancestors (not C itself, which did not exist yet), which is
why the walk finds them at distance 1 or more. The path is relative to the repository's top folder.

The file store is read-only: record to the branch store, then ``idm-gate baseline export``.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from ..errors import InputError
from ..gitutil import Git, is_full_sha
from ..jsonsafe import JSONError, load_json
from .records import Warn, check_gate_key, check_record_value

FILE_VERSION = 2
LEGACY_FILE_VERSION = 1
EXPECTED = f'{{"version": {FILE_VERSION}, "gates": {{<gate key>: {{<sha>: record}}}}}}'


def gates_in(doc: object, where: str) -> dict[str, dict[str, object]]:
    """The records of a file store document by gate key, then SHA; ``InputError`` for another shape.

    A version-1 document (idm-gate 0.1.0) is grouped by each record's ``"manifest"``; a record without
    one cannot be attributed and is left out.
    """
    hint = "regenerate it with `idm-gate baseline export`"
    if isinstance(doc, dict) and doc.get("version") == LEGACY_FILE_VERSION and isinstance(doc.get("records"), dict):
        gates: dict[str, dict[str, object]] = {}
        for sha, rec in doc["records"].items():
            if isinstance(rec, dict) and isinstance(rec.get("manifest"), str) and rec["manifest"]:
                gates.setdefault(rec["manifest"], {})[sha] = rec
        return gates
    if not isinstance(doc, dict) or doc.get("version") != FILE_VERSION or not isinstance(doc.get("gates"), dict):
        raise InputError(f"{where}: expected {EXPECTED}; {hint}")
    for key, recs in doc["gates"].items():
        if not isinstance(recs, dict):
            raise InputError(f"{where}: gates[{key!r}] is {type(recs).__name__}, expected {{<sha>: record}}; {hint}")
    stored: dict[str, dict[str, object]] = doc["gates"]
    return stored


def normalise_path(path: str, what: str) -> str:
    """``path`` as a clean repository-relative POSIX path; ``InputError`` when it could escape."""
    if not path or "\n" in path or "\x00" in path:
        raise InputError(f"{what}: {path!r} is not a usable path; name a file relative to the repository root")
    p = PurePosixPath(path.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts:
        raise InputError(
            f"{what}: {path!r} leaves the repository; name a file relative to the repository root "
            f"(e.g. file:.idm/baselines.json)"
        )
    clean = str(p)
    if clean in ("", "."):
        raise InputError(f"{what}: {path!r} names the repository itself; name a file in it")
    return clean


class FileStore:
    """The ``file:<path>`` store; see the module docstring for what commit the file is read from."""

    def __init__(self, git: Git, path: str, *, key: str, warn: Warn, at: str | None = None):
        self.git = git
        self.key = check_gate_key(key, "baseline key")
        self.path = normalise_path(path, "--store file:")
        self.warn = warn
        self.at = at
        self.description = f"file {self.path!r} as committed" + (f" at {at[:12]}" if at else "")
        self._cache: dict[str, dict[str, object]] = {}

    def _records_at(self, rev: str) -> dict[str, object]:
        if rev in self._cache:
            return self._cache[rev]
        where = f"{self.path} at {rev[:12]}"
        data = self.git.show_file(rev, self.path)
        records: dict[str, object] = {}
        if data is not None:
            try:
                # Lenient on NaN and repeated keys: each record is checked on its own when it is used,
                # so one bad record is skipped with a warning instead of making the whole file unreadable.
                doc = load_json(data, where, allow_nan=True, duplicate_keys="last", allow_bom=False)
            except JSONError as e:
                raise InputError(
                    f"{where}: not valid JSON ({e.reason}); regenerate it with "
                    f"`idm-gate baseline export` and commit it on the base branch"
                ) from None
            records = gates_in(doc, where).get(self.key, {})
        self._cache[rev] = records
        return records

    def get_many(self, shas: list[str]) -> dict[str, dict[str, Any]]:
        """This gate's records for ``shas`` from the file at ``at`` (default: the first of ``shas``); one git call."""
        wanted = [s for s in shas if is_full_sha(s)]
        if not wanted:
            return {}
        records = self._records_at(self.at or wanted[0])
        found: dict[str, dict[str, Any]] = {}
        for sha in wanted:
            if sha in records:
                rec = check_record_value(sha, records[sha], self.path, self.warn)
                if rec is not None:
                    found[sha] = rec
        return found

    def put(self, sha: str, record: dict[str, Any]) -> None:
        raise InputError(
            f"--store file:{self.path}: the file store is read-only; record to the branch store "
            f"(--store branch) and write this file with `idm-gate baseline export`, then commit it"
        )
