"""The efficiency frontier (pure), idm-gate leaderboard and idm-gate badge (the CLI in a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
import yaml

from idm_gate.data import LogBase
from idm_gate.history import pareto_frontier

SVG = "{http://www.w3.org/2000/svg}"


# -- the frontier, worked by hand ---------------------------------------------------------------------

def test_frontier_keeps_the_models_no_other_beats_on_both_size_and_error():
    models = [("a", 1.0, 0.10), ("b", 0.5, 0.30), ("c", 2.0, 0.05), ("d", 2.0, 0.20), ("e", 0.5, 0.40)]
    # b: smallest with the lowest error of its size. a: larger than b but 0.10 < 0.30. c: larger than a
    # but 0.05 < 0.10. d: a is smaller and 0.10 < 0.20. e: b is as small and 0.30 < 0.40.
    assert pareto_frontier(models) == {"a", "b", "c"}


def test_frontier_ties():
    # the same size and error: neither beats the other, both are on it
    assert pareto_frontier([("x", 1.0, 0.2), ("y", 1.0, 0.2)]) == {"x", "y"}
    # the same error but larger: the smaller one is at least as good on both and better on size
    assert pareto_frontier([("small", 1.0, 0.2), ("big", 3.0, 0.2)]) == {"small"}
    # larger and more accurate: a trade-off, both on it
    assert pareto_frontier([("small", 1.0, 0.2), ("big", 3.0, 0.1)]) == {"small", "big"}
    assert pareto_frontier([]) == set()
    assert pareto_frontier([("only", 5.0, 0.9)]) == {"only"}


# -- the commands ---------------------------------------------------------------------------------------

def _model(name: str, size_bytes: int, percent: float, gate: dict | None = None) -> dict:
    m = {"name": name, "size_bytes": size_bytes, "evals": [{"scores": {"arc": percent}, "scale": "percent"}]}
    if gate:
        m["gate"] = gate
    return m


@pytest.fixture
def five(tmp_path):
    """The five models above as a manifest (sizes in bytes: 1 GB = 10^9)."""
    man = {"version": 1, "models": [
        _model("a", 10**9, 90.0), _model("b", 5 * 10**8, 70.0), _model("c", 2 * 10**9, 95.0),
        _model("d", 2 * 10**9, 80.0, gate={"min_density": 1.0}), _model("e", 5 * 10**8, 60.0),
        _model("f<script>", 10**9, 50.0, gate={"max_size_gb": 2.0})]}
    (tmp_path / "idm.yaml").write_text(yaml.safe_dump(man, sort_keys=False))
    return tmp_path


def idm(cwd, *args):
    return subprocess.run([sys.executable, "-m", "idm_gate", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


# Densities by hand (nats/GB): a ln(1/0.1)/1 = 2.302585; b ln(1/0.3)/0.5 = 1.2039728/0.5 = 2.4079456;
# c ln(1/0.05)/2 = 2.9957323/2 = 1.4978661; d ln(1/0.2)/2 = 1.6094379/2 = 0.8047190;
# e ln(1/0.4)/0.5 = 0.9162907/0.5 = 1.8325815; f<script> ln(1/0.5)/1 = 0.6931472.
RANKED = [("b", 2.4079456), ("a", 2.302585), ("e", 1.8325815), ("c", 1.4978661), ("d", 0.804719),
          ("f<script>", 0.6931472)]


def test_leaderboard_json_ranks_by_density_with_the_frontier(five):
    res = idm(five, "leaderboard", "--format", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["unit"] == "nats/GB"
    assert [(x["rank"], x["name"]) for x in doc["models"]] == [(i, n) for i, (n, _) in enumerate(RANKED, 1)]
    assert [x["density"] for x in doc["models"]] == pytest.approx([d for _, d in RANKED], rel=1e-6)
    # f<script> (1 GB, 0.5) is beaten by a (1 GB, 0.1)
    assert {x["name"] for x in doc["models"] if x["on_frontier"]} == {"a", "b", "c"}
    assert doc["models"][0]["size_bytes"] == 5 * 10**8 and doc["models"][0]["error_rate"] == pytest.approx(0.3)


def test_leaderboard_markdown_table(five, tmp_path):
    out = tmp_path / "board.md"
    res = idm(five, "leaderboard", "-o", str(out))
    assert res.returncode == 0, res.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "| rank | model | density (nats/GB) | size | error rate | params | bits/param | frontier |"
    assert lines[2] == "| 1 | b | 2.408 | 500 MB | 0.3 | n/a | n/a | ★ |"
    assert lines[6] == "| 5 | d | 0.8047 | 2.00 GB | 0.2 | n/a | n/a |  |"
    assert lines[7] == "| 6 | f&lt;script&gt; | 0.6931 | 1.00 GB | 0.5 | n/a | n/a |  |"
    assert lines[-1].startswith("★ on the efficiency frontier (3 of 6)")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_leaderboard_html_is_one_page_with_inline_svg_and_nothing_fetched(five, tmp_path):
    out = tmp_path / "board.html"
    res = idm(five, "leaderboard", "-o", str(out))  # html from the extension (the default is markdown)
    assert res.returncode == 0, res.stderr
    assert "not inside a git repository: the page has no history chart" in res.stderr
    page = out.read_text()
    p = _Text()
    p.feed(page)
    tags = [t for t, _ in p.tags]
    assert tags.count("svg") == 1  # the frontier; no history outside git, said in a paragraph instead
    assert "script" not in tags and "link" not in tags and "img" not in tags
    assert not any(v and v.startswith(("http:", "https:", "//")) for _, a in p.tags for k, v in a.items()
                   if k in ("src", "href"))
    text = "".join(p.text)
    assert "f<script>" in text  # escaped in the source, shown as typed
    rows = [a for t, a in p.tags if t == "tr" and a.get("class") == "frontier"]
    assert len(rows) == 3
    assert page.count('fill="#1a7f37"><title>') == 3  # three frontier points in the chart
    assert "No recorded history" in text


def _badge(path):
    root = ET.parse(path).getroot()
    texts = [t.text for t in root.iter(f"{SVG}text")]
    fills = [r.get("fill") for r in root.iter(f"{SVG}rect")]
    return root, texts, fills


def test_badge_colour_follows_the_budgets(five, tmp_path):
    for model, colour, value in (("d", "#cb2431", "0.805 nats/GB"),   # 0.8047 under min_density 1.0
                                 ("f<script>", "#2ea44f", "0.693 nats/GB"),  # 1 GB within max_size_gb 2
                                 ("a", "#6e7781", "2.3 nats/GB")):    # no budget: grey
        out = tmp_path / "density.svg"
        res = idm(five, "badge", "--model", model, "-o", str(out))
        assert res.returncode == 0, res.stderr
        root, texts, fills = _badge(out)
        assert texts == ["density", value]
        assert fills == ["#555", colour]
        assert root.get("height") == "20" and root.get("aria-label") == f"density: {value}"


def test_badge_colour_follows_a_check_report(five, tmp_path):
    check = tmp_path / "check.json"
    check.write_text(json.dumps({"kind": "check", "version": 1, "models": [{"name": "a", "verdict": "warn"}]}))
    out = tmp_path / "a.svg"
    res = idm(five, "badge", "--model", "a", "--check", str(check), "--label", "IDM", "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert _badge(out)[1:] == (["IDM", "2.3 nats/GB"], ["#555", "#dbab09"])
    res = idm(five, "badge", "--model", "b", "--check", str(check))
    assert res.returncode == 2
    assert res.stderr.strip() == (f"idm-gate: error: --check {check}: has no verdict for model 'b'; check the same "
                                  "manifest, or drop --check")
    # a measurement report (what measure -f json writes) is not a check report: refused in one line
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"kind": "measurement", "version": 1, "models": [{"name": "a"}]}))
    res = idm(five, "badge", "--model", "a", "--check", str(report))
    assert res.returncode == 2
    assert res.stderr.strip() == (f"idm-gate: error: --check {report}: not a check report; write one with idm-gate "
                                  "check --format json -o FILE")


def test_badge_unknown_model(five):
    res = idm(five, "badge", "--model", "zz")
    assert res.returncode == 2
    assert res.stderr.strip() == ("idm-gate: error: --model 'zz': idm.yaml has no such model; its models: a, b, c, "
                                  "d, e, f<script>")


def _mm(name: str, size_bytes: int, error: float):
    from idm_gate import metric
    from idm_gate.data import ModelMeasurement

    return ModelMeasurement(name=name, size_bytes=size_bytes, size_source="declared", params=None,
                            bits_per_param=None, error_rate=error, raw_error_rate=error, error_stderr=None,
                            tasks_with_stderr=0, density=metric.density(error, size_bytes), density_stderr=None,
                            log_base=LogBase.E, tasks=())


def test_many_models_the_history_chart_draws_the_ten_highest_ranked():
    from idm_gate.data import Measurement
    from idm_gate.history import HistoryPoint
    from idm_gate.report.html import render_leaderboard as render_html
    from idm_gate.report.leaderboard import standings

    # m00 .. m11 at 1 GB with error 0.10 .. 0.21: density falls with the index, so m00 .. m09 rank first
    models = tuple(_mm(f"m{i:02d}", 10**9, 0.10 + i / 100) for i in range(12))
    history = [HistoryPoint(commit=c * 40, date=None, model=x, log_base=LogBase.E) for c in "ab" for x in models]
    page = render_html(standings(Measurement(manifest="idm.yaml", manifest_digest="0" * 64, log_base=LogBase.E,
                                             models=models)), LogBase.E, history)
    history_part = page.split('aria-labelledby="history-title"')[1]
    assert history_part.count("<polyline") == 10
    assert ">m09</text>" in history_part and ">m10</text>" not in history_part
    assert "of the 10 highest-ranked models" in page
