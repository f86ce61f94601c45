"""What ``idm-gate measure`` and ``--version`` load: only the readers the manifest's files need.

Start-up time is most of a small ``measure`` (benchmarks/bench_measure.py); each module imported costs
its load. No test here times anything: each runs the CLI in a fresh interpreter and looks at
``sys.modules`` after it, so a module that a refactor starts importing at the top shows up as a failure
naming it, not as a slower benchmark weeks later.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from modelfiles import LMEVAL_FIXTURE, safetensors_file

# Runs the CLI's main() and prints the names in sys.modules afterwards, as JSON, on the last line.
PROBE = """
import contextlib, io, json, sys
from idm_gate.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

# Readers and sizers of other formats, the check-only code, and the libraries none of it needs.
EVAL_READERS = ("idm_gate.evals.lmeval", "idm_gate.evals.lighteval", "idm_gate.evals.mteb",
                "idm_gate.evals.opencompass", "idm_gate.evals.model_index", "idm_gate.evals.table")
SIZERS = ("idm_gate.sizing.gguf", "idm_gate.sizing.onnx", "idm_gate.sizing.pytorch", "idm_gate.sizing.dvc",
          "idm_gate.sizing.hub")
NOT_FOR_MEASURE = ("idm_gate.bench", "idm_gate.compare", "idm_gate.gate", "idm_gate.store", "idm_gate.github",
                   "idm_gate.report.markdown", "idm_gate.report.json", "idm_gate.report.check_markdown",
                   "idm_gate.report.explain", "idm_gate.history", "idm_gate.init", "idm_gate.verdicts",
                   "idm_gate.scan", "requests", "urllib3", "ghapi", "numpy", "safetensors", "gguf", "onnx")


def loaded(args: list[str], cwd: Path) -> set[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["code"] == 0, out.stderr[-2000:]
    return set(res["modules"])


def among(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def write_model(folder: Path, evals: str) -> None:
    safetensors_file(folder / "model.safetensors")
    (folder / "idm.yaml").write_text("version: 1\nmodels:\n  - name: one\n    artifacts: [model.safetensors]\n"
                                     f"    evals: [{evals}]\n")


def test_measure_of_safetensors_and_inline_scores_loads_no_other_reader(tmp_path):
    write_model(tmp_path, "{scores: {mmlu: 0.61, gsm8k: 0.52}}")
    mods = loaded(["measure"], tmp_path)
    assert "idm_gate.sizing.safetensors" in mods and "idm_gate.measure" in mods  # the probe saw the run
    assert "idm_gate.evals.table" in mods  # inline scores are read by the table reader
    assert among(mods, tuple(r for r in EVAL_READERS if r != "idm_gate.evals.table")) == []
    # the CSV reader's csv, the "did you mean" difflib: not for inline scores that are all found
    assert among(mods, ("csv", "difflib")) == []
    # the manifest digest comes from CPython's own SHA-256, not hashlib, which loads OpenSSL
    assert among(mods, ("hashlib", "_hashlib")) == []
    # codecs looked up by name import a module: the manifest's text and the messages' escapes use none
    assert among(mods, ("encodings.utf_8_sig", "encodings.unicode_escape")) == []
    assert among(mods, SIZERS) == []
    assert among(mods, NOT_FOR_MEASURE) == []


def test_measure_of_an_lm_eval_file_loads_the_lm_eval_reader_only(tmp_path):
    write_model(tmp_path, "{path: results.json}")
    (tmp_path / "results.json").write_bytes(LMEVAL_FIXTURE.read_bytes())
    mods = loaded(["measure"], tmp_path)
    assert "idm_gate.evals.lmeval" in mods
    # format detection asks lighteval's and mteb's shape tests too; their readers run only on a match
    assert among(mods, ("idm_gate.evals.opencompass", "idm_gate.evals.model_index", "idm_gate.evals.table")) == []
    assert among(mods, SIZERS) == []


def test_a_gguf_artifact_loads_the_gguf_sizer_when_it_is_sized(tmp_path):
    # the registry entry imports its module on first use, and sizes the file as before
    import numpy as np

    from weightfiles import gguf_model

    gguf_model(tmp_path / "model.gguf", {"w": np.zeros((4, 32), dtype=np.float16)})
    (tmp_path / "idm.yaml").write_text("version: 1\nmodels:\n  - name: one\n    artifacts: [model.gguf]\n"
                                       "    evals: [{scores: {mmlu: 0.61}}]\n")
    mods = loaded(["measure"], tmp_path)
    assert "idm_gate.sizing.gguf" in mods
    assert among(mods, ("idm_gate.sizing.onnx", "idm_gate.sizing.pytorch", "idm_gate.sizing.dvc")) == []


def test_version_loads_no_idm_gate_stage(tmp_path):
    out = subprocess.run([sys.executable, "-c", "import sys\nfrom idm_gate.cli import main\n"
                          "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
                          "import json\nprint(json.dumps(sorted(sys.modules)))"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    mods = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert among(mods, ("idm_gate.data", "idm_gate.manifest", "idm_gate.measure", "idm_gate.sizing",
                        "idm_gate.evals", "yaml", "jsonschema", "subprocess")) == []
