"""Bad input, end to end: one clear line, exit 2, within seconds, nothing else touched.

Every case builds a small model repository in a temp folder (``git init``, plus a folder *outside* it
holding secrets), runs the real CLI (``python -m idm_gate measure``) in a subprocess and checks what a
user or an attacker would see:

- exit code 2, within ``TIMEOUT_S`` (``subprocess.run(timeout=...)``, so a hang fails the test);
- standard error is exactly one line, ``idm-gate: error: <file>: <place>: ...``, naming the file and
  the field or place; nothing on standard output; no traceback;
- no secret leaks: a file outside the repository holds ``SECRET-1234``, the environment holds
  ``SECRET-ENV-5678`` (reachable as ``/proc/self/environ``), and ``/etc/passwd`` is a target; none of
  their content may appear in the output;
- nothing is touched: every path in the repository and the outside folder keeps its type, size, mtime
  (and, for small files, content), and no file appears or disappears.

``CASE_COUNT`` (and ``CASES_BY_CATEGORY``) is what the README quotes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gguf
import numpy as np
import pytest
import yaml
from safetensors.numpy import save_file

TIMEOUT_S = 20.0
SECRET_FILE_MARK = "SECRET-1234"
SECRET_ENV_MARK = "SECRET-ENV-5678"
PASSWD_MARK = "root:x:0:0"
MARKERS = (SECRET_FILE_MARK, SECRET_ENV_MARK, PASSWD_MARK)
M = "idm.yaml"  # the manifest's name in messages

Setup = Callable[[Path, Path], None]


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    setup: Setup                 # (repo, outside) -> writes the files
    expect: tuple[str, ...]      # substrings of the error line (file and field first)
    manifest: str = "idm.yaml"   # passed as -m, relative to the repository
    fast_fs: bool = False        # build the repository on tmpfs (/dev/shm) when there is one
    problems: int = 1            # lines on stderr: a manifest's problems are all reported, one line each


CASES: list[Case] = []


def add(id: str, category: str, setup: Setup, *expect: str, **kw) -> None:
    CASES.append(Case(id, category, setup, expect, **kw))


# ------------------------------------------------------------------------------------------- writers

MODEL = {"name": "m", "size_gb": 1, "evals": [{"scores": {"x": 0.5}}]}
DROP = object()     # leave the field out
DEFAULT = object()  # one good model


def model(**kw) -> dict:
    d = dict(MODEL)
    d.update(kw)
    return {k: v for k, v in d.items() if v is not DROP}


def manifest_doc(models=DEFAULT, **top) -> dict:
    d = {"version": 1, "models": [dict(MODEL)] if models is DEFAULT else models, **top}
    return {k: v for k, v in d.items() if v is not DROP}


def write(root: Path, rel: str, content) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, dict):
        content = yaml.safe_dump(content, sort_keys=False, allow_unicode=True)
    p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return p


def man(models=DEFAULT, **top) -> Setup:
    """A setup writing idm.yaml from a document (models default to one good model)."""
    return lambda repo, out: write(repo, M, manifest_doc(models, **top))


def raw(data: bytes | str, name: str = M) -> Setup:
    return lambda repo, out: write(repo, name, data)


def with_files(models: list, files: dict, **top) -> Setup:
    """idm.yaml plus other files; a value that is callable is called with (path, outside)."""

    def setup(repo: Path, outside: Path) -> None:
        write(repo, M, manifest_doc(models, **top))
        for rel, content in files.items():
            p = repo / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if callable(content):
                content(p, outside)
            else:
                write(repo, rel, content)

    return setup


def symlink_to(target: str | Callable[[Path], Path]) -> Callable[[Path, Path], None]:
    def make(p: Path, outside: Path) -> None:
        p.symlink_to(target(outside) if callable(target) else target)

    return make


def fifo(p: Path, outside: Path) -> None:
    os.mkfifo(p)


def directory(p: Path, outside: Path) -> None:
    p.mkdir()


def sparse(size: int, head: bytes = b"", tail: bytes = b"") -> Callable[[Path, Path], None]:
    """A file of ``size`` bytes written in an instant (a hole in the middle)."""

    def make(p: Path, outside: Path) -> None:
        with open(p, "wb") as f:
            f.write(head)
            f.truncate(size - len(tail))
            f.seek(size - len(tail))
            f.write(tail)

    return make


def art(*paths: str, **kw) -> dict:
    return model(**{"size_gb": DROP, "artifacts": list(paths), **kw})


def ev(path: str, **kw) -> dict:
    return model(evals=[{"path": path, **kw}])


# Real weight files, written by the formats' own libraries, then corrupted at chosen bytes.

def _safetensors_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "m.safetensors"
        save_file({"embed": np.arange(12, dtype=np.float32).reshape(3, 4), "norm": np.ones(4, dtype=np.float16)},
                  str(p))
        return p.read_bytes()


def _gguf_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "m.gguf"
        w = gguf.GGUFWriter(str(p), "llama")
        w.add_block_count(1)
        w.add_string("general.name", "tiny")
        w.add_array("tokenizer.ggml.tokens", ["<s>", "a", "b"])
        w.add_tensor("token_embd.weight", np.zeros((4, 32), dtype=np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        return p.read_bytes()


ST = _safetensors_bytes()
GG = _gguf_bytes()
ST_N = struct.unpack("<Q", ST[:8])[0]


def st_header_edit(edit: Callable[[dict], None]) -> bytes:
    header = json.loads(ST[8:8 + ST_N])
    edit(header)
    new = json.dumps(header).encode()
    new += b" " * (-len(new) % 8)
    return struct.pack("<Q", len(new)) + new + ST[8 + ST_N:]


def patched(seed: bytes, offset: int, data: bytes) -> bytes:
    b = bytearray(seed)
    b[offset:offset + len(data)] = data
    return bytes(b)


# GGUF layout: magic(4) version(4) n_tensors(8) n_kv(8), then the first key: u64 length + bytes.
GG_KEY_LEN_AT = 24
OID = "sha256:" + "ab" * 32


def lfs(size_line: str, oid: str = OID) -> str:
    return f"version https://git-lfs.github.com/spec/v1\noid {oid}\n{size_line}\n"


def lmeval(results: dict, **extra) -> str:
    return json.dumps({"results": results, **extra})


# =================================================================================== the corpus

# ---- manifest: YAML that must not be parsed, or not parsed naively

def _bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 9)}]")
    return "\n".join(lines) + "\n"


add("yaml-alias-bomb", "yaml", raw(_bomb()), f"{M}: ", "alias bomb")
add("yaml-alias-bomb-in-models", "yaml", raw(
    "version: 1\nx: &x [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"x{i}: &x{i} [{','.join(['*x' if i == 0 else f'*x{i - 1}'] * 10)}]\n" for i in range(6))
    + "models: [{name: m, size_gb: 1, evals: [{scores: {x: 0.5}}], tasks: *x5}]\n"), f"{M}: ", "alias bomb")
add("yaml-recursive-alias", "yaml", raw("version: 1\nmodels: &a [*a]\n"), f"{M}: line 2, column 9: ",
    "an alias refers to a node that contains it")
add("yaml-recursive-mapping", "yaml", raw("version: 1\nmodels: [&m {name: a, evals: [*m]}]\n"), f"{M}: line 2",
    "an alias refers to a node that contains it")
add("yaml-duplicate-top-key", "yaml", raw("version: 1\nversion: 1\nmodels: []\n"), f"{M}: line 2", "duplicate key 'version'")
add("yaml-duplicate-model-key", "yaml", raw(
    "version: 1\nmodels:\n - name: a\n   size_gb: 1\n   size_gb: 2\n   evals: [{scores: {x: 0.5}}]\n"),
    f"{M}: line 5", "duplicate key 'size_gb'")
add("yaml-duplicate-score-key", "yaml", raw(
    "version: 1\nmodels: [{name: a, size_gb: 1, evals: [{scores: {x: 0.5, x: 0.9}}]}]\n"), f"{M}: line 2",
    "duplicate key 'x'")
add("yaml-python-apply-os-system", "yaml", raw("!!python/object/apply:os.system ['touch pwned']\n"), f"{M}: ",
    "is not allowed")
add("yaml-python-tag-in-value", "yaml", raw(
    "version: 1\nmodels:\n - name: !!python/object/apply:os.system ['touch pwned']\n   size_gb: 1\n"
    "   evals: [{scores: {x: 0.5}}]\n"), f"{M}: line 3", "is not allowed")
add("yaml-python-name-tag", "yaml", raw("version: !!python/name:os.system\nmodels: []\n"), f"{M}: ", "is not allowed")
add("yaml-unknown-local-tag", "yaml", raw("version: !include /etc/passwd\nmodels: []\n"), f"{M}: ", "is not allowed")
add("yaml-unhashable-key", "yaml", raw("version: 1\n? [a, b]\n: 1\nmodels: []\n"), f"{M}: ", "plain value")
add("yaml-non-string-key", "yaml", raw("version: 1\n1: 2\nmodels: []\n"),
    f"{M}: (top level): key 1 must be a string; YAML reads an unquoted 1 as a number: quote it ('1')")
add("yaml-100MB-manifest", "yaml", lambda repo, out: sparse(100 * 1024 * 1024, b"version: 1\n# ")(repo / M, out),
    f"{M}: ", "over the 10,485,760-byte limit")
add("yaml-binary-garbage", "yaml", raw(bytes(range(256)) * 4), f"{M}: ", "not UTF-8")
add("yaml-control-character", "yaml", raw(b"version: 1\nmodels: []\x01\n"), f"{M}: line 2, column 11: ",
    "control character #x0001")
add("yaml-key-with-line-separator", "yaml", raw('version: 1\nmodels: [{name: a, size_gb: 1, evals: [{scores: {x: 0.5}}], '
                                              'metrics: {"forged\\nidm-gate: ok": null}}]\n'),
    f"{M}: models[0].metrics.forged\\nidm-gate: ok: expected a string")
add("yaml-nul-bytes", "yaml", raw(b"version: 1\x00\nmodels: []\n"), f"{M}: ", "NUL")
add("yaml-empty-file", "yaml", raw(b""), f"{M}: ", "empty document")
add("yaml-only-comments", "yaml", raw("# nothing here\n"), f"{M}: ", "empty document")
add("yaml-two-documents", "yaml", raw("version: 1\n---\nversion: 1\n"), f"{M}: ", "invalid YAML")
add("yaml-unclosed-flow", "yaml", raw("version: 1\nmodels: [\n"), f"{M}: ", "invalid YAML")
add("yaml-tab-indent", "yaml", raw("version: 1\nmodels:\n\t- name: a\n"), f"{M}: line 3", "invalid YAML")
add("yaml-deep-nesting", "yaml", raw("version: 1\nmodels: " + "[" * 50_000 + "]" * 50_000 + "\n"), f"{M}: ",
    "nested")
add("yaml-top-level-list", "yaml", raw("- version: 1\n"), f"{M}: ", "must be a mapping")
add("yaml-top-level-scalar", "yaml", raw("hello\n"), f"{M}: ", "must be a mapping")
add("yaml-int-with-5000-digits", "yaml", raw(
    "version: 1\nmodels: [{name: a, size_bytes: " + "9" * 5000 + ", evals: [{scores: {x: 0.5}}]}]\n"),
    f"{M}: line 2, column 32: value cannot be read (Exceeds the limit (4300 digits)")
add("yaml-impossible-date", "yaml", raw("version: 2001-13-45\nmodels: []\n"), f"{M}: line 1, column 10: ",
    "value cannot be read (month must be in 1..12)")
add("yaml-float-tag-on-text", "yaml", raw("version: 1\nmin_error: !!float tiny\nmodels: []\n"), f"{M}: line 2, ",
    "value cannot be read")
add("yaml-infinite-float", "yaml", raw("version: 1\nmodels: [{name: a, size_gb: .inf, evals: [{scores: {x: 0.5}}]}]\n"),
    f"{M}: models[0].size_gb: ", "not a finite number")
add("yaml-float-overflow", "yaml", raw("version: 1\nmodels: [{name: a, size_gb: 1.0e+400, evals: [{scores: {x: 0.5}}]}]\n"),
    f"{M}: models[0].size_gb: inf is not a finite number")
add("yaml-1e400-is-text", "yaml", raw("version: 1\nmodels: [{name: a, size_gb: 1e400, evals: [{scores: {x: 0.5}}]}]\n"),
    f"{M}: models[0].size_gb: expected a number, got '1e400'")
add("yaml-invalid-utf8", "yaml", raw(b"version: 1\nmodels: [{name: \xff\xfe}]\n"), f"{M}: ", "not UTF-8")
add("yaml-utf16-bom", "yaml", raw("version: 1\n".encode("utf-16")), f"{M}: ", "not UTF-8")

# ---- manifest: the wrong type (or value) at every level

TYPES: list[tuple[str, dict, str]] = [
    # top level
    ("version-string", dict(version="1"), "version: '1' is not supported; use 1"),
    ("version-2", dict(version=2), "version: 2 is not supported; use 1"),
    ("version-list", dict(version=[1]), "version: [1] is not supported"),
    ("version-missing", dict(version=DROP), "(top level): missing required field 'version'"),
    ("log-base-10", dict(log_base=10), "log_base: 10 is not valid"),
    ("log-base-list", dict(log_base=["e"]), "log_base: [\"e\"] is not valid"),
    ("log-base-bool", dict(log_base=True), "log_base: true is not valid"),
    ("min-error-string", dict(min_error="tiny"), "min_error: expected a number"),
    ("min-error-zero", dict(min_error=0), "min_error: 0 is out of range"),
    ("min-error-over-one", dict(min_error=2), "min_error: 2 is out of range"),
    ("unknown-top-field", dict(modles=[]), "(top level): unknown field 'modles'"),
    ("gate-list", dict(gate=[1]), "gate: expected a mapping"),
    ("gate-string", dict(gate="strict"), "gate: expected a mapping"),
    ("gate-max-drop-word", dict(gate={"max_drop": "five"}), "gate.max_drop: 'five' is not valid"),
    ("gate-max-drop-5", dict(gate={"max_drop": 5}), "gate.max_drop: 5 is not valid"),
    ("gate-max-drop-negative", dict(gate={"max_drop": -0.1}), "gate.max_drop: -0.1 is not valid"),
    ("gate-warn-drop-mapping", dict(gate={"warn_drop": {}}), "gate.warn_drop: {} is not valid"),
    ("gate-min-density-string", dict(gate={"min_density": "high"}), "gate.min_density: expected a number"),
    ("gate-max-size-zero", dict(gate={"max_size_gb": 0}), "gate.max_size_gb: 0 is out of range"),
    ("gate-max-error-rate-2", dict(gate={"max_error_rate": 2}), "gate.max_error_rate: 2 is out of range"),
    ("gate-significance-maybe", dict(gate={"significance": "maybe"}), "gate.significance: 'maybe' is not valid"),
    ("gate-z-zero", dict(gate={"z": 0}), "gate.z: 0 is out of range"),
    ("gate-z-huge", dict(gate={"z": 100}), "gate.z: 100 is out of range"),
    ("gate-unknown-field", dict(gate={"max_dorp": 0.1}), "gate: unknown field 'max_dorp'"),
    ("models-mapping", dict(models={"m": MODEL}), "models: expected a list"),
    ("models-string", dict(models="m"), "models: expected a list"),
    ("models-null", dict(models=None), "models: expected a list"),
    ("models-empty", dict(models=[]), "models: must not be empty"),
    ("models-item-number", dict(models=[1]), "models[0]: expected a mapping"),
    ("models-item-list", dict(models=[[MODEL]]), "models[0]: expected a mapping"),
    # one model's fields
    ("name-number", dict(models=[model(name=123)]), "models[0].name: expected a string, got 123"),
    ("name-empty", dict(models=[model(name="")]), "models[0].name: must not be empty"),
    ("name-list", dict(models=[model(name=["a"])]), "models[0].name: expected a string"),
    ("name-too-long", dict(models=[model(name="n" * 201)]), "models[0].name: too long"),
    ("name-control-char", dict(models=[model(name="a\x1b[31mb")]), "models[0].name: contains control characters"),
    ("name-missing", dict(models=[model(name=DROP)]), "models[0]: missing required field 'name'"),
    ("name-duplicate", dict(models=[model(), model()]), "models[1].name: 'm' is already used by models[0]"),
    ("artifacts-string", dict(models=[model(size_gb=DROP, artifacts="w.bin")]),
     "models[0].artifacts: expected a list"),
    ("artifacts-empty", dict(models=[model(artifacts=[])]), "models[0].artifacts: must not be empty"),
    ("artifacts-item-number", dict(models=[model(artifacts=[1])]), "models[0].artifacts[0]: expected a string"),
    ("artifacts-item-empty", dict(models=[model(artifacts=[""])]), "models[0].artifacts[0]: must not be empty"),
    ("size-gb-string", dict(models=[model(size_gb="1GB")]), "models[0].size_gb: expected a number, got '1GB'"),
    ("size-gb-zero", dict(models=[model(size_gb=0)]), "models[0].size_gb: 0 is out of range"),
    ("size-gb-negative", dict(models=[model(size_gb=-1)]), "models[0].size_gb: -1 is out of range"),
    ("size-gb-bool", dict(models=[model(size_gb=True)]), "models[0].size_gb: expected a number, got true"),
    ("size-bytes-float", dict(models=[model(size_gb=DROP, size_bytes=1.5)]), "models[0].size_bytes: expected an integer"),
    ("size-bytes-string", dict(models=[model(size_gb=DROP, size_bytes="1e9")]), "models[0].size_bytes: expected an integer"),
    ("size-bytes-zero", dict(models=[model(size_gb=DROP, size_bytes=0)]), "models[0].size_bytes: 0 is out of range"),
    ("size-missing", dict(models=[model(size_gb=DROP)]), "models[0]: no size given"),
    ("size-gb-and-bytes-disagree", dict(models=[model(size_bytes=2 * 10**9)]), "models[0]: size_bytes"),
    ("evals-mapping", dict(models=[model(evals={"scores": {"x": 0.5}})]), "models[0].evals: expected a list"),
    ("evals-empty", dict(models=[model(evals=[])]), "models[0].evals: must not be empty"),
    ("evals-string", dict(models=[model(evals="results.json")]), "models[0].evals: expected a list"),
    ("evals-missing", dict(models=[model(evals=DROP)]), "models[0]: missing required field 'evals'"),
    ("tasks-string", dict(models=[model(tasks="x")]), "models[0].tasks: expected a list"),
    ("tasks-empty", dict(models=[model(tasks=[])]), "models[0].tasks: must not be empty"),
    ("tasks-item-number", dict(models=[model(tasks=[1])]), "models[0].tasks[0]: expected a string"),
    ("tasks-repeated", dict(models=[model(tasks=["x", "x"])]), "models[0].tasks: lists the same entry twice"),
    ("tasks-unknown", dict(models=[model(tasks=["y"])]), "models[0].tasks: 'y' has no usable score"),
    ("metrics-list", dict(models=[model(metrics=["acc"])]), "models[0].metrics: expected a mapping"),
    ("metrics-value-number", dict(models=[model(metrics={"x": 1})]), "models[0].metrics.x: expected a string"),
    ("metrics-value-empty", dict(models=[model(metrics={"x": ""})]), "models[0].metrics.x: must not be empty"),
    ("metrics-unknown-task", dict(models=[model(metrics={"y": "acc"})]), "models[0].metrics: 'y' is not a task"),
    ("weights-list", dict(models=[model(weights=[1])]), "models[0].weights: expected a mapping"),
    ("weights-value-string", dict(models=[model(weights={"x": "2"})]), "models[0].weights.x: expected a number"),
    ("weights-value-zero", dict(models=[model(weights={"x": 0})]), "models[0].weights.x: 0 is out of range"),
    ("weights-value-negative", dict(models=[model(weights={"x": -1})]), "models[0].weights.x: -1 is out of range"),
    ("weights-unknown-task", dict(models=[model(weights={"y": 2})]), "models[0].weights: 'y' is not a task"),
    ("model-min-error-string", dict(models=[model(min_error="x")]), "models[0].min_error: expected a number"),
    ("model-min-error-zero", dict(models=[model(min_error=0)]), "models[0].min_error: 0 is out of range"),
    ("model-gate-max-drop", dict(models=[model(gate={"max_drop": "a lot"})]), "models[0].gate.max_drop: 'a lot' is not valid"),
    ("model-gate-string", dict(models=[model(gate="on")]), "models[0].gate: expected a mapping"),
    ("model-unknown-field", dict(models=[model(evalz=[])]), "models[0]: unknown field 'evalz'"),
    # one eval entry's fields
    ("eval-number", dict(models=[model(evals=[1])]), "models[0].evals[0]: expected a mapping"),
    ("eval-empty-mapping", dict(models=[model(evals=[{}])]), "models[0].evals[0]: give exactly one of path"),
    ("eval-path-and-scores", dict(models=[model(evals=[{"path": "r.json", "scores": {"x": 0.5}}])]),
     "models[0].evals[0]: give exactly one of path"),
    ("eval-path-number", dict(models=[model(evals=[{"path": 1}])]), "models[0].evals[0].path: expected a string"),
    ("eval-path-empty", dict(models=[model(evals=[{"path": ""}])]), "models[0].evals[0].path: must not be empty"),
    ("eval-scores-list", dict(models=[model(evals=[{"scores": [0.5]}])]), "models[0].evals[0].scores: expected a mapping"),
    ("eval-scores-empty", dict(models=[model(evals=[{"scores": {}}])]), "models[0].evals[0].scores: must not be empty"),
    ("eval-score-string", dict(models=[model(evals=[{"scores": {"x": "high"}}])]),
     "models[0].evals[0].scores.x: expected a number, got 'high'"),
    ("eval-score-null", dict(models=[model(evals=[{"scores": {"x": None}}])]), "models[0].evals[0].scores.x: expected a number"),
    ("eval-scale-unknown", dict(models=[model(evals=[{"scores": {"x": 0.5}, "scale": "pct"}])]),
     "models[0].evals[0].scale: 'pct' is not valid"),
    ("eval-format-unknown", dict(models=[model(evals=[{"path": "r.xml", "format": "xml"}])]),
     "models[0].evals[0].format: 'xml' is not valid"),
    ("eval-unknown-field", dict(models=[model(evals=[{"scores": {"x": 0.5}, "weight": 2}])]),
     "models[0].evals[0]: unknown field 'weight'"),
    ("eval-format-with-inline", dict(models=[model(evals=[{"scores": {"x": 0.5}, "format": "json"}])]),
     "models[0].evals[0].format: applies to a file"),
    # domains (groups:), top level and per model
    ("groups-list", dict(groups=["x"]), "groups: expected a mapping"),
    ("groups-empty", dict(groups={}), "groups: must not be empty"),
    ("groups-value-string", dict(groups={"g": "x"}), "groups.g: expected a list, got 'x'"),
    ("groups-item-number", dict(groups={"g": [1]}), "groups.g[0]: expected a string, got 1"),
    ("groups-item-empty", dict(groups={"g": [""]}), "groups.g[0]: must not be empty"),
    ("groups-partly-matched", dict(groups={"g": ["x", "y"]}),
     "groups.g: 'y' is not a task of this model (it applies because the model counts other tasks of the group)"),
    ("model-groups-unknown-task", dict(models=[model(groups={"g": ["y"]})]),
     "models[0].groups.g: 'y' is not a task of this model"),
    ("model-groups-entry-control-char", dict(models=[model(groups={"g": ["x\x1b[31m"]})]),
     "models[0].groups.g[0]: contains control characters"),
    # fnmatch's translation never backtracks exponentially: a 501-character glob of 250 stars is refused fast
    ("model-groups-star-bomb", dict(models=[model(groups={"g": ["*x" * 250 + "y"]})]),
     "models[0].groups.g: '" + "*x" * 38 + "... matches none of the model's tasks; tasks counted: x"),
    ("gate-min-group-density-string", dict(gate={"min_group_density": "high"}),
     "gate.min_group_density: expected a number"),
]
for _id, _top, _msg in TYPES:
    add(f"type-{_id}", "manifest types", man(**_top), f"{M}: {_msg}")

# ---- eval results files: JSON and friends

add("json-duplicate-keys", "eval files", with_files([ev("evals/s.json")], {"evals/s.json": '{"x": 0.5, "x": 0.9}'}),
    "evals/s.json: key 'x': appears twice")
add("json-lmeval-duplicate-metric", "eval files", with_files([ev("evals/r.json")], {
    "evals/r.json": '{"results": {"t": {"acc,none": 0.5, "acc,none": 0.99}}}'}), "evals/r.json: key 'acc,none'")
add("json-100k-deep", "eval files", with_files([ev("evals/s.json")], {"evals/s.json": "[" * 100_000 + "]" * 100_000}),
    "evals/s.json: ", "nested too deeply")
add("json-100k-deep-objects", "eval files", with_files([ev("evals/r.json")], {
    "evals/r.json": '{"results": ' + '{"a": ' * 100_000 + "1" + "}" * 100_001}), "evals/r.json: ", "nested too deeply")
add("json-1e400", "eval files", with_files([ev("evals/s.json")], {"evals/s.json": '{"x": 1e400}'}),
    "evals/s.json: x: ", "not finite")
add("json-1e400-lmeval", "eval files", with_files([ev("evals/r.json")], {"evals/r.json": '{"results": {"t": {"acc,none": 1e400}}}'}),
    "evals/r.json: results.t['acc,none']: the value is not finite (inf)")
add("json-5000-digit-int", "eval files", with_files([ev("evals/s.json")], {"evals/s.json": '{"x": ' + "1" * 5000 + "}"}),
    "evals/s.json: ", "number that cannot be read")
add("json-5000-digit-int-lmeval", "eval files", with_files([ev("evals/r.json")], {
    "evals/r.json": '{"results": {"t": {"acc,none": ' + "9" * 5000 + "}}}"}), "evals/r.json: ", "number that cannot be read")
add("json-truncated", "eval files", with_files([ev("evals/r.json")], {
    "evals/r.json": lmeval({"t": {"acc,none": 0.5, "acc_stderr,none": 0.01}})[:-7]}), "evals/r.json: line 1", "truncated")
add("json-truncated-in-string", "eval files", with_files([ev("evals/r.json")], {"evals/r.json": '{"results": {"t": {"acc'}),
    "evals/r.json: line 1", "truncated")
add("json-nan-chosen-metric", "eval files", with_files([ev("evals/r.json")], {
    "evals/r.json": '{"results": {"t": {"acc,none": NaN, "acc_stderr,none": 0.1}}}'}),
    "evals/r.json: results.t['acc,none']: the value is not finite (nan)")
add("json-infinity-chosen-metric", "eval files", with_files([ev("evals/r.json")], {
    "evals/r.json": '{"results": {"t": {"acc,none": Infinity}}}'}),
    "evals/r.json: results.t['acc,none']: the value is not finite (inf)")
add("json-nan-plain-score", "eval files", with_files([ev("evals/s.json")], {"evals/s.json": '{"x": NaN}'}),
    "evals/s.json: x: ", "not finite")
add("json-neg-infinity-primary-metric", "eval files", with_files([ev("evals/r.json")], {
    "evals/r.json": '{"results": {"t": {"acc,none": 0.5, "acc_norm,none": -Infinity}}}'}),
    "evals/r.json: results.t['acc_norm,none']: the value is not finite (-inf)")
add("json-binary-garbage", "eval files", with_files([ev("evals/s.json")], {"evals/s.json": bytes(range(256)) * 8}),
    "evals/s.json: ", "not UTF-8")
add("json-empty-file", "eval files", with_files([ev("evals/s.json")], {"evals/s.json": b""}),
    "evals/s.json: line 1 column 1: the file ends before the JSON does")
add("json-top-level-list", "eval files", with_files([ev("evals/s.json")], {"evals/s.json": "[0.5]"}),
    "evals/s.json: top level: ")
add("json-no-tasks", "eval files", with_files([ev("evals/s.json")], {"evals/s.json": "{}"}), "evals/s.json: holds no tasks")
add("json-lmeval-results-list", "eval files", with_files([ev("evals/r.json", format="lm-eval")], {"evals/r.json": '{"results": []}'}),
    "evals/r.json: results: ")
add("json-over-64MB", "eval files", with_files([ev("evals/s.json")], {"evals/s.json": sparse(65 * 1024 * 1024, b"{")}),
    f"{M}: models[0].evals[0].path: 'evals/s.json' is ", "over the 67,108,864-byte limit")
add("csv-no-header", "eval files", with_files([ev("evals/s.csv")], {"evals/s.csv": "x,0.5\n"}), "evals/s.csv: line 1")
add("csv-huge-field", "eval files", with_files([ev("evals/s.csv")], {"evals/s.csv": 'task,score\n"' + "x" * 300_000 + '",0.5\n'}),
    "evals/s.csv: line ", "not valid CSV")
add("csv-nul", "eval files", with_files([ev("evals/s.csv")], {"evals/s.csv": b"task,score\nx\x00,0.5\n"}),
    "evals/s.csv: ", "NUL")
add("csv-score-inf", "eval files", with_files([ev("evals/s.csv")], {"evals/s.csv": "task,score\nx,inf\n"}),
    "evals/s.csv: line 2 (x): ", "not finite")
add("model-card-alias-bomb", "eval files", with_files([ev("README.md")], {"README.md": "---\n" + _bomb() + "---\n"}),
    "README.md: front matter: line 2, column 4: invalid YAML (anchors and aliases (&name, *name) are not accepted")
add("model-card-python-tag", "eval files", with_files([ev("README.md")], {
    "README.md": "---\nmodel-index: !!python/object/apply:os.system ['touch pwned']\n---\n"}), "README.md: front matter: line 2, ", "tag '!!python/object/apply:os.system' is not allowed")
add("unknown-suffix", "eval files", with_files([ev("evals/scores.txt")], {"evals/scores.txt": "x 0.5\n"}),
    "evals/scores.txt: ", "not a results format idm-gate reads")

# ---- paths: escaping the repository, special files, globs

def _secret_json(outside: Path) -> Path:
    return outside / "leak.json"


def _secret_dir(outside: Path) -> Path:
    return outside


PATHS = "paths"
add("eval-dotdot-escape", PATHS, man([ev("../outside/leak.json")]),
    f"{M}: models[0].evals[0].path: '../outside/leak.json' resolves outside the repository")
add("eval-dotdot-deep", PATHS, man([ev("evals/../../../../../../../../etc/passwd", format="csv")]),
    f"{M}: models[0].evals[0].path: ", "resolves outside the repository")
add("eval-absolute", PATHS, man([ev("/etc/passwd", format="csv")]),
    f"{M}: models[0].evals[0].path: '/etc/passwd' is an absolute path")
add("eval-symlink-out", PATHS, with_files([ev("evals/r.json")], {"evals/r.json": symlink_to(_secret_json)}),
    f"{M}: models[0].evals[0].path: 'evals/r.json' resolves outside the repository")
add("eval-symlinked-dir-out", PATHS, with_files([ev("evals/out/leak.json")], {"evals/out": symlink_to(_secret_dir)}),
    f"{M}: models[0].evals[0].path: ", "resolves outside the repository")
add("eval-symlink-etc-passwd", PATHS, with_files([ev("evals/p.csv")], {"evals/p.csv": symlink_to("/etc/passwd")}),
    f"{M}: models[0].evals[0].path: 'evals/p.csv' resolves outside the repository")
add("eval-symlink-proc-environ", PATHS, with_files([ev("evals/e.json")], {"evals/e.json": symlink_to("/proc/self/environ")}),
    f"{M}: models[0].evals[0].path: 'evals/e.json' resolves outside the repository")
add("eval-symlink-dev-zero", PATHS, with_files([ev("evals/z.json")], {"evals/z.json": symlink_to("/dev/zero")}),
    f"{M}: models[0].evals[0].path: 'evals/z.json' resolves outside the repository")
add("eval-fifo", PATHS, with_files([ev("evals/pipe.json")], {"evals/pipe.json": fifo}),
    f"{M}: models[0].evals[0].path: 'evals/pipe.json' is not a regular file")
add("eval-directory", PATHS, with_files([ev("evals/d.json")], {"evals/d.json": directory}),
    f"{M}: models[0].evals[0].path: 'evals/d.json' is a directory")
add("eval-missing", PATHS, man([ev("evals/nope.json")]), f"{M}: models[0].evals[0].path: 'evals/nope.json' does not exist")
add("eval-symlink-loop", PATHS, with_files([ev("evals/a.json")], {
    "evals/a.json": symlink_to("b.json"), "evals/b.json": symlink_to("a.json")}), f"{M}: models[0].evals[0].path: 'evals/a.json' cannot be read (Too many levels of symbolic links)")
add("eval-nul-in-path", PATHS, man([ev("evals/a\x00.json")]), f"{M}: models[0].evals[0].path: ", "NUL")
add("eval-long-path", PATHS, man([ev("e" * 4000 + ".json")]), f"{M}: models[0].evals[0].path: 'eee",
    "cannot be read (File name too long)")
add("artifact-dotdot-escape", PATHS, man([art("../outside/leak.json")]),
    f"{M}: models[0].artifacts[0]: '../outside/leak.json' resolves outside the repository")
add("artifact-dotdot-glob", PATHS, man([art("../outside/*")]), f"{M}: models[0].artifacts[0]: ",
    "resolves outside the repository")
add("artifact-absolute", PATHS, man([art("/etc/passwd")]), f"{M}: models[0].artifacts[0]: '/etc/passwd' is an absolute path")
add("artifact-symlink-etc-passwd", PATHS, with_files([art("weights/p.bin")], {"weights/p.bin": symlink_to("/etc/passwd")}),
    f"{M}: models[0].artifacts[0]: 'weights/p.bin' resolves outside the repository")
add("artifact-symlink-proc-environ", PATHS, with_files([art("weights/e.safetensors")], {
    "weights/e.safetensors": symlink_to("/proc/self/environ")}), f"{M}: models[0].artifacts[0]: ", "resolves outside")
add("artifact-symlink-dev-zero", PATHS, with_files([art("weights/z.gguf")], {"weights/z.gguf": symlink_to("/dev/zero")}),
    f"{M}: models[0].artifacts[0]: 'weights/z.gguf' resolves outside the repository")
add("artifact-glob-hits-symlink-out", PATHS, with_files([art("weights/*")], {
    "weights/a.bin": b"\0" * 10, "weights/b.bin": symlink_to(_secret_json)}), f"{M}: models[0].artifacts[0]: ",
    "resolves outside the repository")
add("artifact-fifo", PATHS, with_files([art("weights/pipe.gguf")], {"weights/pipe.gguf": fifo}),
    f"{M}: models[0].artifacts[0]: 'weights/pipe.gguf' is not a regular file")
add("artifact-fifo-by-glob", PATHS, with_files([art("weights/*.safetensors")], {"weights/p.safetensors": fifo}),
    f"{M}: models[0].artifacts[0]: 'weights/p.safetensors' is not a regular file")
add("artifact-directory", PATHS, with_files([art("weights/m.safetensors")], {"weights/m.safetensors": directory}),
    f"{M}: models[0].artifacts[0]: folder 'weights/m.safetensors' holds no weight file idm-gate recognises")
add("artifact-glob-no-match", PATHS, with_files([art("weights/*.gguf")], {"weights/m.bin": b"x"}),
    f"{M}: models[0].artifacts[0]: 'weights/*.gguf' matches no file")
add("artifact-missing", PATHS, man([art("weights/m.gguf")]), f"{M}: models[0].artifacts[0]: 'weights/m.gguf' does not exist")
add("artifact-unsupported-scheme", PATHS, man([art("s3://bucket/m.gguf")]), f"{M}: models[0].artifacts[0]: ",
    "unsupported scheme")
add("artifact-nul-in-path", PATHS, man([art("weights/a\x00.bin")]), f"{M}: models[0].artifacts[0]: ", "NUL")


def _many_files(repo: Path, outside: Path) -> None:
    write(repo, M, manifest_doc([art("many/*.bin")]))
    many = repo / "many"
    many.mkdir()
    # 100,000 on tmpfs (~1 s); elsewhere just enough to cross the 10,000-match cap
    for i in range(100_000 if str(repo).startswith("/dev/shm/") else 10_001):
        os.close(os.open(many / f"{i:06d}.bin", os.O_CREAT | os.O_WRONLY, 0o644))


add("artifact-glob-100k-files", PATHS, _many_files, f"{M}: models[0].artifacts[0]: 'many/*.bin' matches over 10,000 files",
    fast_fs=True)
add("manifest-fifo", PATHS, lambda repo, out: os.mkfifo(repo / "pipe.yaml"), "pipe.yaml: ", "not a regular file",
    manifest="pipe.yaml")
add("manifest-directory", PATHS, lambda repo, out: (repo / "d.yaml").mkdir(), "d.yaml: ", "is a directory", manifest="d.yaml")
add("manifest-symlink-dev-zero", PATHS, lambda repo, out: (repo / "z.yaml").symlink_to("/dev/zero"), "z.yaml: ",
    "not a regular file", manifest="z.yaml")
add("manifest-symlink-proc-environ", PATHS, lambda repo, out: (repo / "e.yaml").symlink_to("/proc/self/environ"),
    "e.yaml: ", "NUL", manifest="e.yaml")
add("manifest-missing", PATHS, lambda repo, out: None, "nope.yaml: ", "does not exist", manifest="nope.yaml")

# ---- weight files: real files from the libraries, corrupted

W = "weights"
add("safetensors-truncated", W, with_files([art("w/m.safetensors")], {"w/m.safetensors": ST[:-10]}),
    f"{M}: models[0].artifacts[0]: 'w/m.safetensors': ", "truncated")
add("safetensors-4-bytes", W, with_files([art("w/m.safetensors")], {"w/m.safetensors": ST[:4]}),
    f"{M}: models[0].artifacts[0]: 'w/m.safetensors': ", "too short")
add("safetensors-header-past-eof", W, with_files([art("w/m.safetensors")], {
    "w/m.safetensors": struct.pack("<Q", len(ST) + 1) + ST[8:]}), f"{M}: models[0].artifacts[0]: 'w/m.safetensors': ",
    "runs past the end of the file")
add("safetensors-header-length-2^64-1", W, with_files([art("w/m.safetensors")], {
    "w/m.safetensors": struct.pack("<Q", 2**64 - 1) + ST[8:]}), f"{M}: models[0].artifacts[0]: 'w/m.safetensors': ",
    "over the 104,857,600-byte limit")
add("safetensors-header-not-json", W, with_files([art("w/m.safetensors")], {
    "w/m.safetensors": struct.pack("<Q", 32) + f'{{"{SECRET_FILE_MARK}": [[[[[[[[[['.ljust(32).encode() + b"\0" * 64}),
    f"{M}: models[0].artifacts[0]: 'w/m.safetensors': ", "not valid UTF-8 JSON")
add("safetensors-header-binary", W, with_files([art("w/m.safetensors")], {
    "w/m.safetensors": struct.pack("<Q", 16) + b"\xff\xfe" * 8 + b"\0" * 16}), f"{M}: models[0].artifacts[0]: ",
    "not valid UTF-8 JSON")
add("safetensors-header-list", W, with_files([art("w/m.safetensors")], {
    "w/m.safetensors": struct.pack("<Q", 8) + b"[1,2,3] " + b"\0" * 8}), f"{M}: models[0].artifacts[0]: ",
    "not a JSON object of tensors")
add("safetensors-header-deep", W, with_files([art("w/m.safetensors")], {
    "w/m.safetensors": struct.pack("<Q", 200_000) + b"[" * 100_000 + b"]" * 100_000}), f"{M}: models[0].artifacts[0]: ",
    "not valid UTF-8 JSON")
add("safetensors-header-near-cap-sparse", W, with_files([art("w/m.safetensors")], {
    "w/m.safetensors": sparse(100 * 1024 * 1024 + 16, struct.pack("<Q", 100 * 1024 * 1024) + b"{")}),
    f"{M}: models[0].artifacts[0]: 'w/m.safetensors': ", "not valid UTF-8 JSON")
add("safetensors-dtype-mismatch", W, with_files([art("w/m.safetensors")], {
    "w/m.safetensors": st_header_edit(lambda h: h["embed"].update(dtype="F64"))}),
    f"{M}: models[0].artifacts[0]: 'w/m.safetensors': tensor 'embed' data_offsets span")
add("safetensors-shape-mismatch", W, with_files([art("w/m.safetensors")], {
    "w/m.safetensors": st_header_edit(lambda h: h["embed"].update(shape=[4, 4]))}),
    f"{M}: models[0].artifacts[0]: 'w/m.safetensors': tensor 'embed' data_offsets span")
add("safetensors-absurd-shape", W, with_files([art("w/m.safetensors")], {
    "w/m.safetensors": st_header_edit(lambda h: h["embed"].update(shape=[2**62, 2**62, 2**62]))}),
    f"{M}: models[0].artifacts[0]: 'w/m.safetensors': tensor 'embed' ")
add("safetensors-unknown-dtype", W, with_files([art("w/m.safetensors")], {
    "w/m.safetensors": st_header_edit(lambda h: h["embed"].update(dtype="F128"))}),
    f"{M}: models[0].artifacts[0]: 'w/m.safetensors': tensor 'embed' has unknown dtype 'F128'")
add("safetensors-offsets-past-data", W, with_files([art("w/m.safetensors")], {
    "w/m.safetensors": st_header_edit(lambda h: h["embed"].update(data_offsets=[10**6, 10**6 + 48]))}),
    f"{M}: models[0].artifacts[0]: 'w/m.safetensors': tensor 'embed' data_offsets end at")
add("safetensors-offsets-float", W, with_files([art("w/m.safetensors")], {
    "w/m.safetensors": st_header_edit(lambda h: h["embed"].update(data_offsets=[0, 1e400]))}),
    f"{M}: models[0].artifacts[0]: 'w/m.safetensors': tensor 'embed' data_offsets must be")
add("safetensors-overlap", W, with_files([art("w/m.safetensors")], {
    "w/m.safetensors": st_header_edit(lambda h: h["norm"].update(data_offsets=[0, 8]))}),
    f"{M}: models[0].artifacts[0]: 'w/m.safetensors': tensors ", "overlap")
add("gguf-wrong-magic", W, with_files([art("w/m.gguf")], {"w/m.gguf": patched(GG, 0, b"GGML")}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf': is not a GGUF file")
add("gguf-version-99", W, with_files([art("w/m.gguf")], {"w/m.gguf": patched(GG, 4, struct.pack("<I", 99))}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf': has unknown GGUF version 99")
add("gguf-big-endian", W, with_files([art("w/m.gguf")], {"w/m.gguf": patched(GG, 4, struct.pack(">I", 3))}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf': is a big-endian GGUF")
add("gguf-absurd-tensor-count", W, with_files([art("w/m.gguf")], {"w/m.gguf": patched(GG, 8, struct.pack("<Q", 2**63))}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf': claims 9,223,372,036,854,775,808 tensors")
add("gguf-absurd-kv-count", W, with_files([art("w/m.gguf")], {"w/m.gguf": patched(GG, 16, struct.pack("<Q", 2**64 - 1))}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf': claims ", "metadata pairs")
add("gguf-absurd-key-length", W, with_files([art("w/m.gguf")], {
    "w/m.gguf": patched(GG, GG_KEY_LEN_AT, struct.pack("<Q", 2**62))}), f"{M}: models[0].artifacts[0]: 'w/m.gguf': ",
    "metadata key #0")
add("gguf-truncated-counts", W, with_files([art("w/m.gguf")], {"w/m.gguf": GG[:40]}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf': claims 1 tensors, more than the 40-byte file can describe")
add("gguf-truncated-metadata", W, with_files([art("w/m.gguf")], {"w/m.gguf": GG[:100]}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf': ", "truncated")
add("gguf-truncated-data", W, with_files([art("w/m.gguf")], {"w/m.gguf": GG[:-64]}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf': tensor 'token_embd.weight' data")
add("gguf-too-short", W, with_files([art("w/m.gguf")], {"w/m.gguf": b"GGUF"}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf': is not a GGUF file")
add("lfs-size-not-a-number", W, with_files([art("w/m.safetensors")], {"w/m.safetensors": lfs("size twelve")}),
    f"{M}: models[0].artifacts[0]: 'w/m.safetensors' is a Git LFS pointer whose 'size' line")
add("lfs-size-negative", W, with_files([art("w/m.gguf")], {"w/m.gguf": lfs("size -5")}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf' is a Git LFS pointer whose 'size' line")
add("lfs-size-20-digits", W, with_files([art("w/m.gguf")], {"w/m.gguf": lfs("size 99999999999999999999")}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf' is a Git LFS pointer whose 'size' line")
add("lfs-size-missing", W, with_files([art("w/m.gguf")], {"w/m.gguf": lfs("")}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf' is a Git LFS pointer whose 'size' line")
add("lfs-bad-oid", W, with_files([art("w/m.gguf")], {"w/m.gguf": lfs("size 10", oid="md5:" + SECRET_FILE_MARK)}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf' is a Git LFS pointer without a valid 'oid")
add("lfs-not-utf8", W, with_files([art("w/m.gguf")], {"w/m.gguf": lfs("size 10").encode() + b"\xff\xfe"}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf' is a Git LFS pointer that is not valid UTF-8")
add("dvc-size-string", W, with_files([art("w/m.gguf.dvc")], {
    "w/m.gguf.dvc": "outs:\n- md5: abc\n  size: big\n  path: m.gguf\n"}), f"{M}: models[0].artifacts[0]: 'w/m.gguf.dvc': outs[0].size")
add("dvc-alias-bomb", W, with_files([art("w/m.gguf.dvc")], {"w/m.gguf.dvc": _bomb()}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf.dvc' is not a valid YAML .dvc file (expands to over 100,000")
add("dvc-python-tag", W, with_files([art("w/m.gguf.dvc")], {
    "w/m.gguf.dvc": "outs: !!python/object/apply:os.system ['touch pwned']\n"}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf.dvc' is not a valid YAML .dvc file")
add("size-declared-disagrees", W, with_files([art("w/m.bin", size_gb=1)], {"w/m.bin": b"\0" * 100}),
    f"{M}: models[0].size_gb: 1 GB declared, but the artifacts add up to")
add("size-bytes-10^400", W, man([model(size_gb=DROP, size_bytes=10**400)]),
    f"{M}: models[0].size_bytes: 1000000", "is out of range; it must be <= 100000000000000")
add("size-gb-1e300", W, man([model(size_gb=1e300)]), f"{M}: models[0].size_gb: 1e+300 is out of range")
add("size-gb-over-the-report-limit", W, man([model(size_gb=100_001)]), f"{M}: models[0].size_gb: 100001 is out of range")
add("size-gb-and-bytes-overflow", W, man([model(size_gb=1e300, size_bytes=10**400)]), f"{M}: models[0].size_gb: ",
    "out of range", problems=2)  # and size_bytes on the next line
add("size-gb-1e-300-is-0-bytes", W, man([model(size_gb=1e-300)]), f"{M}: models[0] (m): size must be positive, not 0 bytes")
add("dvc-impossible-date", W, with_files([art("w/m.gguf.dvc")], {"w/m.gguf.dvc": "outs:\n- size: 2001-13-45\n"}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf.dvc' is not a valid YAML .dvc file")
add("dvc-int-tag-on-text", W, with_files([art("w/m.gguf.dvc")], {"w/m.gguf.dvc": "outs:\n- size: !!int big\n"}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf.dvc' is not a valid YAML .dvc file")
add("dvc-5000-digit-size", W, with_files([art("w/m.gguf.dvc")], {"w/m.gguf.dvc": "outs:\n- size: " + "9" * 5000 + "\n"}),
    f"{M}: models[0].artifacts[0]: 'w/m.gguf.dvc' is not a valid YAML .dvc file")

# ---- scores: ranges, scales, directions, non-finite values

S = "scores"
add("inline-over-one", S, man([model(evals=[{"scores": {"x": 1.5}}])]), f"{M}: models[0].evals[0].scores: x: ",
    "outside 0..1")
add("inline-negative", S, man([model(evals=[{"scores": {"x": -0.1}}])]), f"{M}: models[0].evals[0].scores: x: ",
    "outside 0..1")
add("inline-fraction-given-70.5", S, man([model(evals=[{"scores": {"x": 70.5}, "scale": "fraction"}])]),
    f"{M}: models[0].evals[0].scores: x: score 70.5 is outside 0..1 on the fraction scale")
add("inline-percent-150", S, man([model(evals=[{"scores": {"x": 150}, "scale": "percent"}])]),
    f"{M}: models[0].evals[0].scores: x: score 150 is outside 0..100")
add("inline-10^400", S, man([model(evals=[{"scores": {"x": 10**400}}])]), f"{M}: models[0].evals[0].scores: x: ")
add("inline-nan", S, raw("version: 1\nmodels: [{name: m, size_gb: 1, evals: [{scores: {x: .nan}}]}]\n"),
    f"{M}: models[0].evals[0].scores.x: nan is not a finite number")
add("csv-fraction-given-percent", S, with_files([ev("evals/s.csv")], {"evals/s.csv": "task,score\nx,70.5\n"}),
    "evals/s.csv: line 2 (x): score 70.5 is outside 0..1", "scale: percent")
add("csv-percent-over-100", S, with_files([ev("evals/s.csv", scale="percent")], {"evals/s.csv": "task,score\nx,170.5\n"}),
    "evals/s.csv: line 2 (x): score 170.5 is outside 0..100")
add("json-stderr-1e200", S, with_files([ev("evals/s.json")], {"evals/s.json": '{"x": {"score": 0.5, "stderr": 1e200}}'}),
    "evals/s.json: x.stderr: standard error 1e+200 is larger than any score scale")
add("csv-stderr-over-100-percent", S, with_files([ev("evals/s.csv", scale="percent")], {
    "evals/s.csv": "task,score,stderr\nx,50,170\n"}), "evals/s.csv: line 2 (x): standard error 170 is larger")
add("lmeval-stderr-200", S, with_files([ev("evals/r.json")], {
    "evals/r.json": lmeval({"t": {"acc,none": 0.5, "acc_stderr,none": 200.0}})}), "evals/r.json: results.t",
    "standard error 200 is larger")
add("csv-negative-stderr", S, with_files([ev("evals/s.csv")], {"evals/s.csv": "task,score,stderr\nx,0.5,-0.1\n"}),
    "evals/s.csv: line 2 (x): standard error -0.1 is negative")
add("lmeval-percent-values", S, with_files([ev("evals/r.json")], {"evals/r.json": lmeval({"t": {"acc,none": 70.5}})}),
    "evals/r.json: results.t['acc,none']: score 70.5 is outside 0..1", "set scale: percent")
add("lmeval-metric-unknown-direction", S, with_files([
    model(evals=[{"path": "evals/r.json"}], metrics={"t": "zorp"})], {
    "evals/r.json": lmeval({"t": {"acc,none": 0.5, "zorp,none": 0.3}})}),
    "evals/r.json: results.t: the manifest picks zorp,none, whose direction is unknown")
add("lmeval-metric-not-a-rate", S, with_files([
    model(evals=[{"path": "evals/r.json"}], metrics={"t": "word_perplexity"})], {
    "evals/r.json": lmeval({"t": {"acc,none": 0.5, "word_perplexity,none": 12.3}})}),
    "evals/r.json: results.t: the manifest picks word_perplexity,none, which is a perplexity")
add("lmeval-metric-missing", S, with_files([model(evals=[{"path": "evals/r.json"}], metrics={"t": "f1"})], {
    "evals/r.json": lmeval({"t": {"acc,none": 0.5}})}), "evals/r.json: results.t: the manifest picks metric 'f1'")
add("lmeval-only-perplexity-asked", S, with_files([model(evals=[{"path": "evals/r.json"}], tasks=["wikitext"])], {
    "evals/r.json": lmeval({"wikitext": {"word_perplexity,none": 12.3}, "t": {"acc,none": 0.5}})}),
    f"{M}: models[0].tasks: 'wikitext'")
add("model-card-fraction-declared-percent-values", S, with_files([ev("README.md", scale="fraction")], {
    "README.md": "---\nmodel-index:\n- name: m\n  results:\n  - task: {type: text-generation}\n"
                 "    dataset: {name: MMLU, type: mmlu}\n    metrics:\n    - {type: acc, value: 70.5}\n---\n"}),
    "README.md: model-index[0].results[0].metrics[0].value: score 70.5 is outside 0..1")
add("task-in-two-sources", S, man([model(evals=[{"scores": {"x": 0.5}}, {"scores": {"x": 0.6}}])]),
    f"{M}: models[0]: task 'x' comes from both")
add("error-zero-without-min-error", S, man([model(evals=[{"scores": {"x": 1.0}}])]),
    f"{M}: models[0] (m): the mean error rate is 0", "set min_error")
add("name-line-separator", S, man([model(name="a\u2028b", evals=[{"scores": {"x": 1.0}}])]),
    f"{M}: models[0].name: contains control characters")
add("name-c1-next-line", S, raw('version: 1\nmodels: [{name: "a\\x85b", size_gb: 1, evals: [{scores: {x: 0.5}}]}]\n'),
    f"{M}: models[0].name: contains control characters")
add("task-names-with-line-breaks-listed", S, man([model(evals=[{"scores": {"a\u2028b": 0.5, "c\nd": 0.5}}], tasks=["y"])]),
    f"{M}: models[0].tasks: 'y' has no usable score in the evals; tasks found: a\\u2028b, c\\nd")
add("lmeval-task-name-with-newline-listed", S, with_files([model(evals=[{"path": "evals/r.json"}], tasks=["y"])], {
    "evals/r.json": lmeval({"t\r\nforged: line": {"acc,none": 0.5}})}), f"{M}: models[0].tasks: 'y' has no usable score",
    "t\\r\\nforged")

CASE_COUNT = len(CASES)
CASES_BY_CATEGORY = dict(Counter(c.category for c in CASES))
assert len({c.id for c in CASES}) == CASE_COUNT, "case ids must be unique"


# =================================================================================== the runner

def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "GITHUB_", "INPUT_", "IDM_GATE_", "HF_"))}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", LC_ALL="C.UTF-8", PYTHONIOENCODING="utf-8",
               IDM_HOSTILE_SECRET=SECRET_ENV_MARK, GIT_CEILING_DIRECTORIES=str(home))
    return env


def snapshot(*roots: Path) -> dict:
    """Every path below ``roots`` (symlinks not followed): type, size, mtime, and small files' digest."""
    out = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                p = os.path.join(dirpath, name)
                st = os.lstat(p)
                digest = None
                if os.path.isfile(p) and not os.path.islink(p) and st.st_size <= 1 << 20:
                    with open(p, "rb") as f:
                        digest = hashlib.sha256(f.read()).hexdigest()
                out[p] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return out


