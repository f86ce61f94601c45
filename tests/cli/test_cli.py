"""`idm-gate measure` / `schema` and the exit-code contract, through the CLI in a subprocess."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

from idm_gate import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "model-repo"


def idm(*args, cwd=EXAMPLE, timeout=60):
    return subprocess.run([sys.executable, "-m", "idm_gate", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def schema(name: str) -> dict:
    return json.loads(idm("schema", name).stdout)


def validator(name: str):
    reg = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in (schema("report"), schema("check")))
    return jsonschema.Draft202012Validator(schema(name), registry=reg)


def test_measure_text_table_can_be_recomputed_by_hand():
    p = idm("measure")
    assert p.returncode == 0, p.stderr
    assert "D = -ln(error rate) / size_GB, in nats/GB" in p.stdout
    rows = [ln for ln in p.stdout.splitlines() if re.match(r"^(bonsai-mini|edge-classifier|student-distilled) ", ln)]
    assert len(rows) == 3
    for row in rows:
        cols = re.split(r"\s{2,}", row.strip())
        size_bytes = int(cols[2].replace(",", ""))
        err = float(cols[7].split(" ± ")[0])
        dens = float(cols[8].split(" ± ")[0].replace(",", ""))
        # the printed error rate has 4 significant digits: the recomputed density agrees to that precision
        assert -math.log(err) / (size_bytes / 1e9) == pytest.approx(dens, rel=2e-3), row


def test_measure_json_matches_schema_and_formula():
    p = idm("measure", "--format", "json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    validator("report").validate(doc)
    by = {m["name"]: m for m in doc["models"]}
    assert set(by) == {"bonsai-mini", "edge-classifier", "student-distilled", "fraud-screen"}
    for m in doc["models"]:
        # a task with costs: counts its cost-weighted error; the plain figures stand beside (fraud-screen)
        pe = sum(t.get("cost_error", t["error"]) for t in m["tasks"]) / len(m["tasks"])
        assert m["error_rate"] == pytest.approx(pe)
        assert m["density"] == pytest.approx(-math.log(pe) / (m["size_bytes"] / 1e9))
        assert m["size_gb"] == m["size_bytes"] / 1e9
        plain = sum(t["error"] for t in m["tasks"]) / len(m["tasks"])
        if m["name"] == "fraud-screen":
            assert m["plain_error_rate"] == pytest.approx(plain) and plain > pe
            assert m["plain_density"] == pytest.approx(-math.log(plain) / (m["size_bytes"] / 1e9))
        else:
            assert "plain_error_rate" not in m and pe == pytest.approx(plain)
    b = by["bonsai-mini"]
    assert b["size_source"] == "stat" and b["artifacts"][0]["format"] == "gguf" and b["params"] > 0
    assert b["bits_per_param"] == pytest.approx(8 * b["size_bytes"] / b["params"])
    assert b["tasks_with_stderr"] == len(b["tasks"]) and b["density_stderr"] > 0
    assert by["student-distilled"]["density_stderr"] is None and by["student-distilled"]["tasks_with_stderr"] == 0
    assert {t["name"] for t in b["tasks"]} >= {"arc_challenge", "hellaswag", "mmlu", "gsm8k"}


def test_measure_markdown_and_output_file(tmp_path):
    out = tmp_path / "report.md"
    p = idm("measure", "-f", "markdown", "-o", str(out))
    assert p.returncode == 0 and p.stdout == idm("measure").stdout  # the log keeps the text report
    md = out.read_text()
    assert md.startswith("### Intelligence density: 4 model(s)") and "| bonsai-mini |" in md
    assert list(tmp_path.iterdir()) == [out], "no temporary file left behind"
    p = idm("measure", "-o", str(tmp_path))
    assert p.returncode == 2 and "is a directory" in p.stderr


def test_log2_reports_bits_per_gb(tmp_path):
    repo = tmp_path / "r"
    shutil.copytree(EXAMPLE, repo)
    y = (repo / "idm.yaml").read_text().replace("log_base: e", "log_base: 2")
    (repo / "idm.yaml").write_text(y)
    e = json.loads(idm("measure", "-f", "json", cwd=EXAMPLE).stdout)
    two = json.loads(idm("measure", "-f", "json", cwd=repo).stdout)
    assert two["unit"] == "bits/GB"
    for a, b in zip(e["models"], two["models"], strict=True):
        assert b["density"] == pytest.approx(a["density"] / math.log(2))


@pytest.mark.parametrize("which", ["manifest", "report", "check"])
def test_schema_command_prints_valid_json_schemas(which):
    p = idm("schema", which)
    assert p.returncode == 0 and p.stderr == ""
    printed = json.loads(p.stdout)
    jsonschema.Draft202012Validator.check_schema(printed)
    # what the command prints is the schema the package validates with, byte for byte
    assert p.stdout == (Path(cli.__file__).parent / "schemas" / f"{which}.schema.json").read_text("utf-8")
    assert printed == schema(which)


def test_missing_manifest_is_one_line_exit_2(tmp_path):
    p = idm("measure", cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr == (f"idm-gate: error: idm.yaml: not found in {tmp_path.resolve()} (not inside a git "
                        "repository, so no folder above it was searched); run idm-gate in the folder of your "
                        "manifest, pass --manifest PATH, or write one with `idm-gate init`\n")


def test_usage_error_is_exit_2():
    p = idm("measure", "--format", "xml")
    assert p.returncode == 2 and "invalid choice" in p.stderr


def test_crash_is_exit_3_without_traceback(monkeypatch, capsys, tmp_path):
    import idm_gate.measure

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(idm_gate.measure, "measure", boom)
    monkeypatch.chdir(EXAMPLE)
    assert cli.main(["measure"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("idm-gate: internal error: RuntimeError: disk on fire") and "Traceback" not in err


def test_the_command_line_process_freezes_its_start_up_objects_an_in_process_call_does_not(monkeypatch, capsys):
    # `idm-gate` (argv None: the process's own command line) takes what start-up built out of the cyclic
    # collector's sight; a program calling main(argv) keeps its collector as it was (frozen objects are never freed)
    import gc

    monkeypatch.chdir(EXAMPLE)
    before = gc.get_freeze_count()
    assert cli.main(["measure", "--format", "json"]) == 0
    assert gc.get_freeze_count() == before
    capsys.readouterr()
    script = ("import gc, sys\nfrom idm_gate.cli import main\nsys.argv = ['idm-gate', 'measure', '--format', 'json']\n"
              "code = main()\nprint(code, gc.get_freeze_count() > 0, file=sys.stderr)\n")
    p = subprocess.run([sys.executable, "-c", script], cwd=EXAMPLE, capture_output=True, text=True)
    assert p.stderr.splitlines()[-1] == "0 True", p.stderr


def test_the_action_shows_a_crash_as_an_error_annotation_and_exits_3(monkeypatch, capsys):
    """The runner's summary page lists ::error:: lines; a crash must not be visible only deep in the log."""
    import idm_gate.action

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(idm_gate.action, "run", boom)
    assert cli.main(["action"]) == 3
    out, err = capsys.readouterr()
    assert out == "::error title=idm-gate::internal error: RuntimeError: disk on fire\n"
    assert err.startswith("idm-gate: internal error: RuntimeError: disk on fire") and "Traceback" not in err


