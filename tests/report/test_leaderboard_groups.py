"""idm-gate leaderboard with groups: (domains): each row names its worst group, only where groups exist.

The CLI in a subprocess. Scores as fractions, 1 GB models (D = -ln Pe):
- coder: humaneval 0.8, mbpp 0.6 (code Pe 0.3, D 1.204), gsm8k 0.3 (math Pe 0.7, D 0.3567): worst math;
  overall Pe = (0.2 + 0.4 + 0.7) / 3 = 0.4333, D = 0.8362;
- mathy: humaneval 0.4, mbpp 0.4 (code Pe 0.6, D 0.5108), gsm8k 0.9 (math Pe 0.1, D 2.303): worst code;
  overall Pe = (0.6 + 0.6 + 0.1) / 3 = 0.4333, D = 0.8362 (ties with coder; ranked by name);
- plain: no group's tasks (a classifier), so no worst group.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DOC = {"version": 1, "groups": {"code": ["humaneval", "mbpp"], "math": ["gsm8k"]}, "models": [
    {"name": "coder", "size_bytes": 10**9, "evals": [{"scores": {"humaneval": 0.8, "mbpp": 0.6, "gsm8k": 0.3}}]},
    {"name": "mathy", "size_bytes": 10**9, "evals": [{"scores": {"humaneval": 0.4, "mbpp": 0.4, "gsm8k": 0.9}}]},
    {"name": "plain", "size_bytes": 2 * 10**9, "evals": [{"scores": {"sst2": 0.9}}]}]}


def leaderboard(tmp_path: Path, doc: dict, *args: str) -> str:
    (tmp_path / "idm.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    p = subprocess.run([sys.executable, "-m", "idm_gate", "leaderboard", *args], cwd=tmp_path, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_each_row_names_its_worst_group(tmp_path):
    md = leaderboard(tmp_path, DOC)
    assert "| bits/param | worst group | frontier |" in md
    # plain: -ln(0.1) / 2 = 1.151 ranks first
    assert "| 1 | plain | 1.151 | 2.00 GB | 0.1 | n/a | n/a | — |" in md
    assert "| 2 | coder | 0.8362 | 1.00 GB | 0.4333 | n/a | n/a | math (0.3567) |" in md
    assert "| 3 | mathy | 0.8362 | 1.00 GB | 0.4333 | n/a | n/a | code (0.5108) |" in md
    rows = {r["name"]: r for r in json.loads(leaderboard(tmp_path, DOC, "-f", "json"))["models"]}
    assert "worst_group" not in rows["plain"]
    assert rows["coder"]["worst_group"] == {"name": "math", "density": pytest.approx(0.356675, rel=1e-6),
                                            "error_rate": pytest.approx(0.7)}
    assert rows["mathy"]["worst_group"]["name"] == "code"
    page = leaderboard(tmp_path, DOC, "-f", "html")
    assert "<th>bits/param</th><th>worst group</th><th>frontier</th>" in page
    assert "<td>math (0.3567)</td>" in page and "<td>code (0.5108)</td>" in page and "<td>—</td>" in page


def test_without_groups_the_leaderboard_has_no_such_column(tmp_path):
    doc = {**DOC}
    del doc["groups"]
    assert "worst group" not in leaderboard(tmp_path, doc)
    assert all("worst_group" not in r for r in json.loads(leaderboard(tmp_path, doc, "-f", "json"))["models"])
    assert "worst group" not in leaderboard(tmp_path, doc, "-f", "html")
