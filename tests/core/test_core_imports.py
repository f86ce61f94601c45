"""The pure core (``metric``, ``compare``, ``policy``, ``groups``, the shared values in ``data`` and ``verdicts``)
loads no I/O code.

Each probe runs in a fresh interpreter, so modules other tests imported cannot hide or fake a load.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

# YAML, JSON Schema, HTTP (requests, httpx2, ghapi and its transport) and git (our wrapper, subprocess)
IO_MODULES = ("yaml", "jsonschema", "requests", "urllib3", "httpx2", "ghapi", "fasttransport",
              "http.client", "socket", "subprocess", "idm_gate.gitutil", "idm_gate.yamlsafe",
              "idm_gate.manifest", "idm_gate.measure", "idm_gate.paths")


def loaded_after(statement: str) -> set[str]:
    """Names in ``sys.modules`` of a fresh interpreter after it ran ``statement``."""
    probe = f"{statement}\nimport sys\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    return set(out.stdout.split())


def io_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in IO_MODULES))


@pytest.mark.parametrize("module", ["idm_gate.compare", "idm_gate.metric", "idm_gate.data", "idm_gate.policy",
                                    "idm_gate.groups", "idm_gate.retry", "idm_gate.verdicts"])
def test_the_core_imports_no_io(module):
    loaded = loaded_after(f"import {module}")
    assert module in loaded
    assert io_in(loaded) == []


def test_the_probe_sees_io_where_there_is_some():
    # the manifest reader is an adapter: it parses YAML, so the same probe must report it
    assert "yaml" in io_in(loaded_after("import idm_gate.manifest"))