@pytest.fixture
def workspace(request, tmp_path):
    case: Case = request.param
    base = tmp_path
    shm = Path("/dev/shm")
    made = None
    if case.fast_fs and shm.is_dir() and os.access(shm, os.W_OK):
        made = base = Path(tempfile.mkdtemp(dir=shm, prefix="idm-hostile-"))
    try:
        yield case, base
    finally:
        if made:
            shutil.rmtree(made, ignore_errors=True)


@pytest.mark.parametrize("workspace", CASES, ids=[c.id for c in CASES], indirect=True)
def test_bad_input_is_one_line_exit_2_fast_and_touches_nothing(workspace):
    case, base = workspace
    repo, outside = base / "repo", base / "outside"
    repo.mkdir()
    outside.mkdir()
    env = _env(base)
    subprocess.run(["git", "init", "-q", str(repo)], env=env, check=True, capture_output=True)
    (outside / "leak.json").write_text(json.dumps({SECRET_FILE_MARK: 0.5}))
    (outside / "leak.txt").write_text(f"token={SECRET_FILE_MARK}\n")
    case.setup(repo, outside)
    before = snapshot(repo, outside)

    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "idm_gate", "measure", "-m", case.manifest], cwd=repo, env=env,
                       capture_output=True, timeout=TIMEOUT_S)
    elapsed = time.monotonic() - t0
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    assert "Traceback" not in out + err
    assert p.returncode == 2, f"exit {p.returncode}: {err!r}"
    lines = err.splitlines()
    assert len(lines) == case.problems and err.endswith("\n"), f"want {case.problems} line(s), got {lines!r}"
    assert out == "", f"nothing on stdout for a refused input, got {out[:200]!r}"
    assert all(ln.startswith("idm-gate: error: ") for ln in lines), lines
    line = lines[0]
    for want in case.expect:
        assert want in line, f"{want!r} not in {line!r}"
    # a path is quoted in full (the schema allows 4,096 characters); anything longer is a content dump
    assert len(line) < 4096 + 200, f"a message is one readable line, not {len(line)} characters"
    for mark in MARKERS:
        assert mark not in out + err, f"{mark} leaked: {line!r}"
    assert elapsed < TIMEOUT_S
    assert snapshot(repo, outside) == before, "the run changed files"
    assert not (repo / "pwned").exists()


