"""The efficiency frontier against latency, memory or energy instead of size (--frontier-axis).

The leaderboard in a subprocess on a manifest whose models list bench: files, and the axis parser; the
frontiers are worked out by hand below.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from idm_gate.data import BenchMetric
from idm_gate.errors import InputError
from idm_gate.report.axis import SIZE, parse_axis

SVG = "{http://www.w3.org/2000/svg}"

# name: (size in bytes, arc %, latency_p50_ms, peak memory GB) ; e lists no bench: file
MODELS = {"a": (10**9, 90.0, 80, 2.5), "b": (5 * 10**8, 70.0, 40, 1.2), "c": (2 * 10**9, 95.0, 200, 4.0),
          "d": (2 * 10**9, 80.0, 30, 3.0), "e": (5 * 10**8, 60.0, None, None)}
# error rates: a 0.10, b 0.30, c 0.05, d 0.20, e 0.40
# against size (bytes, error): b (0.5e9, 0.30), e (0.5e9, 0.40: b beats it), a (1e9, 0.10), c (2e9, 0.05),
#   d (2e9, 0.20: c beats it) -> {a, b, c}
# against latency, over a-d: d (30 ms, 0.20) on; b (40, 0.30) off, d is faster and more accurate;
#   a (80, 0.10) on; c (200, 0.05) on -> {a, c, d}: b leaves the frontier, d joins it
# against memory: b (1.2 GB, 0.30) on; a (2.5, 0.10) on; d (3.0, 0.20) off, a beats it; c (4.0, 0.05) on
#   -> {a, b, c}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    models = []
    for name, (size_bytes, pct, lat, mem) in MODELS.items():
        m: dict = {"name": name, "size_bytes": size_bytes, "evals": [{"scores": {"arc": pct}, "scale": "percent"}]}
        if lat is not None:
            (tmp_path / f"{name}.csv").write_text(f"metric,value,unit\nlatency_p50_ms,{lat},ms\n"
                                                  f"peak_memory_bytes,{mem},GB\n")
            m["bench"] = [{"path": f"{name}.csv", "hardware": "ci-runner"}]
        models.append(m)
    (tmp_path / "idm.yaml").write_text(yaml.safe_dump({"version": 1, "models": models}, sort_keys=False))
    return tmp_path


def idm(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "idm_gate", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def frontier_json(repo: Path, axis: str) -> dict:
    res = idm(repo, "leaderboard", "--format", "json", "--frontier-axis", axis)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_latency_axis_moves_the_frontier(repo):
    doc = frontier_json(repo, "latency")
    assert doc["frontier_axis"] == "latency_p50_ms"
    by = {x["name"]: x for x in doc["models"]}
    assert {n for n, x in by.items() if x["on_frontier"]} == {"a", "c", "d"}
    assert {n: x["frontier_position"] for n, x in by.items()} == {"a": 80.0, "b": 40.0, "c": 200.0, "d": 30.0,
                                                                  "e": None}
    # the ranking stays by density
    assert [x["name"] for x in doc["models"]] == ["b", "a", "e", "c", "d"]


def test_memory_axis_and_the_default_size_axis(repo):
    doc = frontier_json(repo, "memory")
    assert doc["frontier_axis"] == "peak_memory_bytes"
    assert {x["name"] for x in doc["models"] if x["on_frontier"]} == {"a", "b", "c"}
    assert {x["name"]: x["frontier_position"] for x in doc["models"]}["b"] == 1.2e9  # 1.2 GB in bytes
    size = frontier_json(repo, "size")
    assert "frontier_axis" not in size and "frontier_position" not in size["models"][0]  # as before the option
    assert {x["name"] for x in size["models"] if x["on_frontier"]} == {"a", "b", "c"}


def test_markdown_shows_the_axis_column_and_who_is_not_placed(repo):
    res = idm(repo, "leaderboard", "--frontier-axis", "latency")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == ("| rank | model | density (nats/GB) | size | error rate | params | bits/param | latency p50 "
                        "| frontier |")
    assert lines[4].startswith("| 3 | e |") and lines[4].endswith("| — |  |")
    assert lines[6].startswith("| 5 | d |") and lines[6].endswith("| 30 ms | ★ |")
    assert lines[8] == ("★ on the efficiency frontier of latency p50 against error rate (3 of the 4 models with a "
                         "latency_p50_ms figure): no other is both faster and more accurate. 1 without the figure "
                         "(no bench: file gives it) are not placed.")


def test_html_draws_only_the_models_with_the_figure(repo):
    res = idm(repo, "leaderboard", "--format", "html", "--frontier-axis", "latency")
    assert res.returncode == 0, res.stderr
    start = res.stdout.index("<svg")
    svg = ET.fromstring(res.stdout[start:res.stdout.index("</svg>", start) + len("</svg>")])
    assert svg.find(f"{SVG}title").text == "Latency p50 against error rate; the efficiency frontier in green"
    tips = sorted(c.find(f"{SVG}title").text for c in svg.iter(f"{SVG}circle"))
    assert tips == ["a: 80 ms, error rate 0.1", "b: 40 ms, error rate 0.3", "c: 200 ms, error rate 0.05",
                    "d: 30 ms, error rate 0.2"]
    assert "latency p50 (log scale)" in [t.text for t in svg.iter(f"{SVG}text")]


def test_a_model_with_two_latencies_must_name_one(repo):
    # optimum-benchmark gives a model two median latencies: prefill (59.96 ms) and per_token (39.23 ms)
    real = Path(__file__).parents[1] / "data" / "bench" / "optimum-benchmark-llama-torchao.json"
    (repo / "benchmark.json").write_bytes(real.read_bytes())
    doc = yaml.safe_load((repo / "idm.yaml").read_text())
    doc["models"][0]["bench"] = [{"path": "benchmark.json"}]
    (repo / "idm.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    res = idm(repo, "leaderboard", "--frontier-axis", "latency")
    assert res.returncode == 2
    assert res.stderr.strip() == ("idm-gate: error: --frontier-axis latency: model 'a' has 2 latency_p50_ms figures "
                                  "('latency_p50_ms prefill', 'latency_p50_ms per_token'); name one, e.g. "
                                  "--frontier-axis 'latency_p50_ms prefill'")
    doc = frontier_json(repo, "latency_p50_ms prefill")
    # only a has a prefill latency: it alone is placed, and so on the frontier
    assert {x["name"]: x["frontier_position"] for x in doc["models"] if x["frontier_position"] is not None} == {
        "a": pytest.approx(59.96020889282226)}
    assert [x["name"] for x in doc["models"] if x["on_frontier"]] == ["a"]


def test_no_model_with_the_figure_is_one_line_exit_2(repo):
    res = idm(repo, "leaderboard", "--frontier-axis", "energy")
    assert res.returncode == 2
    assert res.stderr.strip() == ("idm-gate: error: --frontier-axis energy: no model's bench: files give "
                                  "energy_per_token_j; list files that do in the manifest, or draw against size")


def test_parse_axis():
    assert parse_axis("size") is SIZE
    lat = parse_axis("latency")
    assert (lat.metric, lat.test, lat.key, lat.title, lat.words) == (
        BenchMetric.LATENCY_P50_MS, None, "latency_p50_ms", "latency p50", ("faster", "slower"))
    p95 = parse_axis("latency_p95_ms per_token")
    assert (p95.metric, p95.test, p95.key, p95.title) == (BenchMetric.LATENCY_P95_MS, "per_token",
                                                           "latency_p95_ms per_token", "latency p95 (per_token)")
    assert parse_axis("memory").text(1.5e9) == "1.50 GB"
    assert parse_axis("energy").text(0.31) == "0.31 J/token"
    with pytest.raises(InputError) as e:
        parse_axis("speed")
    assert str(e.value).startswith("--frontier-axis: 'speed' is not valid; use size, latency, memory, energy")
    with pytest.raises(InputError) as e:
        parse_axis("tokens_per_s tg128")
    assert "is not an axis (tokens per second is higher-is-better, and its inverse is a latency)" in str(e.value)


# -- the PR comment's chart (check --frontier-axis), real git, Mermaid's own parser -------------------

def _comment_repo(tmp_path: Path):
    from gitrepo import make_repo

    def man(a_pct: float, a_latency: int) -> tuple[dict, dict[str, str]]:
        models = [{"name": "a", "size_bytes": 10**9, "evals": [{"scores": {"arc": a_pct}, "scale": "percent"}],
                   "bench": [{"path": "a.csv", "hardware": "ci"}]},
                  {"name": "b", "size_bytes": 5 * 10**8, "evals": [{"scores": {"arc": 70.0}, "scale": "percent"}],
                   "bench": [{"path": "b.csv", "hardware": "ci"}]},
                  {"name": "c", "size_bytes": 2 * 10**9, "evals": [{"scores": {"arc": 95.0}, "scale": "percent"}]}]
        files = {"a.csv": f"metric,value\nlatency_p50_ms,{a_latency}\n", "b.csv": "metric,value\nlatency_p50_ms,40\n"}
        return {"version": 1, "models": models}, files

    doc, files = man(90.0, 80)
    r = make_repo(tmp_path, {"idm.yaml": doc, **files})
    assert r.idm("record").returncode == 0
    r.git("push", "-q", "origin", "main")
    r.git("checkout", "-q", "-b", "pr")
    doc, files = man(92.0, 50)  # a: error 0.10 -> 0.08, latency 80 -> 50 ms
    r.write("idm.yaml", doc)
    for name, text in files.items():
        r.write(name, text)
    r.commit("faster and better")
    return r


def test_check_comment_draws_the_frontier_by_latency(tmp_path):
    from realtools import mermaid_blocks, mermaid_parse

    r = _comment_repo(tmp_path)
    res = r.idm("check", "--base-ref", "origin/main", "-f", "markdown", "--frontier-axis", "latency")
    assert res.returncode == 0, res.stderr
    (chart,) = [b for b in mermaid_blocks(res.stdout) if b.startswith("quadrantChart")]
    # x: log10 of 40, 50, 80 ms = 1.60206, 1.69897, 1.90309, scaled onto [0.05, 0.95]:
    #   a (PR) 0.05 + 0.9 x (1.69897 - 1.60206) / (1.90309 - 1.60206) = 0.05 + 0.9 x 0.32193 = 0.3397
    # y: errors 0.08 (a PR), 0.10 (a base), 0.30 (b): a (base) 0.05 + 0.9 x 0.02 / 0.22 = 0.1318
    # frontier over the PR's models by latency: b (40 ms, 0.30) and a (50 ms, 0.08) both; c has no figure
    assert chart.splitlines()[1:4] == [
        '    title "Latency p50 against error rate (★ on the efficiency frontier)"',
        '    x-axis "faster, 40 ms" --> "slower, 80 ms (log scale)"',
        '    y-axis "fewer errors, 0.08" --> "more errors, 0.3"']
    assert '"a (base)": [0.95, 0.1318]' in chart
    assert '"★ a (PR)": [0.3397, 0.05]' in chart
    assert '"★ b": [0.05, 0.95]' in chart
    assert '"c' not in chart
    assert "1 model without a latency_p50_ms figure not placed." in res.stdout
    assert "🎯 Efficiency frontier: 1 changed model at baseline and PR, by latency p50" in res.stdout
    assert all(x["ok"] for x in mermaid_parse([chart]))


def test_check_comment_falls_back_to_size_without_the_figure_and_refuses_a_typo(tmp_path):
    r = _comment_repo(tmp_path)
    res = r.idm("check", "--base-ref", "origin/main", "-f", "markdown", "--frontier-axis", "energy")
    assert res.returncode == 0, res.stderr
    assert '    title "Size against error rate (★ on the efficiency frontier)"' in res.stdout
    assert "The chart shows size: no model's bench: files give energy_per_token_j. Positions are scaled" in res.stdout
    bad = r.idm("check", "--base-ref", "origin/main", "--frontier-axis", "speed")
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("idm-gate: error: --frontier-axis: 'speed' is not valid; use size, latency")


# -- the inference figures beside the ranking, only where present ------------------------------------

def test_leaderboard_lists_the_bench_figures_of_the_models_that_have_them(repo):
    res = idm(repo, "leaderboard")
    assert res.returncode == 0, res.stderr
    table = res.stdout.split("Inference benchmarks of the models that list `bench:` files (beside density, never "
                             "folded into it):\n\n", 1)[1].splitlines()
    # in rank order (b, a, e, c, d); e lists no bench: file; 1.2 GB and 2.5 GB are the csv's GB x 10^9 bytes
    assert table == ["| model | figure | value | setup |", "|---|---|---:|---|",
                     "| b | `latency_p50_ms` | 40 ms | ci-runner |", "| b | `peak_memory_bytes` | 1.20 GB | ci-runner |",
                     "| a | `latency_p50_ms` | 80 ms | ci-runner |", "| a | `peak_memory_bytes` | 2.50 GB | ci-runner |",
                     "| c | `latency_p50_ms` | 200 ms | ci-runner |", "| c | `peak_memory_bytes` | 4.00 GB | ci-runner |",
                     "| d | `latency_p50_ms` | 30 ms | ci-runner |", "| d | `peak_memory_bytes` | 3.00 GB | ci-runner |"]
    doc = frontier_json(repo, "size")
    by = {x["name"]: x for x in doc["models"]}
    assert "bench" not in by["e"]
    assert [(b["metric"], b["value"], b["hardware"]) for b in by["a"]["bench"]] == [
        ("latency_p50_ms", 80.0, "ci-runner"), ("peak_memory_bytes", 2.5e9, "ci-runner")]
    page = idm(repo, "leaderboard", "--format", "html").stdout
    assert "<h2>Inference benchmarks</h2>" in page
    assert "<tr><td>d</td><td>latency_p50_ms</td><td class=n>30 ms</td><td>ci-runner</td></tr>" in page


def test_leaderboard_without_bench_files_has_no_inference_table(tmp_path):
    man = {"version": 1, "models": [{"name": "solo", "size_bytes": 10**9,
                                     "evals": [{"scores": {"arc": 90.0}, "scale": "percent"}]}]}
    (tmp_path / "idm.yaml").write_text(yaml.safe_dump(man))
    for fmt in ("markdown", "json", "html"):
        out = idm(tmp_path, "leaderboard", "--format", fmt).stdout
        assert "Inference benchmarks" not in out and '"bench"' not in out, fmt
