"""How a baseline record is written to bytes and checked when read back.

The store knows one thing about a record: it is a JSON object whose ``"commit"`` is the SHA it is
filed under. Anything else is the measurement's business.
"""

from __future__ import annotations

import json
from collections.abc import Callable

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


def check_record_value(sha: str, value: object, where: str, warn: Warn) -> dict | None:
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


def parse_record(sha: str, data: bytes, where: str, warn: Warn) -> dict | None:
    """Decode a stored record; a corrupt one (not JSON, wrong commit) is warned about and skipped."""
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as e:
        if isinstance(e, json.JSONDecodeError):
            reason = f"not JSON: {e.msg} at line {e.lineno}"
        elif isinstance(e, UnicodeDecodeError):
            reason = "not UTF-8"
        else:
            reason = str(e)
        warn(f"{where}: baseline record for {sha[:12]} is corrupt ({reason}); ignoring it")
        return None
    return check_record_value(sha, value, where, warn)


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")