def test_corpus_covers_every_category():
    assert CASE_COUNT >= 150
    assert set(CASES_BY_CATEGORY) == {"yaml", "manifest types", "eval files", PATHS, W, S}


# ------------------------------------------------------------------ odd but valid: measured, never a crash

ACCEPTED = [
    # A declared scale wins. ``scale: percent`` with every value <= 1 cannot be told from a very weak
    # model (0.7 % right), so it is taken at its word; the JSON report shows the scale it used.
    ("percent-scale-with-fraction-looking-values",
     model(evals=[{"scores": {"x": 0.7, "y": 0.9}, "scale": "percent"}]), {}, 1 - 0.008),
    # Weights are relative: 1e308 each must not overflow their sum.
    ("weights-1e308", model(evals=[{"scores": {"x": 0.5, "y": 0.75}}], weights={"x": 1e308, "y": 1e308}), {}, 0.375),
    # An error rate clamped to a subnormal min_error: the density is finite, its uncertainty unusable (null).
    ("min-error-subnormal-with-stderr", model(size_gb=DROP, size_bytes=1, min_error=float("5e-324"),
                                              evals=[{"path": "s.json"}]),
     {"s.json": '{"x": {"score": 1.0, "stderr": 0.1}}'}, float("5e-324")),
]


@pytest.mark.parametrize("mdl, files, error_rate", [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_odd_but_valid_input_is_measured(tmp_path, mdl, files, error_rate):
    repo = tmp_path / "repo"
    with_files([mdl], files)(repo, tmp_path)
    p = subprocess.run([sys.executable, "-m", "idm_gate", "measure", "-f", "json"], cwd=repo, env=_env(tmp_path),
                       capture_output=True, text=True, timeout=TIMEOUT_S)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    (m,) = json.loads(p.stdout)["models"]
    assert m["error_rate"] == pytest.approx(error_rate) and m["density"] > 0
