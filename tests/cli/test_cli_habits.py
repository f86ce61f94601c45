"""What a user of a mature CLI expects: usage on a bare call, -V, documented defaults, colour rules,
stdout that keeps the verdict when -o writes a file, warnings once and in the user's own terms.

Everything runs the CLI in a subprocess; gate runs use real git repositories with a bare origin.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from gitrepo import make_repo
from idm_gate import __version__
from idm_gate.cli import COMMANDS, GC_YOUNG_THRESHOLD, build_parser

ESC = "\x1b["
BASE = {"arc": 70.0, "gsm8k": 60.0}   # Pe = 0.35


def manifest(size_bytes: int = 2 * 10**9, names=("bonsai",), gate=None) -> dict:
    m = {"version": 1, "models": [{"name": n, "size_bytes": size_bytes,
                                   "evals": [{"scores": BASE, "scale": "percent"}]} for n in names]}
    if gate is not None:
        m["gate"] = gate
    return m


def idm(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "idm_gate", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=60)


def on_terminals(args: list[str], cwd: Path, env: dict) -> tuple[str, str, int]:
    """Run the CLI with stdout and stderr each on its own pseudo-terminal; (stdout, stderr, exit code)."""
    masters, slaves = zip(*(pty.openpty() for _ in range(2)), strict=True)
    proc = subprocess.Popen([sys.executable, "-m", "idm_gate", *args], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=slaves[0], stderr=slaves[1])
    for s in slaves:
        os.close(s)
    got = {m: b"" for m in masters}
    open_ = set(masters)
    while open_:
        ready, _, _ = select.select(list(open_), [], [], 60)
        assert ready, "no output for 60 s"
        for m in ready:
            try:
                chunk = os.read(m, 65536)
            except OSError:  # EIO: the child closed its end
                chunk = b""
            if chunk:
                got[m] += chunk
            else:
                open_.discard(m)
                os.close(m)
    rc = proc.wait(timeout=60)
    # a terminal turns "\n" into "\r\n"
    return tuple(got[m].decode().replace("\r\n", "\n") for m in masters) + (rc,)


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    env["TERM"] = "xterm-256color"
    env.update(extra)
    return env


@pytest.fixture
def failing_pr(tmp_path):
    """A repository whose PR branch makes bonsai 10 % bigger at the same error: density -9.1 %, a fail."""
    r = make_repo(tmp_path, {"idm.yaml": manifest()})
    assert r.idm("record").returncode == 0
    r.git("checkout", "-q", "-b", "pr")
    r.write("idm.yaml", manifest(size_bytes=int(2 * 10**9 * 1.10)))
    r.commit("bigger")
    return r


# -- usage, version, help ---------------------------------------------------------------------------

def test_bare_command_prints_the_usage_with_every_command(tmp_path):
    p = idm(cwd=tmp_path)
    assert p.returncode == 2
    assert p.stdout.startswith("usage: idm-gate ")
    listed = re.findall(r"^ {4}(\w+) {2,}", p.stdout, flags=re.M)
    assert listed == ["measure", "merge", "check", "record", "baseline", "history", "leaderboard", "badge", "publish", "action", "init",
                      "schema"]
    assert p.stderr == ""


# -V/--version first are answered before the parser is built; an abbreviation (--vers) or a --color before
# it goes through argparse's version action: the same line either way
@pytest.mark.parametrize("flags", [["-V"], ["--version"], ["-V", "measure"], ["--vers"], ["--color", "never", "-V"]])
def test_version_flags(tmp_path, flags):
    p = idm(*flags, cwd=tmp_path)
    assert (p.returncode, p.stdout, p.stderr) == (0, f"idm-gate {__version__}\n", "")


def _all_parsers(parser: argparse.ArgumentParser, name: str = "idm-gate"):
    yield name, parser
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for sub_name, sub in a.choices.items():
                yield from _all_parsers(sub, f"{name} {sub_name}")


def test_every_option_of_every_command_has_help_that_states_its_default():
    problems = []
    for where, parser in _all_parsers(build_parser()):
        for a in parser._actions:
            if isinstance(a, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
                continue
            flag = a.option_strings[0] if a.option_strings else a.dest
            if not a.help:
                problems.append(f"{where} {flag}: no help")
            elif a.required:
                continue  # nothing applies without it
            elif isinstance(a, argparse._StoreTrueAction):
                if "(default: " not in a.help:
                    problems.append(f"{where} {flag}: does not say what happens without it")
            elif a.default not in (None, argparse.SUPPRESS) and f"(default: {a.default})" not in a.help:
                problems.append(f"{where} {flag}: help does not end with (default: {a.default})")
            elif "default" not in a.help:
                problems.append(f"{where} {flag}: help does not say what applies when it is not given")
    assert problems == []


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The sub-commands of ``parser`` by name, in the order they were added."""
    return next(a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _described(parser: argparse.ArgumentParser, name: str) -> list:
    """What parsing and help depend on, for ``parser`` and its sub-commands: every action's fields, the help."""
    return [(where, p.format_help(), [(a.option_strings, a.dest, a.default, a.required, a.choices and list(a.choices),
                                       a.nargs, a.type, a.const) for a in p._actions])
            for where, p in _all_parsers(parser, name)]


def test_a_command_built_alone_is_the_command_built_with_all_the_others():
    # main builds only the command its first argument names; its options, defaults and help must not change
    everything = _commands(build_parser())
    assert tuple(everything) == COMMANDS
    for name in COMMANDS:
        alone = _commands(build_parser(name))
        assert list(alone) == [name]
        assert _described(alone[name], name) == _described(everything[name], name)
    # and main builds the whole parser for anything that is not a command's name
    p = idm("--help", cwd=Path.cwd())
    assert all(name in p.stdout for name in COMMANDS)


def test_help_shows_defaults_as_printed(tmp_path):
    p = idm("check", "--help", cwd=tmp_path)
    assert p.returncode == 0
    text = " ".join(p.stdout.split())  # argparse wraps lines
    assert "first-parent commits to search for a baseline from the merge base (default: 50)" in text
    assert "branch of the branch store (default: idm-baselines)" in text


# -- colour ------------------------------------------------------------------------------------------

RED_ERROR = f"idm-gate: {ESC}1;31merror:{ESC}0m "


def test_errors_are_coloured_on_a_terminal_only(tmp_path):
    out, err, rc = on_terminals(["measure"], tmp_path, clean_env())
    assert rc == 2 and err.startswith(RED_ERROR), repr(err)
    p = idm("measure", cwd=tmp_path, env=clean_env())  # a pipe, as in a CI log
    assert p.returncode == 2 and ESC not in p.stderr


def test_no_color_and_term_dumb_turn_it_off_on_a_terminal(tmp_path):
    for env in (clean_env(NO_COLOR="1"), clean_env(TERM="dumb")):
        _, err, rc = on_terminals(["measure"], tmp_path, env)
        assert rc == 2 and err.startswith("idm-gate: error: ") and ESC not in err


def test_an_empty_no_color_does_not_count(tmp_path):
    # no-color.org: "when present and not an empty string"
    _, err, _ = on_terminals(["measure"], tmp_path, clean_env(NO_COLOR=""))
    assert err.startswith(RED_ERROR)


def test_color_flag_overrides_the_environment(tmp_path):
    p = idm("--color", "always", "measure", cwd=tmp_path, env=clean_env(NO_COLOR="1"))
    assert p.stderr.startswith(RED_ERROR)
    p = idm("measure", "--color", "always", cwd=tmp_path, env=clean_env(NO_COLOR="1"))  # after the command too
    assert p.stderr.startswith(RED_ERROR)
    _, err, _ = on_terminals(["measure", "--color", "never"], tmp_path, clean_env(FORCE_COLOR="1"))
    assert ESC not in err
    p = idm("measure", cwd=tmp_path, env=clean_env(FORCE_COLOR="1"))  # FORCE_COLOR: a CI log that renders it
    assert p.stderr.startswith(RED_ERROR)
    p = idm("measure", "--color", "sometimes", cwd=tmp_path)
    assert p.returncode == 2 and "invalid choice: 'sometimes'" in p.stderr


def test_verdicts_are_coloured_on_a_terminal_and_never_in_files_or_markdown(failing_pr, tmp_path):
    env = clean_env(**{k: v for k, v in failing_pr.env.items() if k.startswith(("GIT_", "HOME"))})
    out, err, rc = on_terminals(["check", "--base-ref", "origin/main"], failing_pr.path, env)
    assert rc == 1
    assert out.startswith(f"idm-gate {__version__}: {ESC}1;31mFAIL{ESC}0m  (baseline from ")
    assert f"bonsai: {ESC}1;31mFAIL{ESC}0m [changed]" in out
    md = failing_pr.idm("check", "--base-ref", "origin/main", "-f", "markdown", "--color", "always")
    assert md.stdout.startswith("## ❌ idm-gate: **fail**") and ESC not in md.stdout
    out_file = tmp_path / "report.txt"
    p = failing_pr.idm("check", "--base-ref", "origin/main", "-o", str(out_file), "--color", "always")
    assert ESC not in out_file.read_text() and f"{ESC}1;31mFAIL" in p.stdout


# -- -o keeps the verdict on stdout -------------------------------------------------------------------

def test_output_file_keeps_the_verdict_and_reasons_on_stdout(failing_pr, tmp_path):
    comment = tmp_path / "comment.md"
    p = failing_pr.idm("check", "--base-ref", "origin/main", "-f", "markdown", "-o", str(comment))
    assert p.returncode == 1
    assert comment.read_text().startswith("## ❌ idm-gate: **fail**, efficiency regression")
    # 2 GB -> 2.2 GB at Pe 0.35: density -ln(0.35)/2 = 0.5249 -> -ln(0.35)/2.2 = 0.4772, -9.1 %
    assert p.stdout.startswith(f"idm-gate {__version__}: FAIL  (baseline from ")
    assert "bonsai: FAIL [changed]" in p.stdout
    assert "  - density down 9.1 %, over max_drop 5.0 %" in p.stdout
    assert p.stderr == f"idm-gate: note: wrote the markdown report to {comment}\n"


def test_measure_output_file_keeps_the_table_on_stdout(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": manifest()})
    out = tmp_path / "m.json"
    p = r.idm("measure", "-f", "json", "-o", str(out))
    assert p.returncode == 0 and out.read_text().lstrip().startswith("{")
    # -ln(0.35) / 2 GB = 0.5249 nats/GB
    row = next(ln for ln in p.stdout.splitlines() if ln.startswith("bonsai "))
    assert row.split()[-1] == "0.5249"


def test_without_format_the_output_files_extension_picks_it(failing_pr, tmp_path):
    # check -o check.json wrote a text report into check.json before the format table: now JSON
    p = failing_pr.idm("check", "--base-ref", "origin/main", "-o", str(tmp_path / "check.json"))
    assert p.returncode == 1
    doc = json.loads((tmp_path / "check.json").read_text())
    assert (doc["kind"], doc["verdict"]) == ("check", "fail")
    assert p.stderr == f"idm-gate: note: wrote the json report to {tmp_path / 'check.json'}\n"
    assert p.stdout.startswith(f"idm-gate {__version__}: FAIL  (baseline from ")  # the log keeps the text
    # an explicit --format wins over the extension
    p = failing_pr.idm("check", "--base-ref", "origin/main", "-f", "text", "-o", str(tmp_path / "as-asked.json"))
    assert (tmp_path / "as-asked.json").read_text().startswith(f"idm-gate {__version__}: FAIL  (baseline from ")
    p = failing_pr.idm("measure", "-o", str(tmp_path / "summary.MD"))
    assert (tmp_path / "summary.MD").read_text().startswith("### Intelligence density: 1 model(s)")
    assert p.stderr == f"idm-gate: note: wrote the markdown report to {tmp_path / 'summary.MD'}\n"
    p = failing_pr.idm("measure", "-o", str(tmp_path / "table.out"))  # an extension no format has: text
    assert (tmp_path / "table.out").read_text() == p.stdout


def test_output_dash_is_stdout_alone(failing_pr):
    p = failing_pr.idm("check", "--base-ref", "origin/main", "-f", "markdown", "-o", "-")
    assert p.stdout.startswith("## ❌ idm-gate: **fail**") and "FAIL  (baseline" not in p.stdout
    assert p.stderr == ""


# -- check warns on uncommitted changes ---------------------------------------------------------------

def test_check_warns_when_the_working_tree_is_not_head(failing_pr):
    p = failing_pr.idm("check", "--base-ref", "origin/main")
    assert "tracked files differ" not in p.stderr
    failing_pr.write("idm.yaml", manifest())  # back to the baseline's size, not committed
    p = failing_pr.idm("check", "--base-ref", "origin/main")
    assert p.returncode == 0, p.stdout  # the working tree is what was measured
    assert p.stderr == ("idm-gate: warning: tracked files differ from HEAD (idm.yaml); the check measures the "
                        "working tree as it is now, not the commit\n")
    failing_pr.git("add", "idm.yaml")  # staged counts too
    assert "tracked files differ from HEAD (idm.yaml)" in failing_pr.idm("check", "--base-ref", "origin/main").stderr


def test_check_without_base_ref_takes_the_remotes_default_branch(failing_pr):
    # make_repo cloned its origin while it was empty, so git recorded no origin/HEAD (as for a repository
    # that was git init-ed and pushed): nothing is guessed
    p = failing_pr.idm("check")
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr == ("idm-gate: error: check: no --base-ref given, and origin/HEAD (the remote's default branch) "
                        "is not set in this clone; pass --base-ref with the pull request's base, e.g. origin/main, "
                        "or run `git remote set-head origin --auto` once\n")
    # what the message advises; a clone of a non-empty repository has it from the start
    failing_pr.git("remote", "set-head", "origin", "--auto")
    assert failing_pr.git("symbolic-ref", "--short", "refs/remotes/origin/HEAD") == "origin/main"
    given = failing_pr.idm("check", "--base-ref", "origin/main", "-f", "json")
    p = failing_pr.idm("check", "-f", "json")
    assert (p.returncode, p.stdout, p.stderr) == (1, given.stdout, given.stderr)


# -- warnings once, in the user's terms ---------------------------------------------------------------

def test_looser_flags_are_named_once_as_the_user_wrote_them(tmp_path):
    names = ("alpha", "beta", "gamma")
    r = make_repo(tmp_path, {"idm.yaml": manifest(names=names)})
    assert r.idm("record").returncode == 0
    r.git("checkout", "-q", "-b", "pr")
    r.write("idm.yaml", manifest(size_bytes=3 * 10**9, names=names))  # density -33 % for all three
    r.commit()
    p = r.idm("check", "--base-ref", "origin/main", "--max-drop", "90%", "--z", "5", "--significance", "on",
              "--warn-drop", "1%")
    assert p.returncode == 1
    # The base sets no gate, so its defaults hold: max_drop 5 %, significance on, z 1.96. --warn-drop 1 % and
    # --significance on are taken (a warn_drop where none was set; on is what applies); the other two loosen.
    assert p.stderr.splitlines() == [
        "idm-gate: warning: --max-drop 90% was ignored for every model: it is looser than the base commit's "
        "gate (max_drop 5%), and a pull request cannot relax its own gate; change gate: in the base branch's "
        "manifest instead",
        "idm-gate: warning: --z 5 was ignored for every model: it is looser than the base commit's gate "
        "(z 1.96), and a pull request cannot relax its own gate; change gate: in the base branch's manifest "
        "instead",
    ]
    assert "True" not in p.stderr


def test_a_looser_flag_names_only_the_models_it_was_ignored_for(tmp_path):
    m = manifest(names=("alpha", "beta"), gate={"max_drop": "20%"})
    m["models"][1]["gate"] = {"max_drop": "5%"}  # beta is held tighter than the global 20 %
    r = make_repo(tmp_path, {"idm.yaml": m})
    p = r.idm("check", "--base-ref", "HEAD", "--max-drop", "10%")
    assert p.returncode == 0, p.stderr
    assert p.stderr.splitlines() == [
        "idm-gate: warning: --max-drop 10% was ignored for beta: it is looser than the base commit's gate "
        "(max_drop 5%), and a pull request cannot relax its own gate; change gate: in the base branch's "
        "manifest instead"]


@pytest.mark.parametrize("value", ["nan", "inf", "abc"])
def test_a_policy_number_flag_must_be_finite(failing_pr, value):
    p = failing_pr.idm("check", "--base-ref", "origin/main", "--z", value)
    assert p.returncode == 2
    assert p.stderr == f"idm-gate: error: --z: {value!r} is not valid; write a finite number such as 0.5\n"


@pytest.mark.parametrize(("flag", "value", "valid"), [
    # the bounds are the manifest schema's for the same gate: key
    ("--z", "-1", "above 0 and at most 10"),
    ("--z", "0", "above 0 and at most 10"),
    ("--z", "100", "above 0 and at most 10"),
    ("--max-error-rate", "1.5", "at least 0 and at most 1"),
    ("--max-size-gb", "-2", "above 0"),
    ("--min-tokens-per-s", "0", "above 0"),
])
def test_a_policy_number_flag_must_be_what_gate_in_a_manifest_could_hold(failing_pr, flag, value, valid):
    p = failing_pr.idm("check", "--base-ref", "origin/main", flag, value)
    assert p.returncode == 2
    key = flag[2:].replace("-", "_")
    assert p.stderr == (f"idm-gate: error: {flag}: {value!r} is out of range; write a number {valid} "
                        f"(the bounds of gate: {key} in a manifest)\n")


# -- how the process ends -----------------------------------------------------------------------------

# A probe run as the process's main script: an atexit handler, and an object whose finalizer runs only
# when the interpreter tears its modules down.
_ENDING = """
import atexit, os, sys
atexit.register(lambda: os.write(1, b"atexit ran\\n"))
class Teardown:
    def __del__(self):
        os.write(1, b"torn down\\n")
kept = Teardown()
from idm_gate.cli import entry, main
sys.argv = ["idm-gate", *{argv!r}]
{call}
"""


def _ending(call: str, argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _ENDING.format(call=call, argv=argv)], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_the_script_exits_without_tearing_the_interpreter_down_but_runs_atexit_handlers(tmp_path):
    run = _ending("entry()", ["--version"], tmp_path)
    assert (run.returncode, run.stdout, run.stderr) == (0, f"idm-gate {__version__}\natexit ran\n", "")
    # the probe itself: a plain exit does tear down, so the line above would show it
    plain = _ending("sys.exit(main())", ["--version"], tmp_path)
    assert plain.stdout == f"idm-gate {__version__}\natexit ran\ntorn down\n"


def test_the_script_runs_with_a_higher_young_collection_threshold(tmp_path):
    # start-up's long-lived objects no longer trigger a young collection every 700 allocations
    probe = ("import atexit, gc, os, sys\n"
             "atexit.register(lambda: os.write(1, b'%d %d' % gc.get_threshold()[:2]))\n"
             "sys.argv = ['idm-gate', '--version']\n"
             "from idm_gate.cli import entry\n"
             "entry()\n")
    run = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    default_middle = subprocess.run([sys.executable, "-c", "import gc; print(gc.get_threshold()[1])"],
                                    capture_output=True, text=True, timeout=60).stdout.strip()
    assert run.stdout == f"idm-gate {__version__}\n{GC_YOUNG_THRESHOLD} {default_middle}"


def test_argparses_own_exits_end_the_same_way(tmp_path):
    # --help and a usage error leave main() through SystemExit; their code and message are kept
    run = _ending("entry()", ["measure", "--no-such-flag"], tmp_path)
    assert (run.returncode, run.stdout) == (2, "atexit ran\n")
    assert run.stderr.endswith("idm-gate: error: unrecognized arguments: --no-such-flag\n")
    run = _ending("entry()", ["--help"], tmp_path)
    assert run.returncode == 0 and run.stdout.startswith("usage: idm-gate ") and run.stdout.endswith("atexit ran\n")
    assert "torn down" not in run.stdout


def test_the_exit_code_and_everything_written_survive_the_fast_exit(failing_pr, tmp_path):
    # 1, the gate failed; the JSON on stdout (block-buffered into a pipe) and the file are complete
    run = failing_pr.idm("check", "--base-ref", "origin/main", "-f", "json", "-o", str(tmp_path / "c.json"))
    assert run.returncode == 1, run.stderr
    assert json.loads((tmp_path / "c.json").read_text())["verdict"] == "fail"
    run = failing_pr.idm("check", "--base-ref", "origin/main", "-f", "json")
    assert (run.returncode, json.loads(run.stdout)["verdict"]) == (1, "fail")


def _with_reader_gone(*args: str, cwd: Path, buffered: bool) -> subprocess.CompletedProcess:
    """Run the CLI with standard output a pipe whose reading end is already closed, as in
    ``idm-gate ... | head -0`` once head has exited; ``buffered``: as Python buffers a pipe by default
    (the write fails only at the exit's flush), else under PYTHONUNBUFFERED (each print fails)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run([sys.executable, "-m", "idm_gate", *args], cwd=cwd, stdout=write,
                              stderr=subprocess.PIPE, text=True, env=env, timeout=60)
    finally:
        os.close(write)


@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("args", [["--version"], ["measure", "-f", "json"]], ids=["version", "measure"])
def test_a_reader_that_went_away_ends_the_run_quietly_with_gits_code(tmp_path, args, buffered):
    # the version line is printed before any command runs, measure's JSON by the command
    (tmp_path / "idm.yaml").write_text(json.dumps(manifest()))
    run = _with_reader_gone(*args, cwd=tmp_path, buffered=buffered)
    assert (run.returncode, run.stderr) == (141, "")


def _run_with(shell_redirect: str, *args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """The CLI started by a shell with ``shell_redirect`` applied (``>&-``: no standard output at all,
    as after ``idm-gate ... >&-`` or from a service manager that starts it without one)."""
    return subprocess.run(["sh", "-c", f'exec "$0" -m idm_gate "$@" {shell_redirect}', sys.executable, *args],
                          cwd=cwd, capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.parametrize(("args", "code"), [(["--version"], 0), (["--help"], 0), (["measure"], 0),
                                            (["measure", "--manifest", "none.yaml"], 2),
                                            (["measure", "--no-such-flag"], 2)])
def test_a_closed_standard_error_costs_its_output_only_never_the_exit_code(tmp_path, args, code):
    # Python starts with sys.stderr None; its own exit skips a missing stream, so must ours (it
    # exited 1, "the gate failed", after every command)
    (tmp_path / "idm.yaml").write_text(json.dumps(manifest()))
    run = _run_with("2>&-", *args, cwd=tmp_path)
    assert run.returncode == code, run.stdout
    if args == ["measure"]:
        assert "bonsai" in run.stdout


def test_with_standard_error_closed_warnings_stay_out_of_the_report_on_stdout(tmp_path):
    # print(file=sys.stderr) with sys.stderr None writes to stdout: the --enforce-budgets warning (no
    # budget set) ended up after the JSON, which no longer parsed
    (tmp_path / "idm.yaml").write_text(json.dumps(manifest()))
    run = _run_with("2>&-", "measure", "-f", "json", "--enforce-budgets", cwd=tmp_path)
    assert run.returncode == 0
    assert [m["name"] for m in json.loads(run.stdout)["models"]] == ["bonsai"]


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["schema"]])
def test_with_standard_output_closed_a_command_keeps_its_exit_code(tmp_path, args):
    # the entry flushed sys.stdout, None here: a traceback and exit 1 after --version and --help;
    # sys.stdout.write in schema was 'internal error: AttributeError', exit 3. Only the output is lost
    # (argparse's help, which it would put on stderr for a None stdout, included).
    run = _run_with(">&-", *args, cwd=tmp_path)
    assert (run.returncode, run.stderr) == (0, "")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
def test_output_lost_at_the_exits_flush_is_said_on_stderr(tmp_path):
    # block-buffered (no PYTHONUNBUFFERED), the version line is written only by the final flush, into a
    # device that is always full: Python's own exit printed the error and exited 120; one line and 120
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    run = _run_with(">/dev/full", "--version", cwd=tmp_path, env=env)
    assert (run.returncode, run.stderr) == (120, "idm-gate: error: could not write standard output: "
                                                 "No space left on device\n")


def test_when_standard_errors_reader_goes_standard_output_still_gets_everything(tmp_path):
    # `idm-gate measure --enforce-budgets > table.txt 2> >(grep -m1 ...)` once grep has exited: the
    # warning (no budget set) is what meets the broken pipe, after the table was written into stdout's
    # buffer. The table still reaches its file (it was sent to the null device with stderr's pipe);
    # the code is 141, as for git killed by SIGPIPE on either stream.
    (tmp_path / "idm.yaml").write_text(json.dumps(manifest()))
    whole = idm("measure", cwd=tmp_path)
    assert whole.returncode == 0 and "bonsai" in whole.stdout
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    read, write = os.pipe()
    os.close(read)
    try:
        with open(tmp_path / "table.txt", "w") as out:
            run = subprocess.run([sys.executable, "-m", "idm_gate", "measure", "--enforce-budgets"], cwd=tmp_path,
                                 stdout=out, stderr=write, env=env, timeout=60)
    finally:
        os.close(write)
    assert run.returncode == 141
    assert (tmp_path / "table.txt").read_text() == whole.stdout


def test_a_broken_pipe_not_on_a_standard_stream_is_an_unexpected_error(tmp_path):
    # only a reader of stdout or stderr going away is the quiet 141; EPIPE from anything else (a
    # child's stdin, a socket) is a fault to report, exit 3, with stdout left alone
    probe = """
import sys
import idm_gate.cli as cli
def cmd_schema(args):
    print("before")
    raise BrokenPipeError(32, "Broken pipe")
cli.cmd_schema = cmd_schema
sys.argv = ["idm-gate", "schema"]
cli.entry()
"""
    run = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stdout) == (3, "before\n")
    assert run.stderr == ("idm-gate: internal error: BrokenPipeError: [Errno 32] Broken pipe (set IDM_GATE_DEBUG=1 "
                          "for a traceback and please report it)\n")
