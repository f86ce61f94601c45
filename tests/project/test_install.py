"""The README's install line: `pip install <a clone>` into a fresh virtualenv gives a working `idm-gate`.

The clone is stood for by the repository's files as git sees them (tracked, plus new files not
ignored), copied to a temp folder, so build leftovers in the checkout (``build/``, ``*.egg-info``)
neither help nor hurt. pip runs with ``-v`` so the build backend's own output is visible: packaging
metadata that setuptools deprecates (the pre-SPDX ``license = { text = ... }`` table) prints a
``SetuptoolsDeprecationWarning`` there, which ``make demo``'s editable install showed three times.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from idm_gate import __version__

ROOT = Path(__file__).resolve().parents[2]
LEAKS = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PIP_USER", "PIP_PREFIX", "PIP_TARGET")


def repository_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, check=True).stdout
    return [f for f in out.decode().split("\0") if f and (ROOT / f).is_file()]


def test_pip_install_from_a_clone_gives_a_working_idm_gate(tmp_path):
    src = tmp_path / "idm-gate"
    for rel in repository_files():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    env = {k: v for k, v in os.environ.items() if k not in LEAKS}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-v", "--disable-pip-version-check",
                          str(src)], env=env, capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    assert "SetuptoolsDeprecationWarning" not in pip.stdout + pip.stderr

    exe = venv / "bin" / "idm-gate"
    for flag in ("--version", "-V"):
        p = subprocess.run([str(exe), flag], env=env, capture_output=True, text=True, timeout=60)
        assert (p.returncode, p.stdout) == (0, f"idm-gate {__version__}\n")
    # Working means its dependencies came along: measure reads YAML, validates with jsonschema, sizes GGUF.
    p = subprocess.run([str(exe), "measure", "-f", "json"], cwd=ROOT / "examples" / "model-repo", env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert {m["name"] for m in json.loads(p.stdout)["models"]} == {"bonsai-mini", "edge-classifier",
                                                                  "student-distilled", "fraud-screen"}
    # The SPDX license expression (core metadata 2.4, PEP 639) rather than the deprecated table. (Run away
    # from the checkout, whose idm_gate.egg-info from the editable install would be found first.)
    meta = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import importlib.metadata as m; d = m.metadata('idm-gate'); "
                           "print(d['License-Expression'], d.get('License'))"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout
    assert meta.split() == ["MIT", "None"]
    # The MIT text itself ships in the wheel (PEP 639 License-File; setuptools>=77 picks up LICENSE by its
    # default glob), so whoever installs idm-gate gets the notice the licence asks to be kept with copies.
    lic = subprocess.run([str(venv / "bin" / "python"), "-c",
                          "import importlib.metadata as m; d = m.distribution('idm-gate'); "
                          "print(d.metadata.get_all('License-File')); print(d.read_text('licenses/LICENSE'))"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout
    files, text = lic.split("\n", 1)
    assert files == "['LICENSE']"
    assert text.startswith("MIT License\n\nCopyright (c) 2026 the idm-gate authors\n")
    assert text.rstrip("\n") == (ROOT / "LICENSE").read_text().rstrip("\n")
