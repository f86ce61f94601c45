"""Properties of the readers not covered elsewhere: the manifest and the JSON report.

Each reader, given anything, returns its value or raises ``InputError`` with one line, and nothing
else: no other exception (that would be exit 3), no hang. Readers already fuzzed elsewhere are left
there: weight headers, LFS pointers and ``.dvc`` files in ``test_sizing.py``; eval results files and
inline scores in ``test_evals.py``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idm_gate.data import LogBase, Measurement, Scale
from idm_gate.errors import InputError
from idm_gate.manifest import Manifest, parse_manifest
from idm_gate.serialize import loads_strict, measurement_from_dict, measurement_to_dict
from idm_gate.yamlsafe import load_yaml
from strategies import mutated

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PATH = Path("/repo/idm.yaml")


def one_line(e: InputError, prefix: str) -> None:
    msg = str(e)
    assert msg.startswith(prefix), msg
    assert len(msg.splitlines()) == 1, msg


def parse_or_refuse(data: bytes) -> Manifest | None:
    try:
        m = parse_manifest(data, PATH, "idm.yaml")
    except InputError as e:
        one_line(e, "idm.yaml: ")
        return None
    assert isinstance(m, Manifest) and m.models
    assert isinstance(m.log_base, LogBase)
    for spec in m.models:
        assert spec.name and (spec.artifacts or spec.size_gb or spec.size_bytes) and spec.evals
    return m


# ------------------------------------------------------------------------- manifest: any bytes

GOOD = (b"version: 1\nlog_base: 2\ngate: {max_drop: 5%, z: 2}\nmodels:\n - name: a\n   size_gb: 1.5\n"
        b"   artifacts: [w/*.gguf]\n   evals: [{scores: {x: 0.5}, scale: fraction}, {path: r.json}]\n"
        b"   tasks: [x]\n   weights: {x: 2}\n")


@SETTINGS
@given(data=st.one_of(st.binary(max_size=512), mutated(GOOD),
                      st.builds(lambda b: b"\xef\xbb\xbf" + b, st.binary(max_size=64))))
def test_manifest_any_bytes(data):
    parse_or_refuse(data)


# ---------------------------------------------------------------- manifest: YAML-ish text from a grammar

KEYS = ["version", "log_base", "min_error", "gate", "models", "name", "artifacts", "size_gb", "size_bytes",
        "evals", "path", "scores", "scale", "format", "tasks", "metrics", "weights", "max_drop", "warn_drop",
        "z", "significance", "x", "y", "1", "null", "<<", "? [a]", "''"]
SCALARS = ["1", "2", "0", "-1", "1.5", "1e3", "1.0e+400", "-.inf", ".nan", "0x1F", "0o17", "1_000", "99999999999" * 40,
           "true", "no", "~", "null", "e", "'2'", '"5%"', "5%", "percent", "fraction", "lm-eval", "a", "'x'",
           '"\\x85\\u2028"', '"\\0"', "2001-12-14", "2001-13-45", "12:30:45", "!!int x", "!!float y",
           "!!binary aGVsbG8=", "!!python/object/apply:os.system ['true']", "!!set {a, b}", "!!omap [a: 1]",
           "!custom x", "&a 1", "*a", "&b [1, 2]", "*b", "[]", "{}", "[*b, *b]", "{a: 1, a: 2}", "'../x'", "/etc/passwd",
           "'w/*.gguf'", "hf://org/repo@main/*.safetensors", "|\n  block", ">-\n  folded"]


@st.composite
def yamlish(draw) -> str:
    """Lines of 'key: value', list items and flow collections at random indents: mostly plausible YAML."""
    lines = []
    for _ in range(draw(st.integers(0, 14))):
        indent = " " * draw(st.sampled_from([0, 0, 1, 2, 3, 4, 6]))
        kind = draw(st.integers(0, 5))
        key, val = draw(st.sampled_from(KEYS)), draw(st.sampled_from(SCALARS))
        if kind == 0:
            lines.append(f"{indent}{key}:")
        elif kind == 1:
            lines.append(f"{indent}- {key}: {val}")
        elif kind == 2:
            lines.append(f"{indent}- {val}")
        elif kind == 3:
            inner = ", ".join(f"{draw(st.sampled_from(KEYS))}: {draw(st.sampled_from(SCALARS[:40]))}"
                              for _ in range(draw(st.integers(0, 3))))
            lines.append(f"{indent}{key}: {{{inner}}}")
        else:
            lines.append(f"{indent}{key}: {val}")
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n---\n", "\n...\n"]))


@SETTINGS
@given(text=yamlish(), head=st.sampled_from(["", "version: 1\n", "version: 1\nmodels:\n"]))
def test_manifest_yamlish_text(text, head):
    parse_or_refuse((head + text).encode("utf-8"))


# ----------------------------------------------- manifest: the right shape with arbitrary values

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12)
MODEL_FIELDS = ["name", "artifacts", "size_gb", "size_bytes", "evals", "tasks", "metrics", "weights", "min_error",
                "gate"]


@st.composite
def manifest_docs(draw) -> dict:
    """A valid manifest with some fields, at every level, replaced by arbitrary values."""
    model = {"name": "m", "size_gb": 1, "evals": [{"scores": {"x": 0.5}}], "tasks": ["x"]}
    doc = {"version": 1, "log_base": "e", "gate": {"max_drop": "5%"}, "models": [model]}
    where = draw(st.lists(st.sampled_from(["top", "gate", "model", "eval", "scores"]), max_size=3))
    for w in where:
        value = draw(json_values)
        if w == "top":
            doc[draw(st.sampled_from(["version", "log_base", "min_error", "gate", "models", "extra"]))] = value
        elif w == "gate" and isinstance(doc.get("gate"), dict):
            doc["gate"][draw(st.sampled_from(["max_drop", "warn_drop", "min_density", "max_size_gb",
                                              "max_error_rate", "significance", "z"]))] = value
        elif w == "model":
            model[draw(st.sampled_from(MODEL_FIELDS))] = value
        elif w == "eval" and isinstance(model.get("evals"), list) and model["evals"]:
            ev = model["evals"][0]
            if isinstance(ev, dict):
                ev[draw(st.sampled_from(["path", "scores", "scale", "format"]))] = value
        elif w == "scores":
            model["evals"] = [{"scores": {draw(st.text(max_size=8)): draw(json_values)}}]
    if draw(st.booleans()):
        doc["models"] = doc["models"] * draw(st.integers(1, 3)) if isinstance(doc["models"], list) else doc["models"]
    return doc


@SETTINGS
@given(doc=manifest_docs())
def test_manifest_right_shape_any_values(doc):
    try:
        text = yaml.safe_dump(doc, allow_unicode=True)
    except yaml.YAMLError:
        return
    parse_or_refuse(text.encode("utf-8"))


@SETTINGS
@given(data=st.binary(max_size=256))
def test_load_yaml_any_bytes(data):
    try:
        load_yaml(data, "f.yaml")
    except InputError as e:
        one_line(e, "f.yaml: ")


# ----------------------------------------------------------------------- report JSON: any bytes

@SETTINGS
@given(data=st.one_of(st.binary(max_size=256), st.text(max_size=256).map(str.encode),
                      st.builds(lambda n: (b"[" * n + b"]" * n), st.integers(0, 200_000)),
                      st.builds(lambda n: b'{"a": 1' + b"0" * n + b"}", st.integers(0, 6000))))
def test_loads_strict_any_bytes(data):
    try:
        doc = loads_strict(data, "r.json")
    except InputError as e:
        one_line(e, "r.json: ")
        return
    json.dumps(doc, allow_nan=False)  # what it returns is standard JSON


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_loads_strict_refuses_nan_and_infinity(token):
    # An uploaded report (publish mode) is standard JSON: a NaN density must not get as far as the gate.
    with pytest.raises(InputError, match=f"r.json: holds {token}, which is not a JSON number"):
        loads_strict(f"{{\"models\": [{{\"density\": {token}}}]}}".encode(), "r.json")


def _seed_report() -> dict:
    from idm_gate import metric
    from idm_gate.data import ModelMeasurement, TaskScore

    tasks = (TaskScore(task="x", metric="acc", score=0.7, error=0.3, stderr=0.01, source="r.json", scale=Scale.FRACTION,
                       scale_inferred=True),
             TaskScore(task="y", metric="score", score=60.0, error=0.4, stderr=None, source="inline",
                       scale=Scale.PERCENT, scale_inferred=False))
    agg = metric.aggregate_error([t.error for t in tasks], [t.stderr for t in tasks], [1.0, 2.0])
    size = 1_150_000_000
    d = metric.density(agg.error_rate, size)
    m = ModelMeasurement(
        name="m", size_bytes=size, size_source="stat", params=None, bits_per_param=None,
        error_rate=agg.error_rate, raw_error_rate=agg.raw_error_rate, error_stderr=agg.error_stderr,
        tasks_with_stderr=agg.tasks_with_stderr, density=d,
        density_stderr=metric.density_stderr(agg.error_rate, agg.error_stderr, size), log_base=LogBase.E, tasks=tasks,
        weights={"y": 2.0})
    doc = measurement_to_dict(Measurement(manifest="idm.yaml", manifest_digest="0" * 64, log_base=LogBase.E, models=(m,)))
    return json.loads(json.dumps(doc))


SEED = _seed_report()


def test_the_seed_report_reads_back():
    back = measurement_from_dict(copy.deepcopy(SEED), "r.json")
    assert measurement_to_dict(back) == SEED
    # parsed once, at the boundary: the closed sets come back as members, and write back as the same bytes
    assert back.log_base is LogBase.E and back.models[0].log_base is LogBase.E
    assert [t.scale for t in back.models[0].tasks] == [Scale.FRACTION, Scale.PERCENT]
    assert all(type(t.scale) is Scale for t in back.models[0].tasks)
    assert json.dumps(measurement_to_dict(back), indent=2) == json.dumps(SEED, indent=2)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


SEED_PATHS = [p for p in _paths(SEED) if p]
json_finite = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10)
numbers = st.one_of(st.integers(-10**30, 10**30), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from([0, 1, -1, 0.0, 1e-320, 1e308, 10**20, 2**63, 10**400]))


@st.composite
def edited_reports(draw) -> dict:
    """The seed report with a few values (at any depth) replaced: numbers by numbers mostly."""
    doc = copy.deepcopy(SEED)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(SEED_PATHS))
        parent = doc
        try:
            for k in path[:-1]:
                parent = parent[k]
            old = parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue
        is_num = isinstance(old, (int, float)) and not isinstance(old, bool)
        parent[path[-1]] = draw(numbers if is_num and draw(st.integers(0, 3)) else json_finite)
    return doc


def read_back_or_refuse(doc) -> None:
    try:
        m = measurement_from_dict(doc, "r.json")
    except InputError as e:
        one_line(e, "r.json: ")
        return
    assert isinstance(m, Measurement)
    measurement_to_dict(m)  # and it can be written again


@SETTINGS
@given(doc=edited_reports())
def test_measurement_from_any_edited_report(doc):
    read_back_or_refuse(doc)


@SETTINGS
@given(doc=json_finite)
def test_measurement_from_any_json_value(doc):
    read_back_or_refuse(doc)


@pytest.mark.parametrize("field,value", [("density_stderr", 1e9), ("error_stderr", 0.5), ("density_stderr", None),
                                         ("tasks_with_stderr", 2)])
def test_an_edited_uncertainty_is_refused(field, value):
    # a larger density_stderr alone would turn a significant drop into "within noise"
    doc = copy.deepcopy(SEED)
    doc["models"][0][field] = value
    with pytest.raises(InputError, match=f"r.json: models\\[0\\]: {field} does not "):
        measurement_from_dict(doc, "r.json")