def test_help_does_not_import_heavy_modules():
    code = ("import sys, idm_gate.cli as c\n"
            "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('ghapi', 'jsonschema', 'requests', 'yaml', 'httpx2') if m in sys.modules))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.stdout.strip().splitlines()[-1] == "[]"


def test_check_json_matches_its_schema(tmp_path):
    from gatecase import BASE, manifest
    from gitrepo import make_repo

    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE)})
    assert r.idm("record").returncode == 0
    r.git("checkout", "-q", "-b", "pr")
    r.write("idm.yaml", manifest({"arc": 71.0}))
    r.commit()
    p = r.idm("check", "--base-ref", "origin/main", "-f", "json")
    doc = json.loads(p.stdout)
    validator("check").validate(doc)
    # provenance, as the comment shows it: the measured commit and the baseline's commit date
    assert doc["head_commit"] == r.git("rev-parse", "HEAD")
    assert doc["baseline_date"] == r.git("show", "-s", "--format=%cI", doc["baseline_commit"])
    assert doc["models"][0]["comparability"]["missing_in_pr"] == ["gsm8k"]


def test_crash_with_debug_shows_the_traceback_and_still_exits_3(monkeypatch, capsys):
    import idm_gate.measure

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(idm_gate.measure, "measure", boom)
    monkeypatch.setenv("IDM_GATE_DEBUG", "1")
    monkeypatch.chdir(EXAMPLE)
    assert cli.main(["measure"]) == 3  # never 1, which means "the gate failed"
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: disk on fire" in err
