"""The real tools our pictures are checked with: Mermaid's own parser (npm ``mermaid`` under Node, with
``jsdom`` as the DOM its sanitiser needs) and Debian's headless ``chromium``.

``make test`` installs both (``npm ci --prefix tests/js``; ``apt-get install chromium`` when missing and
root). Without them a test skips locally, saying what to run, and fails under CI (``CI=true``): a CI run
that skipped the real parser would pass a chart GitHub cannot draw.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

JS = Path(__file__).parents[1] / "js"
_BLOCK = re.compile(r"^```mermaid\n(.*?)\n```$", re.S | re.M)


def require(what: str, present: bool, how: str) -> None:
    if present:
        return
    message = f"{what} is not installed: {how}"
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        pytest.fail(message + " (CI=true: a missing tool fails the test)")
    pytest.skip(message)


def mermaid_blocks(markdown: str) -> list[str]:
    """The text of every ```` ```mermaid ```` fenced block in ``markdown``, in order."""
    return _BLOCK.findall(markdown)


def mermaid_parse(texts: list[str]) -> list[dict]:
    """Each diagram as Mermaid parses it: ``{"ok": True, "type": ...}`` or ``{"ok": False, "error": ...}``."""
    require("node and tests/js/node_modules (mermaid, jsdom)",
            shutil.which("node") is not None and (JS / "node_modules" / "mermaid").is_dir(),
            "run `make test`, or `npm ci --prefix tests/js`")
    p = subprocess.run(["node", str(JS / "parse_mermaid.mjs")], input=json.dumps(texts), capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    result: list[dict] = json.loads(p.stdout)
    return result


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    require("chromium", exe is not None, "run `make test` as root, or `apt-get install -y chromium`")
    assert exe is not None
    return exe


def _flags(profile: str) -> list[str]:
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", f"--user-data-dir={profile}"]


def render(page: Path, width: int = 1000, height: int = 1600) -> tuple[str, Path]:
    """(the DOM Chromium built from ``page``, a PNG screenshot of it) from headless Chromium."""
    exe = chromium()
    with tempfile.TemporaryDirectory(prefix="idm-chromium-") as profile:
        dom = subprocess.run([exe, *_flags(profile), "--dump-dom", page.as_uri()], capture_output=True,
                             text=True, timeout=120)
        assert dom.returncode == 0, dom.stderr[-2000:]
    shot = page.with_suffix(".png")
    with tempfile.TemporaryDirectory(prefix="idm-chromium-") as profile:
        p = subprocess.run([exe, *_flags(profile), f"--screenshot={shot}", f"--window-size={width},{height}",
                            "--hide-scrollbars", page.as_uri()], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and shot.is_file(), p.stderr[-2000:]
    return dom.stdout, shot
