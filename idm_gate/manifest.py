"""Load ``idm.yaml``: size-capped, strict YAML, validated against the packaged JSON Schema.

Returns frozen dataclasses; every problem is one ``InputError`` line naming the field.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

from .data import BenchSource, EvalSource, LogBase, Policy, Scale
from .errors import InputError, InputErrors, one_line, truncate
from .jsonsafe import collector_paused
from .paths import MANIFEST_CAP, read_capped
from .yamlsafe import load_yaml

# A jsonschema ValidationError. Its stubs type .schema as Mapping | bool | Unset, though the validators
# this module reports (additionalProperties, type, ...) only ever sit in a mapping.
ValidationError = Any



def digest_of(data: bytes) -> str:
    """SHA-256 of a manifest's bytes, hex (``Manifest.digest``, a report's ``manifest_digest``).

    From CPython's own SHA-256 module where there is one (``_sha2`` from 3.12, ``_sha256`` before): the
    same digest as ``hashlib.sha256``, without hashlib's start-up, which loads OpenSSL and tries every
    algorithm it offers (about 3 ms of every run, benchmarks/bench_measure.py). hashlib otherwise.
    """
    import importlib
    import sys

    try:  # by the version that has it: a failed import would search every sys.path entry first
        own = importlib.import_module("_sha2" if sys.version_info >= (3, 12) else "_sha256")
    except ImportError:  # a Python built without it
        import hashlib

        return hashlib.sha256(data).hexdigest()
    return str(own.sha256(data).hexdigest())

@dataclass(frozen=True)
class ModelSpec:
    """One ``models:`` entry of ``idm.yaml`` as validated: what to size (``artifacts`` globs, or a declared
    ``size_gb``/``size_bytes``), where its eval results are (``evals``), which tasks count and how
    (``tasks``, ``metrics``, ``weights``, ``min_error``), its own ``gate:`` (the fields it sets; the
    manifest's ``gate:`` fills the rest where the policy is applied), its earlier names, its inference
    benchmarks and its task groups. ``index`` is its place in ``models:`` (0-based), which messages name
    as ``field``."""

    name: str
    index: int
    artifacts: tuple[str, ...] = ()
    size_gb: float | None = None
    size_bytes: int | None = None
    evals: tuple[EvalSource, ...] = ()
    tasks: tuple[str, ...] | None = None
    metrics: dict[str, Any] | None = None
    weights: dict[str, Any] | None = None
    min_error: float | None = None
    gate: Policy = Policy()
    previous_names: tuple[str, ...] = ()  # names it had before, to follow a rename to its baseline
    bench: tuple[BenchSource, ...] = ()  # inference benchmark results files
    # domains: group -> task names or globs (idm_gate.groups); None: the manifest's top-level groups apply
    groups: dict[str, tuple[str, ...]] | None = None

    @property
    def field(self) -> str:
        return f"models[{self.index}]"


@dataclass(frozen=True)
class Manifest:
    """A whole ``idm.yaml``, read, validated against ``schemas/manifest.schema.json`` and checked beyond
    the schema (names unique and printable, weights only of counted tasks, costs, groups, previous
    names): its file, its sha256, the density unit, the top-level defaults and one :class:`ModelSpec`
    per model in file order."""

    path: Path          # absolute path of the file
    shown: str          # how messages name it
    digest: str         # sha256 of the bytes
    log_base: LogBase   # the unit of the densities measured: nats/GB or bits/GB
    min_error: float | None
    gate: Policy
    models: tuple[ModelSpec, ...]
    # each models: entry as canonical JSON (sorted keys), all of which the schema accepted: another
    # version of the manifest (check's base commit) need not validate the same entries again
    valid_entries: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    # the same entries -> the ModelSpec each became, which another version's identical entry at the same
    # index becomes too (a spec is frozen: the base commit's manifest shares it)
    entry_specs: Mapping[str, ModelSpec] = field(default_factory=dict, compare=False, repr=False)
    groups: dict[str, tuple[str, ...]] | None = None  # top-level domains, for models without their own

    def groups_of(self, spec: ModelSpec) -> tuple[dict[str, tuple[str, ...]], bool]:
        """The groups that apply to ``spec`` and whether they are the top-level ones (which a model may
        lack entirely, see :func:`idm_gate.groups.resolve`)."""
        if spec.groups is not None:
            return spec.groups, False
        return self.groups or {}, True

    @property
    def base_dir(self) -> Path:
        return self.path.parent


@cache
def schema_text(name: str = "manifest") -> str:
    return resources.files("idm_gate.schemas").joinpath(f"{name}.schema.json").read_text("utf-8")


def schema(name: str = "manifest") -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(schema_text(name))
    return doc


def _field_path(parts: Sequence[str | int] | Iterator[str | int]) -> str:
    out = ""
    for p in parts:
        p = p if isinstance(p, int) else one_line(str(p))  # a key may hold a line break
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _short(v: Any) -> str:
    r = json.dumps(v, default=str) if not isinstance(v, str) else repr(v)
    return truncate(r, 60, "...")


_TYPE_NAMES = {"string": "a string", "number": "a number", "integer": "an integer", "object": "a mapping",
               "array": "a list", "boolean": "true or false"}


def describe_schema_error(err: ValidationError, root_schema: dict[str, Any]) -> str:
    """One readable clause for a jsonschema ValidationError: '<field>: <what>; <what is valid>'."""
    field = _field_path(err.absolute_path) or "(top level)"
    v, inst = err.validator, err.instance
    if err.absolute_path and err.absolute_path[-1] in ("max_drop", "warn_drop", "max_throughput_drop"):
        return f"{field}: {_short(inst)} is not valid; write a percentage such as '5%' or a fraction in [0, 1]"
    if v == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(inst) - set(allowed)) if isinstance(inst, dict) else []
        if allowed:
            return f"{field}: unknown field {_short(extra[0]) if extra else ''}; valid fields are {', '.join(allowed)}"
        return f"{field}: {err.message}"
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return f"{field}: missing required field {missing!r}"
    if v == "type":
        want = err.validator_value
        want = " or ".join(_TYPE_NAMES.get(t, str(t)) for t in (want if isinstance(want, list) else [want]))
        return f"{field}: expected {want}, got {_short(inst)}"
    if v == "enum":
        return f"{field}: {_short(inst)} is not valid; use one of {', '.join(_short(x) for x in err.validator_value)}"
    if v == "const":
        return f"{field}: {_short(inst)} is not supported; use {_short(err.validator_value)}"
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        rel = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[v]
        return f"{field}: {_short(inst)} is out of range; it must be {rel} {err.validator_value}"
    if "propertyNames" in err.schema_path and v in ("minLength", "maxLength"):
        n = len(inst) if isinstance(inst, str) else 0
        return f"{field}: a group name of {n} characters ({_short(inst)}); use 1 to 200 characters"
    if v in ("minItems", "minProperties", "minLength"):
        return f"{field}: must not be empty"
    if v in ("maxItems", "maxLength", "maxProperties"):
        return f"{field}: too long (at most {err.validator_value})"
    if v == "uniqueItems":
        return f"{field}: lists the same entry twice; list each once"
    if v == "anyOf" and err.schema is root_schema["$defs"]["model"]:
        return f"{field}: no size given; add artifacts, size_gb or size_bytes"
    if v == "oneOf" and "path" in err.schema.get("properties", {}):
        return f"{field}: give exactly one of path (a results file) or scores (inline)"
    return f"{field}: {err.message[:200]}"


def relative_flag(value: str | None, what: str) -> float | None:
    """A relative amount given as text ('5%', '5 %' or '0.05') -> 0.05; anything else is an InputError.

    Used for CLI flags and action inputs; ``what`` names the flag in the message.
    """
    if value is None:
        return None
    v = value.strip()
    try:
        x = float(v[:-1]) / 100 if v.endswith("%") else float(v)
    except ValueError:
        x = -1.0
    if not (0 <= x <= 1):
        raise InputError(f"{what}: {value!r} is not valid; write a percentage such as 5% or a fraction in [0, 1]")
    return x


def number_flag(value: str | None, flag: str, field: str | None = None) -> float | None:
    """A flag's or action input's finite number ('0.5', '1e-3'); kept as text until here so messages can
    quote the user (``flag`` names it: ``--z``, ``input max-latency-ms``).

    With ``field`` (a ``gate:`` key), the number must also lie within the bounds the manifest schema sets
    for that key, so a flag can never hold what ``gate:`` in a manifest could not (``--z -1``, ``--z 100``).
    """
    if value is None:
        return None
    try:
        x = float(value)
    except ValueError:
        x = float("nan")
    if not math.isfinite(x):
        raise InputError(f"{flag}: {value!r} is not valid; write a finite number such as 0.5")
    if field is not None:
        bounds = schema()["$defs"]["policy"]["properties"][field]
        lo, lo_open = bounds.get("exclusiveMinimum", bounds.get("minimum")), "exclusiveMinimum" in bounds
        hi = bounds.get("maximum")
        if (lo is not None and (x <= lo if lo_open else x < lo)) or (hi is not None and x > hi):
            low = "" if lo is None else f"{'above' if lo_open else 'at least'} {lo:g}"
            high = "" if hi is None else f"at most {hi:g}"
            valid = " and ".join(filter(None, (low, high)))
            raise InputError(f"{flag}: {value!r} is out of range; write a number {valid} "
                             f"(the bounds of gate: {field} in a manifest)")
    return x


def parse_relative(value: Any) -> float | None:
    """A manifest value already validated by the schema: '5%' -> 0.05; 0.05 -> 0.05."""
    if isinstance(value, str):
        return relative_flag(value, "gate")
    return None if value is None else float(value)


_NO_POLICY = Policy()  # a model without its own gate: (frozen, so one serves every such model)


def _policy(d: dict[str, Any] | None) -> Policy:
    if not d:
        return _NO_POLICY
    sig = d.get("significance")
    return Policy(
        max_drop=parse_relative(d.get("max_drop")),
        warn_drop=parse_relative(d.get("warn_drop")),
        min_density=d.get("min_density"),
        max_size_gb=d.get("max_size_gb"),
        max_error_rate=d.get("max_error_rate"),
        significance=None if sig is None else sig in (True, "on"),
        z=d.get("z"),
        min_tokens_per_s=d.get("min_tokens_per_s"),
        max_latency_ms=d.get("max_latency_ms"),
        max_peak_memory_gb=d.get("max_peak_memory_gb"),
        max_energy_per_token_j=d.get("max_energy_per_token_j"),
        max_throughput_drop=parse_relative(d.get("max_throughput_drop")),
        min_group_density=d.get("min_group_density"),
    )


def _problem(where: tuple[Any, ...], message: str) -> tuple[tuple[Any, ...], str]:
    """One manifest problem: the path of the value it is about (for its YAML line) and its message."""
    return where, message


def _quote_hint(key: object) -> str:
    """What to do about a mapping key YAML read as something other than a string (``costs: {1: 20}``)."""
    if isinstance(key, bool):
        return "YAML reads an unquoted true/false (or yes/no, on/off) as a boolean: quote the key"
    if key is None:
        return "YAML reads an unquoted null or ~ (or an empty key) as null: quote the key"
    kind = "number" if isinstance(key, (int, float)) else type(key).__name__
    return f"YAML reads an unquoted {truncate(str(key), 40)} as a {kind}: quote it ('{truncate(str(key), 40)}')"


def _number_problems(obj: object, parts: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(path, message) for every non-finite number and every mapping key that is not a string, in the
    document's order. Called once per list or mapping (a 1,000-model manifest holds some 10,000 values)."""
    if isinstance(obj, float):
        if not math.isfinite(obj):
            yield _problem(parts, f"{_field_path(parts)}: {obj} is not a finite number")
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, str):
                yield _problem(parts + (k,), f"{_field_path(parts) or '(top level)'}: key {_short(k)} must be a "
                                             f"string; {_quote_hint(k)}")
            elif isinstance(v, (dict, list)) or (isinstance(v, float) and not math.isfinite(v)):
                yield from _number_problems(v, parts + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            if isinstance(v, (dict, list)) or (isinstance(v, float) and not math.isfinite(v)):
                yield from _number_problems(v, parts + (i,))


MAX_PROBLEMS = 50  # listed one per line; beyond that, a count


def _unknown_fields(err: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    """One problem per field an ``additionalProperties: false`` mapping does not know, with a guess."""
    import difflib

    allowed = sorted(err.schema.get("properties", {}))
    where = _field_path(err.absolute_path) or "(top level)"
    out = []
    for extra in (k for k in err.instance if k not in allowed):
        close = difflib.get_close_matches(extra, allowed, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"valid fields are {', '.join(allowed)}"
        out.append(_problem(tuple(err.absolute_path) + (extra,), f"{where}: unknown field {_short(extra)}; {hint}"))
    return out


# No C0/C1 control characters and no Unicode line or paragraph separators: a name is printed in
# one-line messages, reports and PR comments.
_NAME_OK = re.compile(r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]+$")


def parse_manifest(data: bytes, path: Path, shown: str, *, beside: Manifest | None = None) -> Manifest:
    """Validate already-read manifest bytes (also used for the base commit's manifest from git).

    Every problem the schema and the checks below can find is reported at once (``InputErrors``), one
    line each ending with the YAML line and the model's name; unreadable YAML stops at the first.
    ``beside``: another version of the manifest, already parsed (``check`` passes the PR's for the base
    commit's): a ``models:`` entry identical to one the schema accepted there is not validated again
    (see :func:`schema_errors`), the rest of the document is.
    """
    if len(data) > MANIFEST_CAP:
        raise InputError(f"{shown}: {len(data):,} bytes, over the {MANIFEST_CAP:,}-byte manifest limit")
    doc = load_yaml(data, shown)
    if not isinstance(doc, dict):
        raise InputError(f"{shown}: the manifest must be a mapping with 'version: 1' and 'models:', "
                         f"not {type(doc).__name__ if doc is not None else 'an empty document'}")
    problems: list[tuple[tuple[Any, ...], str]] = list(_number_problems(doc))
    if problems and any("must be a string" in m for _, m in problems):
        _raise(problems, data, doc, shown)  # the schema cannot be applied to a non-string key
    import jsonschema  # heavy; only when a manifest is actually read

    sch = schema()
    validator = jsonschema.Draft202012Validator(sch)
    reported = {p for p, _ in problems}
    entries = model_entries(doc.get("models"))
    errors = sorted(schema_errors(validator, doc, entries, beside.valid_entries if beside else frozenset()),
                    key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    mistyped = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
    for err in errors:
        if any(tuple(err.absolute_path)[:len(p)] == p for p in reported):
            continue  # a non-finite number is also out of range: said once
        if tuple(err.absolute_path) in mistyped and err.validator != "type":
            continue  # a value of the wrong type fails its other rules too: the type is the problem
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            problems += _unknown_fields(err)
            continue
        # Within one error, the deepest is the most specific; oneOf/anyOf wrappers come after their children.
        best = jsonschema.exceptions.best_match([err])
        problems.append((tuple(best.absolute_path), describe_schema_error(best, sch)))
    bad_models = {p[1] for p, _ in problems if len(p) > 1 and p[0] == "models"}
    if problems and not isinstance(doc.get("models"), list):
        _raise(problems, data, doc, shown)

    # The schema admits e, 2, "2" (and 2.0, which JSON Schema counts as equal to 2).
    log_base = LogBase.E if doc.get("log_base", "e") == "e" else LogBase.TWO
    models: list[ModelSpec] = []
    seen: dict[str, int] = {}
    known = beside.entry_specs if beside else {}
    for i, m in enumerate(doc["models"]):
        name = m.get("name") if isinstance(m, dict) else None
        if not isinstance(name, str) or not name:
            continue  # the schema said so
        at = ("models", i, "name")
        if not _NAME_OK.match(name):
            problems.append(_problem(at, f"models[{i}].name: contains control characters; use printable text"))
            continue
        if name in seen:
            problems.append(_problem(at, f"models[{i}].name: {name!r} is already used by models[{seen[name]}]; "
                                         "names must be unique"))
            continue
        seen[name] = i
        if i in bad_models:
            continue  # the rest needs a model the schema accepts
        entry = entries[i]
        same = known.get(entry) if entry is not None else None
        if same is not None and same.index == i:
            models.append(same)  # what this entry, at this index, becomes (the checks below found nothing there)
            continue
        evals = tuple(
            EvalSource(path=e.get("path"), scores=e.get("scores"),
                       scale=Scale(e["scale"]) if "scale" in e else None,
                       format=e.get("format"), field=f"models[{i}].evals[{j}]", task=e.get("task"),
                       costs=e.get("costs"))
            for j, e in enumerate(m["evals"])
        )
        for j, e in enumerate(m["evals"]):
            if e.get("costs") is not None:
                problems += _cost_problems(e["costs"], ("models", i, "evals", j, "costs"))
        tasks = tuple(m["tasks"]) if "tasks" in m else None
        weights = m.get("weights")
        if weights and tasks is not None:
            for t in weights:
                if t not in tasks:
                    problems.append(_problem(("models", i, "weights", t), f"models[{i}].weights: {t!r} is not "
                                             "in tasks; weight only tasks that count"))
        models.append(ModelSpec(
            name=name, index=i, artifacts=tuple(m.get("artifacts", ())),
            size_gb=m.get("size_gb"), size_bytes=m.get("size_bytes"), evals=evals, tasks=tasks,
            metrics=m.get("metrics"), weights=weights, min_error=m.get("min_error"), gate=_policy(m.get("gate")),
            previous_names=tuple(m.get("previous_names", ())), groups=_groups(m.get("groups")),
            bench=tuple(BenchSource(path=b["path"], format=b.get("format"), hardware=b.get("hardware"),
                                    field=f"models[{i}].bench[{j}]") for j, b in enumerate(m.get("bench", ()))),
        ))
    problems += _group_name_problems(doc)
    problems += _previous_name_problems(models)
    if problems:
        _raise(problems, data, doc, shown)
    return Manifest(
        path=path, shown=shown, digest=digest_of(data), log_base=log_base,
        min_error=doc.get("min_error"), gate=_policy(doc.get("gate")), models=tuple(models),
        valid_entries=frozenset(e for e in entries if e is not None) if not errors else frozenset(),
        entry_specs={e: m for m in models if (e := entries[m.index]) is not None} if not errors else {},
        groups=_groups(doc.get("groups")),
    )


def model_entries(models: object) -> list[str | None]:
    """Each ``models:`` entry as canonical JSON (sorted keys), None where it has no such form.

    The strings are only compared with each other (equal entries give equal strings, entries JSON tells
    apart give different ones: ``true``, ``1`` and ``1.0`` stay three values) and never parsed. They are
    written by orjson, a tenth of :mod:`json`'s time on a 1,000-model report, for every entry whose text
    reads back as a value equal to the entry: orjson writes NaN as ``null`` and a date as a string, which
    would make such an entry look like another, and json refuses both. An entry that does not read back so,
    or that orjson refuses (a key that is not a string, an integer past 64 bits), is written by json, or is
    None when json refuses it too.
    """
    if not isinstance(models, list):
        return []
    import orjson

    try:
        texts = [orjson.dumps(m, option=orjson.OPT_SORT_KEYS) for m in models]
        with collector_paused():  # a copy to compare with, freed right after: no cycles to look for
            same = orjson.loads(b"[" + b",".join(texts) + b"]") == models  # every entry reads back as itself
        if same:
            return [t.decode("utf-8") for t in texts]
    except (TypeError, ValueError):  # orjson.JSONEncodeError is a TypeError
        pass
    return [_model_entry(m, orjson) for m in models]


def _model_entry(m: object, orjson: Any) -> str | None:
    """One entry of :func:`model_entries`, on its own."""
    try:
        text = orjson.dumps(m, option=orjson.OPT_SORT_KEYS)
        if orjson.loads(text) == m:
            return str(text.decode("utf-8"))
    except (TypeError, ValueError):
        pass
    try:
        return json.dumps(m, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        return None


def schema_errors(validator: Any, doc: dict[str, Any], entries: list[str | None],
                   valid: frozenset[str]) -> list[ValidationError]:
    """The schema's errors for ``doc`` (a manifest, or a report: both list ``models``), where the
    ``models`` entries found in ``valid`` (:func:`model_entries` of a document the same schema accepted)
    are not validated again: ``validator.iter_errors(doc)`` with the same errors, paths included.

    The schema constrains ``models`` with ``type``, ``minItems``, ``maxItems`` and ``items`` only, and an
    item's errors depend on the item alone; so the document with the known entries left out (one kept,
    for ``minItems``) has exactly the errors of the full one, each ``models[j]`` path mapped back to
    its index in the full list. Anything else (a longer list than ``maxItems``, a schema with other
    array rules) is validated whole.
    """
    models = doc.get("models")
    rules = validator.schema["properties"]["models"]
    todo = [i for i, e in enumerate(entries) if e is None or e not in valid]
    if (not valid or not isinstance(models, list) or len(todo) == len(models)
            or set(rules) - {"description", "type", "minItems", "maxItems", "items"}
            or len(models) > rules.get("maxItems", len(models))):
        return list(validator.iter_errors(doc))
    keep = todo or [0]
    errors = list(validator.iter_errors({**doc, "models": [models[i] for i in keep]}))
    for err in errors:
        if len(err.path) >= 2 and err.path[0] == "models" and isinstance(err.path[1], int):
            err.path[1] = keep[err.path[1]]
    return errors


def _cost_problems(costs: dict[str, Any], at: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], str]]:
    """What the schema cannot say about an ``evals[].costs`` it accepted: one form, a square matrix, a zero
    diagonal. Whether its classes are the file's is checked when the file is read."""
    field = _field_path(at)
    rows = {k: v for k, v in costs.items() if isinstance(v, dict)}
    if rows and len(rows) != len(costs):
        first = next(k for k in costs if k not in rows)
        return [_problem(at + (first,), f"{field}.{first}: is a number, but other classes have cost matrix rows; give "
                                         "either per-class weights {class: weight} or a full matrix {true class: "
                                         "{predicted class: cost}}")]
    out = []
    for t, row in rows.items():
        missing = [c for c in rows if c not in row]
        extra = [c for c in row if c not in rows]
        if missing or extra:
            what = (f"lacks a cost for predicted class {missing[0]!r}" if missing
                    else f"has predicted class {extra[0]!r}, which has no row")
            listed = ", ".join(map(repr, list(rows)[:8])) + (" ..." if len(rows) > 8 else "")
            out.append(_problem(at + (t,), f"{field}.{t}: {what}, so the matrix is not square; every row lists the "
                                           f"same {len(rows)} classes as the rows ({listed})"))
        elif row[t] != 0:
            out.append(_problem(at + (t, t), f"{field}.{t}.{t}: is {row[t]!r}, but a correct prediction costs 0; set "
                                             "the diagonal to 0"))
    return out


def _groups(d: dict[str, Any] | None) -> dict[str, tuple[str, ...]] | None:
    return None if d is None else {k: tuple(v) for k, v in d.items()}


def _group_name_problems(doc: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """Group names and entries are printed in one-line messages and reports: no control characters."""
    where: list[tuple[tuple[Any, ...], Any]] = [(("groups",), doc.get("groups"))]
    models = doc.get("models")
    for i, m in enumerate(models if isinstance(models, list) else ()):
        if isinstance(m, dict):
            where.append((("models", i, "groups"), m.get("groups")))
    out = []
    for at, groups in where:
        if not isinstance(groups, dict):
            continue
        for name, entries in groups.items():
            if isinstance(name, str) and name and not _NAME_OK.match(name):
                out.append(_problem(at + (name,), f"{_field_path(at)}: a group name contains control characters; "
                                                  "use printable text"))
            for j, e in enumerate(entries if isinstance(entries, list) else ()):
                if isinstance(e, str) and e and not _NAME_OK.match(e):
                    out.append(_problem(at + (name, j), f"{_field_path(at + (name, j))}: contains control "
                                                        "characters; use a task name or a glob"))
    return out


def _previous_name_problems(models: list[ModelSpec]) -> list[tuple[tuple[Any, ...], str]]:
    """A previous name follows a rename only where it is unambiguous: never a current model's name (that
    model is compared with its own baseline), never claimed by two models (one baseline cannot stand for
    two models, nor be compared twice while another model escapes the comparison)."""
    current = {m.name: m.index for m in models}
    claimed: dict[str, int] = {}
    out: list[tuple[tuple[Any, ...], str]] = []
    for m in models:
        for j, old in enumerate(m.previous_names):
            at, field = ("models", m.index, "previous_names", j), f"models[{m.index}].previous_names[{j}]"
            if not _NAME_OK.match(old):
                out.append(_problem(at, f"{field}: contains control characters; use printable text"))
            elif old == m.name:
                out.append(_problem(at, f"{field}: {old!r} is this model's own name; list only names it had before"))
            elif old in current:
                out.append(_problem(at, f"{field}: {old!r} is the name of models[{current[old]}], which is still "
                                        "in the manifest; a previous name must be one no model has now"))
            elif old in claimed:
                out.append(_problem(at, f"{field}: {old!r} is already claimed by models[{claimed[old]}]; a "
                                        "previous name may follow one model only"))
            else:
                claimed[old] = m.index
    return out


def _raise(problems: list[tuple[tuple[Any, ...], str]], data: bytes, doc: dict[str, Any], shown: str) -> NoReturn:
    """Raise ``InputErrors``: each problem as ``<file>: <field>: <what> (line N, model 'name')``, in
    the order of the file; at most ``MAX_PROBLEMS`` lines, then a count of the rest."""
    from .yamlsafe import Locator

    loc = Locator(data)
    listed = doc.get("models")
    models: list[Any] = listed if isinstance(listed, list) else []
    lines = []
    for where, text in problems:
        at = []
        line = loc.line(where)
        if line:
            at.append(f"line {line}")
        if len(where) >= 2 and where[0] == "models" and isinstance(where[1], int) and where[1] < len(models) \
                and where[2:3] != ("name",):  # a problem with the name itself does not quote it
            m = models[where[1]]
            name = m.get("name") if isinstance(m, dict) else None
            if isinstance(name, str) and len(name) <= 200 and _NAME_OK.match(name):
                at.append(f"model {name!r}")
        lines.append((line or 0, f"{shown}: {text}" + (f" ({', '.join(at)})" if at else "")))
    out = [t for _, t in sorted(lines, key=lambda x: x[0])]
    if len(out) > MAX_PROBLEMS:
        rest = len(out) - MAX_PROBLEMS
        out = out[:MAX_PROBLEMS] + [f"{shown}: {rest} more problem{'s' if rest > 1 else ''} not listed; fix "
                                    "these and run again"]
    raise InputErrors(out)


def load_manifest(path: Path, shown: str | None = None) -> Manifest:
    shown = shown or str(path)
    data = read_capped(path, MANIFEST_CAP, shown, str(path))
    return parse_manifest(data, path.resolve(), shown)
