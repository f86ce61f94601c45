"""Fixtures shared by the test modules: the fake GitHub REST server (tests/support/fakegithub.py) and golden files.

Golden files (tests/goldens/) hold rendered output a reviewer reads. A test compares against them;
``pytest --update-goldens`` (or ``IDM_UPDATE_GOLDENS=1``) rewrites them from the current output
instead, and the change is reviewed in the diff like any other.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from fakegithub import fake_github, fake_github_server  # noqa: F401

GOLDENS = Path(__file__).parent / "goldens"


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite tests/goldens/ from the current output (then review the diff)")


@pytest.fixture
def golden(request):
    """``golden(name, text)``: assert ``text`` equals tests/goldens/<name>, or rewrite it when updating."""
    update = request.config.getoption("--update-goldens") or os.environ.get("IDM_UPDATE_GOLDENS") == "1"

    def check(name: str, text: str) -> None:
        path = GOLDENS / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            return
        assert path.exists(), f"{path} is missing: run `pytest --update-goldens` and review the new file"
        want = path.read_text(encoding="utf-8")
        if text != want:
            diff = "".join(list(difflib.unified_diff(want.splitlines(True), text.splitlines(True),
                                                     f"goldens/{name}", "rendered now"))[:80])
            pytest.fail(f"output differs from {path}; if intended, run `pytest --update-goldens` and review "
                        f"the diff:\n{diff}", pytrace=False)

    return check
