"""The manifest: what it accepts, and one clear line for everything it refuses."""

from pathlib import Path

import pytest

from idm_gate.data import LogBase, Scale
from idm_gate.errors import InputError
from idm_gate.manifest import load_manifest, parse_manifest

GOOD = b"""\
version: 1
log_base: "2"
min_error: 0.001
gate: {max_drop: 5%, warn_drop: 0.02, min_density: 0.1}
models:
  - name: bonsai-8b
    artifacts: ["weights/bonsai-8b/*.gguf"]
    size_gb: 1.15
    evals:
      - path: evals/bonsai-8b/results.json
      - path: evals/extra.csv
        scale: percent
      - scores: {mmlu_redux: 65.7, gsm8k: 88.0}
        scale: percent
    tasks: [mmlu_redux, gsm8k]
    metrics: {gsm8k: "exact_match,strict-match"}
    weights: {gsm8k: 2}
    min_error: 0.01
    gate: {max_drop: "2.5 %"}
"""


def parse(b: bytes):
    return parse_manifest(b, Path("/repo/idm.yaml"), "idm.yaml")


def test_accepts_the_documented_example():
    m = parse(GOOD)
    assert m.log_base is LogBase.TWO and m.min_error == 0.001
    assert m.gate.max_drop == pytest.approx(0.05) and m.gate.warn_drop == 0.02
    (b,) = m.models
    assert b.name == "bonsai-8b" and b.artifacts == ("weights/bonsai-8b/*.gguf",)
    assert [e.field for e in b.evals] == ["models[0].evals[0]", "models[0].evals[1]", "models[0].evals[2]"]
    assert b.evals[2].scores == {"mmlu_redux": 65.7, "gsm8k": 88.0} and b.evals[2].scale is Scale.PERCENT
    assert b.tasks == ("mmlu_redux", "gsm8k") and b.weights == {"gsm8k": 2}
    assert b.gate.max_drop == pytest.approx(0.025) and b.min_error == 0.01


@pytest.mark.parametrize("log_base,want", [("e", LogBase.E), ("2", LogBase.TWO), ('"2"', LogBase.TWO)])
def test_log_base_forms(log_base, want):
    m = parse(f"version: 1\nlog_base: {log_base}\nmodels:\n - name: a\n   size_gb: 1\n   evals: [{{scores: {{x: 0.5}}}}]\n".encode())
    assert m.log_base is want


BAD = [
    (b"version: 2\nmodels: []\n", "version: 2 is not supported; use 1"),
    (b"models: []\n", "missing required field 'version'"),
    (b"version: 1\nmodels:\n - name: a\n   evals: [{scores: {x: 1}}]\n", "models[0]: no size given; add artifacts, size_gb or size_bytes"),
    (b"version: 1\nmodels:\n - name: a\n   size_gb: abc\n   evals: [{scores: {x: 1}}]\n", "models[0].size_gb: expected a number, got 'abc'"),
    (b"version: 1\nmodels:\n - name: a\n   size_gb: -1\n   evals: [{scores: {x: 1}}]\n", "models[0].size_gb: -1 is out of range; it must be > 0"),
    (b"version: 1\nmodels:\n - name: a\n   size_gb: 1\n   evals: [{scores: {x: 1}, path: y}]\n", "models[0].evals[0]: give exactly one of path"),
    (b"version: 1\nmodels:\n - name: a\n   size_gb: 1\n   evalz: []\n   evals: [{scores: {x: 1}}]\n", "models[0]: unknown field 'evalz'; did you mean 'evals'? (line 5, model 'a')"),
    (b"version: 1\ngate: {max_drop: 5}\nmodels:\n - name: a\n   size_gb: 1\n   evals: [{scores: {x: 1}}]\n", "gate.max_drop: 5 is not valid; write a percentage such as '5%'"),
    (b"version: 1\nlog_base: 10\nmodels:\n - name: a\n   size_gb: 1\n   evals: [{scores: {x: 1}}]\n", "log_base: 10 is not valid; use one of"),
    (b"version: 1\nmodels:\n - name: a\n   size_gb: 1\n   evals: [{scores: {x: .nan}}]\n", "models[0].evals[0].scores.x: nan is not a finite number"),
    (b"version: 1\nmodels:\n - name: a\n   size_gb: 1\n   evals: [{scores: {x: 1}}]\n - name: a\n   size_gb: 1\n   evals: [{scores: {x: 1}}]\n", "models[1].name: 'a' is already used by models[0]"),
    (b"version: 1\nmodels:\n - name: a\n   size_gb: 1\n   tasks: [x]\n   weights: {y: 2}\n   evals: [{scores: {x: 1}}]\n", "models[0].weights: 'y' is not in tasks"),
    (b"version: 1\nmodels:\n - name: a\n   size_gb: 1\n   evals: [{scores: {x: 1}, scale: percentage}]\n", "scale: 'percentage' is not valid; use one of 'fraction', 'percent'"),
    (b"version: 1\nversion: 1\nmodels: []\n", "line 2, column 1: duplicate key 'version'"),
    (b"!!python/object/apply:os.system ['true']\n", "is not allowed; only plain YAML values are"),
    (b"- just\n- a list\n", "the manifest must be a mapping"),
    (b"", "not an empty document"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8 text"),
    (b"version: 1\nmodels: [\n", "invalid YAML"),
]


@pytest.mark.parametrize("data,msg", BAD, ids=range(len(BAD)))
def test_refused_with_one_line(data, msg):
    with pytest.raises(InputError) as ei:
        parse(data)
    text = str(ei.value)
    assert text.startswith("idm.yaml: ") and msg in text and "\n" not in text


def test_alias_bomb_refused_fast():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 9)}]")
    with pytest.raises(InputError, match="alias bomb"):
        parse("\n".join(lines).encode())


