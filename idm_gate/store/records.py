"""How a baseline record is written to bytes and checked when read back, and which gate it is for.

The store knows two things about a record: it is a JSON object whose ``"commit"`` is the SHA it is
filed under, and the *gate key* it is filed under (see ``check_gate_key``). Anything else is the
measurement's business.

Gate keys: one repository may hold several manifests, each its own gate with its own baselines. A
record is filed under (commit, gate key); the key is the manifest's path relative to the repository's
top folder (``idm.yaml``, ``models/vision/idm.yaml``) unless the user names one (``--baseline-key``).
Records written by idm-gate 0.1.0 were filed under the commit alone; they carry the manifest path in
their ``"manifest"`` field, and ``legacy_record_applies`` attributes them to a gate by it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from ..errors import InputError

Warn = Callable[[str], None]


def canonical_json(obj: object, what: str = "baseline record") -> bytes:
    """``obj`` as canonical JSON: sorted keys, indent 1, UTF-8, one trailing newline.

    The same record always gives the same bytes, so re-recording it is a no-op (same blob) and a
    diff of the baselines branch shows only what changed.
    """
    try:
        text = json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise InputError(
            f"{what}: contains NaN or Infinity, which JSON cannot hold; record null or a finite number"
        ) from None
    return (text + "\n").encode("utf-8")


def check_record_value(sha: str, value: object, where: str, warn: Warn) -> dict[str, Any] | None:
    """Return ``value`` when it is a JSON object whose ``commit`` is ``sha``; else warn and None."""
    if not isinstance(value, dict):
        warn(f"{where}: baseline record for {sha[:12]} is not a JSON object; ignoring it")
        return None
    if value.get("commit") != sha:
        warn(
            f"{where}: baseline record filed under {sha[:12]} says commit "
            f"{str(value.get('commit'))[:12]!r}; ignoring it (record the commit again to replace it)"
        )
        return None
    return value


def parse_record(sha: str, data: bytes, where: str, warn: Warn) -> dict[str, Any] | None:
    """Decode a stored record; a corrupt one (not JSON, wrong commit) is warned about and skipped."""
    from ..jsonsafe import JSONError, load_json

    try:
        value = load_json(data, where, allow_nan=False, duplicate_keys="last", allow_bom=False)
    except JSONError as e:
        reason = f"not JSON: {e.reason} at line {e.line}" if e.line is not None else e.reason
        warn(f"{where}: baseline record for {sha[:12]} is corrupt ({reason}); ignoring it")
        return None
    return check_record_value(sha, value, where, warn)


MAX_KEY_CHARS = 200


def check_gate_key(key: object, what: str = "--baseline-key") -> str:
    """``key`` when it can name a gate: 1..200 printable characters; else ``InputError``.

    The key is stored percent-encoded as one file name (``key_filename``), so any printable text
    works, slashes included.
    """
    if not isinstance(key, str) or not key.strip():
        raise InputError(f"{what}: {key!r} is empty; name the gate, e.g. its manifest path models/idm.yaml")
    if len(key) > MAX_KEY_CHARS or not key.isprintable():
        raise InputError(f"{what}: {key[:40]!r}... is not a usable gate key; use at most {MAX_KEY_CHARS} "
                         "printable characters, e.g. the manifest path models/idm.yaml")
    return key


def key_filename(key: str) -> str:
    """The file name a gate's record has inside its commit's folder: the key percent-encoded + ``.json``.

    ``idm.yaml`` -> ``idm.yaml.json``; ``models/a/idm.yaml`` -> ``models%2Fa%2Fidm.yaml.json``. Every
    byte outside ``A-Za-z0-9_.-~`` is encoded, so no key can leave the folder or collide with another.
    """
    return quote(key, safe="") + ".json"


def legacy_record_applies(record: dict[str, Any], key: str) -> bool:
    """True when a record filed under its commit alone (idm-gate 0.1.0) belongs to the gate ``key``.

    0.1.0 wrote the manifest's repository-relative path into ``"manifest"``; with two manifests the
    second ``record`` replaced the first's, so the field says whose record survived.
    """
    return record.get("manifest") == key
