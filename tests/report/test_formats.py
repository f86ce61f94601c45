"""The one table of output formats (idm_gate.report.FORMATS): which format -f/-o picks, and that each
format's module renders both reports measure and check write."""

from __future__ import annotations

import json

import pytest

from idm_gate import __version__
from idm_gate.cli import build_parser
from idm_gate.color import PLAIN
from idm_gate.compare import compare
from idm_gate.data import LogBase, Measurement, ModelMeasurement, Policy, Scale, TaskScore
from idm_gate.report import FORMATS, HISTORY_FORMATS, LEADERBOARD_FORMATS, REPORT_FORMATS, output_format, renderer

OFFERED = ("text", "json", "markdown")


@pytest.mark.parametrize("output, want", [
    ("check.json", "json"), ("out/CHECK.JSON", "json"),      # case ignored
    ("comment.md", "markdown"), ("comment.markdown", "markdown"),
    ("log.txt", "text"),
    ("report", "text"), ("report.json.bak", "text"),         # no known extension: the default
    ("rows.csv", "text"),                                    # a format this command does not offer: the default
    ("-", "text"), (None, "text"),                           # standard output
])
def test_without_format_the_output_files_extension_picks_it(output, want):
    assert output_format(None, output, OFFERED, "text") == want


def test_an_explicit_format_wins_over_the_extension():
    assert output_format("text", "check.json", OFFERED, "text") == "text"
    assert output_format("json", "notes.md", OFFERED, "text") == "json"


def test_history_and_leaderboard_extensions():
    assert output_format(None, "rows.csv", HISTORY_FORMATS, "text") == "csv"
    assert output_format(None, "board.html", LEADERBOARD_FORMATS, "markdown") == "html"
    assert output_format(None, "board.htm", LEADERBOARD_FORMATS, "markdown") == "html"
    assert output_format(None, "board.txt", LEADERBOARD_FORMATS, "markdown") == "markdown"  # leaderboard has no text


def test_every_formats_choice_of_the_cli_is_a_row_of_the_table():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    for command, offered in (("measure", REPORT_FORMATS), ("check", REPORT_FORMATS),
                             ("history", HISTORY_FORMATS), ("leaderboard", LEADERBOARD_FORMATS)):
        (fmt,) = [a for a in sub[command]._actions if a.dest == "format"]
        assert tuple(fmt.choices) == offered and set(offered) <= set(FORMATS), command
        assert fmt.default is None  # so that -o's extension can decide
    assert REPORT_FORMATS == ("text", "json", "markdown")


def test_csv_and_html_have_no_measure_or_check_renderer():
    for name in ("csv", "html"):
        with pytest.raises(KeyError):
            renderer(name)


# Pe = 0.25 over one task, 10^9 bytes: D = -ln(0.25) / 1 GB = 1.386294 nats/GB
TASK = TaskScore(task="arc", metric="acc", score=0.75, error=0.25, stderr=None, source="inline", scale=Scale.FRACTION,
                 scale_inferred=False)
MODEL = ModelMeasurement(name="m", size_bytes=10**9, size_source="declared", params=None, bits_per_param=None,
                         error_rate=0.25, raw_error_rate=0.25, error_stderr=None, tasks_with_stderr=0,
                         density=1.3862943611198906, density_stderr=None, log_base=LogBase.E, tasks=(TASK,),
                         artifacts=(), min_error_applied=False, weights=None, notices=())
MEASURED = Measurement(manifest="idm.yaml", manifest_digest="0" * 64, log_base=LogBase.E, models=(MODEL,))


def test_each_report_format_renders_a_measurement():
    text = renderer("text").render_measurement(MEASURED)
    assert next(ln for ln in text.splitlines() if ln.startswith("m ")).split()[-1] == "1.386"
    doc = json.loads(renderer("json").render_measurement(MEASURED))
    assert doc["kind"] == "measurement" and doc["models"][0]["density"] == pytest.approx(1.3862943611198906)
    md = renderer("markdown").render_measurement(MEASURED)
    assert md.startswith("### Intelligence density: 1 model(s)") and "| m |" in md


def test_each_report_format_renders_a_check():
    # the same measurement as its own baseline: unchanged, so every format says pass
    res = compare(MEASURED, MEASURED, {"m": Policy()}, baseline_commit="b" * 40, baseline_distance=0)
    text = renderer("text").render_check(res, PLAIN)
    assert text.startswith(f"idm-gate {__version__}: PASS  (baseline from bbbbbbb, the merge base)")
    doc = json.loads(renderer("json").render_check(res, PLAIN))
    assert (doc["kind"], doc["verdict"], doc["models"][0]["status"]) == ("check", "pass", "unchanged")
    assert renderer("markdown").render_check(res, PLAIN).startswith("## ✅ idm-gate: **pass**")


def test_history_and_leaderboard_renderers_come_from_the_table():
    from idm_gate.history import HistoryPoint
    from idm_gate.report import history_renderer, leaderboard_renderer
    from idm_gate.report.leaderboard import standings

    assert HISTORY_FORMATS == ("text", "json", "csv", "markdown")  # the command's default first
    assert LEADERBOARD_FORMATS == ("markdown", "json", "html")
    pts = [HistoryPoint(commit="c" * 40, date="2026-11-30T12:00:00+00:00", model=MODEL, log_base=LogBase.E)]
    text = history_renderer("text").render_history(pts).splitlines()
    assert text[0].split() == ["commit", "date", "model", "density", "unit", "size", "error", "rate", "params"]
    assert text[1].split()[:5] == ["ccccccc", "2026-11-30", "m", "1.386", "nats/GB"]
    assert json.loads(history_renderer("json").render_history(pts))["rows"][0]["density"] == pytest.approx(1.3862943611198906)
    assert history_renderer("csv").render_history(pts).splitlines()[1].startswith("c" * 40 + ",2026-11-30T12:00:00+00:00,m,")
    assert history_renderer("markdown").render_history(pts).splitlines()[2].startswith("| `ccccccc` | 2026-11-30 | m | 1.386 |")
    rows = standings(MEASURED)  # one model: rank 1, on the frontier
    assert "| 1 | m | 1.386 |" in leaderboard_renderer("markdown").render_leaderboard(rows, LogBase.E)
    doc = json.loads(leaderboard_renderer("json").render_leaderboard(rows, LogBase.E))
    assert (doc["unit"], doc["models"][0]["rank"], doc["models"][0]["on_frontier"]) == ("nats/GB", 1, True)
    assert '<tr class="frontier"><td class=n>1</td><td>m</td>' in leaderboard_renderer("html").render_leaderboard(
        rows, LogBase.E)
    for name in ("text", "csv"):
        with pytest.raises(KeyError):
            leaderboard_renderer(name)
    with pytest.raises(KeyError):
        history_renderer("html")