def test_oversized_manifest_refused_before_parsing(tmp_path):
    p = tmp_path / "idm.yaml"
    with open(p, "wb") as f:
        f.write(b"# " + b"x" * (10 * 1024 * 1024) + b"\n")
    with pytest.raises(InputError, match="over the 10,485,760-byte limit"):
        load_manifest(p, "idm.yaml")


def test_manifest_that_is_a_directory_or_fifo(tmp_path):
    import os
    with pytest.raises(InputError, match="is a directory"):
        load_manifest(tmp_path, "idm.yaml")
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(InputError, match="not a regular file"):
        load_manifest(tmp_path / "fifo", "idm.yaml")


def test_log_base_two_as_a_float_is_two():
    m = parse(b"version: 1\nlog_base: 2.0\nmodels:\n - name: a\n   size_gb: 1\n   evals: [{scores: {x: 0.5}}]\n")
    assert m.log_base is LogBase.TWO


def test_an_overlong_path_is_shortened_in_the_message(tmp_path):
    from idm_gate.paths import resolve_inside

    long = "../" + "x" * 5000
    with pytest.raises(InputError) as e:
        resolve_inside(long, tmp_path, tmp_path, "idm.yaml: models[0].evals[0].path")
    assert len(str(e.value)) < 400 and "..." in str(e.value) and "resolves outside the repository" in str(e.value)


def test_the_manifest_digest_is_the_sha256_of_its_bytes_in_the_json_report(tmp_path):
    # digest_of takes CPython's own SHA-256 module rather than hashlib's OpenSSL one: the same digest
    import hashlib
    import json
    import subprocess
    import sys

    from idm_gate.manifest import digest_of

    for data in (b"", b"abc", bytes(range(256)) * 1000):
        assert digest_of(data) == hashlib.sha256(data).hexdigest()
    text = "version: 1\nmodels:\n  - name: one\n    size_bytes: 2000000000\n    evals: [{scores: {mmlu: 0.61}}]\n"
    (tmp_path / "idm.yaml").write_text(text)
    p = subprocess.run([sys.executable, "-m", "idm_gate", "measure", "-f", "json"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["manifest_digest"] == hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(("key", "hint"), [
    ("1", "key 1 must be a string; YAML reads an unquoted 1 as a number: quote it ('1')"),
    ("2.5", "key 2.5 must be a string; YAML reads an unquoted 2.5 as a number: quote it ('2.5')"),
    ("yes", "key true must be a string; YAML reads an unquoted true/false (or yes/no, on/off) as a boolean: "
            "quote the key"),
    ("~", "key null must be a string; YAML reads an unquoted null or ~ (or an empty key) as null: quote the key"),
    ("2024-01-01", "key \"2024-01-01\" must be a string; YAML reads an unquoted 2024-01-01 as a date: quote it "
                   "('2024-01-01')"),
])
def test_a_key_yaml_reads_as_another_type_is_refused_with_how_to_quote_it(key, hint):
    # costs: {1: 20} names class "1" to a reader of the file, but YAML hands over the number 1
    text = ("version: 1\nmodels:\n  - name: m\n    size_bytes: 1000000\n"
            f"    evals: [{{path: cm.csv, format: confusion-matrix, costs: {{{key}: 20}}}}]\n")
    with pytest.raises(InputError) as e:
        parse_manifest(text.encode(), Path("/r/idm.yaml"), "idm.yaml")
    assert str(e.value) == f"idm.yaml: models[0].evals[0].costs: {hint} (line 5, model 'm')"
