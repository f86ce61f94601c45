"""The one-model manifest the record/check and action end-to-end tests share (a test module never
imports another test module)."""

from __future__ import annotations


def manifest(scores: dict, size_bytes: int = 2 * 10**9, gate: dict | None = None, evals=None, extra=None) -> dict:
    m = {"version": 1, "models": [{
        "name": "bonsai", "size_bytes": size_bytes,
        "evals": evals or [{"scores": scores, "scale": "percent"}], **(extra or {})}]}
    if gate is not None:
        m["gate"] = gate
    return m


BASE = {"arc": 70.0, "gsm8k": 60.0}   # Pe = 0.35
GATE = {"max_drop": "5%", "warn_drop": "2%"}
