"""The manifest reference (``docs/manifest.md``) rendered from the JSON Schema, so the two cannot drift.

``idm-gate schema --markdown`` prints it; ``tests/project/test_docs.py`` fails when ``docs/manifest.md`` is not
exactly that output. Every field must carry a ``description`` in the schema (its own, or that of the
``$defs`` entry it refers to): :func:`render_markdown` raises ``ValueError`` naming an undocumented one.
"""

from __future__ import annotations

import json
from typing import Any

# Sections, in order: (title, JSON pointer into the schema, how the field paths start).
SECTIONS = (
    ("Top level", "#", ""),
    ("`gate` and `models[].gate`: the policy", "#/$defs/policy", "gate."),
    ("`models[]`: one model", "#/$defs/model", "models[]."),
    ("`models[].evals[]`: one source of scores", "#/$defs/eval", "models[].evals[]."),
    ("`models[].bench[]`: one inference benchmark results file", "#/$defs/bench", "models[].bench[]."),
)

RULES = """\
## Rules the schema cannot express

`idm-gate measure` checks these after the schema; each failure is one line naming the field.

- A model needs a size (`artifacts`, `size_gb` or `size_bytes`) and at least one task. Every declared
  size must agree with every other and with the artifacts within 0.5 %.
- Paths are relative to the manifest's folder and must resolve (symlinks followed) inside the git
  repository's top level, or inside the manifest's folder when there is no repository.
- Model names are unique and printable (no control characters or line separators).
- A task found in two sources is an error unless `tasks:` leaves it out; a `tasks:` entry with no
  usable score is an error that lists the tasks found; `weights:` may only name tasks that count.
- A value outside the declared `scale` is an error; without `scale`, lm-eval, lighteval and MTEB files
  are fractions, model cards percent unless every value is at most 1, CSV, JSON and inline scores
  fractions.
- Numbers must be finite (no `.nan`, `.inf`); the file is at most 10 MiB and YAML aliases may expand
  to at most 100,000 nodes.
"""


def _resolve(schema: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = schema
    for part in ref.lstrip("#/").split("/") if ref != "#" else []:
        node = node[part]
    resolved: dict[str, Any] = node
    return resolved


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _json(v: Any) -> str:
    return "`" + json.dumps(v) + "`"


def _type(node: dict[str, Any], schema: dict[str, Any]) -> str:
    if "$ref" in node:
        target = _resolve(schema, node["$ref"])
        name = _ref_name(node["$ref"])
        if name in ("policy",):
            return "mapping (see the policy section)"
        if "oneOf" in target and target.get("description"):
            return " ".join(target["description"].split())  # e.g. "A relative amount: '5%' or ..."
        return _type(target, schema)
    if "const" in node:
        return f"exactly {_json(node['const'])}"
    if "enum" in node:
        return "one of " + ", ".join(_json(v) for v in node["enum"])
    if "oneOf" in node and "type" not in node:
        return " or ".join(_type(o, schema) for o in node["oneOf"])
    t = node.get("type")
    names = {"string": "string", "number": "number", "integer": "integer", "object": "mapping",
             "array": "list", "boolean": "boolean", "null": "null"}
    if isinstance(t, list):
        return " or ".join(names.get(x, str(x)) for x in t)
    if t == "array":
        items = node.get("items", {})
        if "$ref" in items:
            return f"list of {_ref_name(items['$ref'])} mappings (see below)"
        return f"list of {_type(items, schema)}s"
    if t == "object" and isinstance(node.get("additionalProperties"), dict):
        return f"mapping of name to {_type(node['additionalProperties'], schema)}"
    if t == "string" and "pattern" in node:
        return f"string matching `{node['pattern']}`"
    return names.get(t, str(t)) if t else "any"


def _limits(node: dict[str, Any], schema: dict[str, Any]) -> str:
    if "$ref" in node and _ref_name(node["$ref"]) != "policy":
        node = {**_resolve(schema, node["$ref"]), **{k: v for k, v in node.items() if k != "$ref"}}
    parts = []
    for key, text in (("minimum", ">= {}"), ("exclusiveMinimum", "> {}"), ("maximum", "<= {}"),
                      ("exclusiveMaximum", "< {}"), ("minItems", "at least {} item(s)"),
                      ("maxItems", "at most {} items"), ("minLength", "at least {} character(s)"),
                      ("maxLength", "at most {} characters"), ("minProperties", "at least {} entry"),
                      ("uniqueItems", "no duplicates")):
        if key in node and not (key == "uniqueItems" and node[key] is not True):
            parts.append(text.format(node[key]))
    items = node.get("items", {})
    if node.get("type") == "array" and "$ref" not in items:
        parts += [f"each {p}" for p in _limits(items, schema).split("; ") if p]
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        parts += [f"each value {p}" for p in _limits(extra, schema).split("; ") if p]
    return "; ".join(parts)


def _description(node: dict[str, Any], schema: dict[str, Any], field: str) -> str:
    desc = node.get("description")
    if desc is None and "$ref" in node:
        desc = _resolve(schema, node["$ref"]).get("description")
    if not desc:
        raise ValueError(f"manifest schema: {field} has no description; add one so docs/manifest.md documents it")
    return " ".join(str(desc).split())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(schema: dict[str, Any]) -> str:
    """The Markdown reference for the manifest schema ``schema`` (see the module docstring)."""
    out = [
        "# The manifest (`idm.yaml`) reference",
        "",
        "<!-- Generated by `idm-gate schema --markdown` from idm_gate/schemas/manifest.schema.json; do not edit.",
        "     tests/project/test_docs.py fails when this file and the schema differ. -->",
        "",
        f"{' '.join(schema.get('title', '').split())}. `idm-gate init` writes a commented one from the files in a "
        "repository; `idm-gate schema` prints the JSON Schema itself.",
        "",
    ]
    for title, pointer, prefix in SECTIONS:
        node = _resolve(schema, pointer)
        required = set(node.get("required", ()))
        out += [f"## {title}", ""]
        if pointer != "#" and node.get("description"):
            out += [" ".join(node["description"].split()), ""]
        out += ["| field | type | required | limits | description |", "|---|---|---|---|---|"]
        for name, prop in node.get("properties", {}).items():
            field = prefix + name
            out.append(f"| `{field}` | {_cell(_type(prop, schema))} | {'yes' if name in required else ''} | "
                       f"{_cell(_limits(prop, schema))} | {_cell(_description(prop, schema, field))} |")
        notes = []
        if node.get("additionalProperties") is False:
            notes.append("No other fields are allowed (a misspelt one is an error, not ignored).")
        if "anyOf" in node and all(set(a) == {"required"} for a in node["anyOf"]):
            notes.append("At least one of " + ", ".join(f"`{a['required'][0]}`" for a in node["anyOf"])
                         + " is required.")
        if "oneOf" in node and all("required" in o for o in node["oneOf"]):
            notes.append("Exactly one of " + ", ".join(f"`{o['required'][0]}`" for o in node["oneOf"])
                         + " is given.")
        if notes:
            out += ["", *notes]
        out.append("")
    out.append(RULES)
    return "\n".join(out)
