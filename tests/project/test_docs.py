"""docs/: the manifest reference matches the schema, the troubleshooting page covers every input error,
and the metric page's worked examples are what idm_gate.metric computes.

The quick start is run to the letter in tests/project/test_quickstart.py.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
GEN = ROOT / "tools" / "gen_docs.py"


def run_gen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(GEN), *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def catalogue() -> dict[str, list[str]]:
    """tools/gen_docs.py's catalogue, read back from the generated part of troubleshooting.md."""
    text = (DOCS / "troubleshooting.md").read_text()
    gen = text.split("<!-- BEGIN generated catalogue", 1)[1].split("<!-- END generated catalogue -->", 1)[0]
    out: dict[str, list[str]] = {}
    module = None
    for line in gen.splitlines():
        m = re.match(r"### `(.+)`$", line)
        if m:
            module = m.group(1)
            out[module] = []
        elif line.startswith("- ") and module:
            out[module].append(line[2:].replace("\\|", "|"))
    return out


def sections() -> list[tuple[str, set[str], str]]:
    """(title, modules it covers, body) of each hand-written section of troubleshooting.md."""
    text = (DOCS / "troubleshooting.md").read_text().split("## Catalogue of messages", 1)[0]
    out = []
    for m in re.finditer(r"^## ([^\n]+)\n<!-- covers: ([^\n]+?) -->\n(.*?)(?=^## |\Z)", text, re.M | re.S):
        out.append((m.group(1), set(m.group(2).split()), m.group(3)))
    return out


# ---------------------------------------------------------------------------------------------
# manifest.md


def test_manifest_reference_is_the_schema_rendered():
    p = subprocess.run([sys.executable, "-m", "idm_gate", "schema", "--markdown"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert (DOCS / "manifest.md").read_text() == p.stdout, \
        "docs/manifest.md differs from `idm-gate schema --markdown`: run python tools/gen_docs.py"


def test_every_schema_field_is_in_the_reference():
    from idm_gate.manifest import schema

    s = schema()
    text = (DOCS / "manifest.md").read_text()
    for prefix, node in (("", s), ("gate.", s["$defs"]["policy"]), ("models[].", s["$defs"]["model"]),
                         ("models[].evals[].", s["$defs"]["eval"]), ("models[].bench[].", s["$defs"]["bench"])):
        for name in node["properties"]:
            assert f"| `{prefix}{name}` |" in text, prefix + name


def test_an_undocumented_field_stops_the_reference():
    from idm_gate.manifest import schema
    from idm_gate.schemadoc import render_markdown

    s = copy.deepcopy(schema())
    s["$defs"]["model"]["properties"]["previous_names"] = {"type": "array", "items": {"type": "string"}}
    with pytest.raises(ValueError, match="models\\[\\]\\.previous_names has no description"):
        render_markdown(s)


def test_schema_markdown_renders_the_manifest_only():
    p = subprocess.run([sys.executable, "-m", "idm_gate", "schema", "report", "--markdown"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 2
    assert "schema --markdown: renders the manifest's schema only" in p.stderr


# ---------------------------------------------------------------------------------------------
# troubleshooting.md


def test_the_generated_docs_are_current():
    p = run_gen("--check")
    assert p.returncode == 0, p.stderr


def test_every_module_that_raises_input_errors_is_covered_once():
    cat = catalogue()
    assert len(cat) >= 30 and sum(map(len, cat.values())) >= 250  # the catalogue really is the package's
    covered: dict[str, str] = {}
    for title, modules, body in sections():
        assert body.count("\n- ") >= 1, f"section {title!r} gives no advice"
        for mod in modules:
            assert (ROOT / mod).is_file(), f"section {title!r} covers {mod}, which does not exist"
            assert mod not in covered, f"{mod} is covered by {covered[mod]!r} and {title!r}"
            covered[mod] = title
    missing = sorted(set(cat) - set(covered))
    assert not missing, f"no troubleshooting section covers {missing}"


def test_every_quoted_message_in_the_advice_is_one_the_code_raises():
    cat = catalogue()
    for title, modules, body in sections():
        msgs = [m.lower() for mod in modules for m in cat.get(mod, [])]
        for phrase in re.findall(r"\*([^*\n]+)\*", body):
            rx = ".*?".join(re.escape(part.strip()) for part in phrase.lower().split("…"))
            assert any(re.search(rx, m) for m in msgs), f"{title}: *{phrase}* is in no message of {sorted(modules)}"


def test_the_catalogue_finds_a_new_message(tmp_path):
    sys.path.insert(0, str(GEN.parent))
    try:
        import gen_docs
    finally:
        sys.path.remove(str(GEN.parent))
    src = tmp_path / "mod.py"
    src.write_text('from .errors import InputError\n\ndef f(x):\n    raise InputError(f"{x}: the widget is '
                   'bent; straighten it")\n\ndef g(r):\n    raise r.fail("truncated: " + "header")\n')
    assert gen_docs.messages(src) == [(4, "…: the widget is bent; straighten it"), (7, "truncated: header")]


# ---------------------------------------------------------------------------------------------
# metric.md


def test_the_metric_pages_worked_examples_are_what_the_code_computes():
    from idm_gate.data import LogBase
    from idm_gate.metric import density

    text = (DOCS / "metric.md").read_text()
    rows = re.findall(r"^\| ([^|]+) \| ([\d.]+) % \| ([\d.]+) \| (e|2) \| ([\d.]+) \|$", text, re.M)
    assert len(rows) == 3
    for name, score, size_gb, base, shown in rows:
        pe = 1 - float(score) / 100
        d = density(pe, round(float(size_gb) * 1e9), LogBase(base))
        assert f"{d:.{len(shown.split('.')[1])}f}" == shown, (name, d)
    # the hand computation in the text
    assert "-ln(0.295) = 1.2208" in text and "1.2208 / 1.15 = 1.0615" in text


def test_the_metric_page_names_the_limits_of_its_origin():
    text = (DOCS / "metric.md").read_text()
    headings = re.findall(r"^### (.+)$", text, re.M)
    assert headings == ["No latency, memory bandwidth or power", "All error types weigh the same",
                        "A static snapshot"]
    assert "D = -ln(Pe) / size_GB" in text and "PrismML" in text


def test_the_docs_link_to_each_other_and_exist():
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([\w.-]+\.md)\)", page.read_text()):
            assert (DOCS / target).is_file(), f"{page.name} links to {target}"
    assert json.loads(json.dumps(sorted(p.name for p in DOCS.glob("*.md")))) == [
        "manifest.md", "metric.md", "quickstart.md", "troubleshooting.md"]
