"""Command line: argparse, dispatch, and the one place errors become exit codes.

Exit codes: 0 ok (pass or warn); 1 the gate failed; 2 bad input or usage; 3 unexpected error, or a
store write that ran out of retries (nothing lost; run again); 141 the reader of standard output (or
error) went away (``idm-gate history | head``), as git exits on SIGPIPE; 120 (from :func:`entry`) a successful run
whose buffered output could not be written at the end (a full disk), as Python's own exit.
"""

from __future__ import annotations

import argparse
import atexit
import functools
import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from . import __version__
from .color import MODES as COLOR_MODES
from .color import PLAIN, Painter, wanted
from .errors import IdmError, InputError, one_line
from .messages import Messages

if TYPE_CHECKING:
    from .data import LogBase, Measurement, Policy, Verdict
    from .github.runner import RunnerContext
    from .manifest import Manifest
    from .verdicts import CheckResult

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_ERROR = 0, 1, 2, 3
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for git or cat when the reader of their output exits


def stdout_painter(args: argparse.Namespace) -> Painter:
    return Painter(wanted(getattr(args, "color", "auto"), sys.stdout, os.environ))


def to_file(output: str | None) -> bool:
    return bool(output) and output != "-"


def write_output(text: str, output: str | None) -> None:
    """Print, or write atomically so an interrupted run never leaves half a report."""
    if not output or output == "-":
        sys.stdout.write(text)
        return
    path = Path(output)
    if path.is_dir():
        raise InputError(f"--output: {output!r} is a directory; give a file path")
    from .paths import write_atomic

    try:
        write_atomic(path, text)
    except OSError as e:
        raise InputError(f"--output: cannot write {output!r} ({e.strerror})") from None


MANIFEST_NAME = "idm.yaml"


def find_manifest(start: Path, name: str = MANIFEST_NAME) -> Path:
    """``name`` in ``start`` or the nearest folder above it, up to the git repository's top level.

    As git, ruff and pytest look for their configuration: the walk stops at the first folder holding
    ``.git`` (a folder, or a file in a worktree or submodule). Outside a repository only ``start``
    counts, so a stray manifest higher up is never picked. The error says where it looked.
    """
    start = start.resolve()
    top = next((f for f in (start, *start.parents) if (f / ".git").exists()), None)
    folders = [start] if top is None else [start, *start.parents[:len(start.parents) - len(top.parents)]]
    for folder in folders:
        if (folder / name).exists() or (folder / name).is_symlink():
            return folder / name
    if top is None:
        where = f"in {start} (not inside a git repository, so no folder above it was searched)"
    elif top == start:
        where = f"in {start}"
    else:
        where = f"in {start} or any folder above it up to the repository's top level {top}"
    raise InputError(f"{name}: not found {where}; run idm-gate in the folder of your manifest, pass "
                     f"--manifest PATH, or write one with `idm-gate init`")


def locate_manifest(args: argparse.Namespace) -> None:
    """Settle the manifest of this run before a command starts: ``args.manifest_path`` is its path and
    ``args.manifest`` the name messages give it (relative to the current folder when looked up)."""
    if args.manifest is not None:
        args.manifest_path = Path(args.manifest)
        return
    args.manifest_path = find_manifest(Path.cwd())
    args.manifest = os.path.relpath(args.manifest_path)


def _manifest_path(args: argparse.Namespace) -> Path:
    path: Path = args.manifest_path
    return path


def _manifest(args: argparse.Namespace) -> tuple[Path, str]:
    """The manifest of this run: (its path, the name messages give it)."""
    return args.manifest_path, args.manifest


def cmd_measure(args: argparse.Namespace) -> int:
    from .manifest import load_manifest
    from .measure import measure
    from .report import REPORT_FORMATS, output_format, renderer

    man = load_manifest(*_manifest(args))
    if args.shard and args.enforce_budgets:
        raise InputError("--enforce-budgets: a --shard part measures only some models; enforce the budgets on "
                         "a full measure (or gate the merged report with check)")
    if args.shard:
        return _measure_part(args, man)
    args.format = output_format(args.format, args.output, REPORT_FORMATS, "text")
    m = measure(man)
    write_output(renderer(args.format).render_measurement(m), args.output)
    if to_file(args.output):
        # The file holds the chosen format; the log still shows the figures.
        sys.stdout.write(renderer("text").render_measurement(m))
        args.messages.error(f"wrote the {args.format} report to {args.output}", kind="note")
    if args.enforce_budgets:
        return enforce_budgets(man, m, args.manifest, args.messages)
    return EXIT_OK


def enforce_budgets(man: Manifest, m: Measurement, shown: str, messages: Messages) -> int:
    """``measure --enforce-budgets``: exit 1 when a model breaks an absolute budget of the manifest's
    ``gate:`` (its own ``gate:`` over the top-level one), each breach one line on standard error.

    This is the manifest as it is in the working tree: a local check before a push (the pre-commit
    hook), not the pull-request gate, whose policy comes from the base commit.
    """
    from .compare import budget_breaches

    policies = {spec.name: spec.gate.over(man.gate) for spec in man.models}
    absolute = ("min_density", "max_size_gb", "max_error_rate", "min_tokens_per_s", "max_latency_ms",
                "max_peak_memory_gb", "max_energy_per_token_j", "min_group_density")
    if not any(getattr(p, k) is not None for p in policies.values() for k in absolute):
        messages.warn(f"--enforce-budgets: {shown} sets no absolute budget (min_density, max_size_gb, "
                      "max_error_rate or an inference budget under gate:); nothing to enforce")
        return EXIT_OK
    breaches = [(x.name, why) for x in m.models for why in budget_breaches(x, policies[x.name], m.log_base)]
    for name, why in breaches:
        messages.error(f"{name}: {why} (gate: in {shown})", kind="over budget")
    return EXIT_FAIL if breaches else EXIT_OK


def _measure_part(args: argparse.Namespace, man: Manifest) -> int:
    """``measure --shard K/N``: the JSON part of this runner's models, for ``idm-gate merge``."""
    from .measure import measure, repo_root
    from .serialize import dumps, measurement_to_dict
    from .shard import parse_shard, part_doc, select

    index, count = parse_shard(args.shard)
    if args.format not in (None, "json"):
        raise InputError(f"--shard writes a JSON part for idm-gate merge; drop --format {args.format} "
                         "(or use --format json)")
    root = repo_root(man.base_dir)
    part = select(man, index, count)
    m = measure(part, root, every_model=len(part.models) == len(man.models))
    doc = part_doc(measurement_to_dict(m), man, part, index, count, _head(root))
    write_output(dumps(doc), args.output)
    if to_file(args.output):
        args.messages.error(f"wrote part {index} of {count} ({len(part.models)} of {len(man.models)} models) to "
                            f"{args.output}; join the parts with idm-gate merge", kind="note")
    return EXIT_OK


def _head(root: Path) -> str | None:
    """HEAD's commit in ``root``, or None outside git (or before the first commit)."""
    from .errors import GitError
    from .gitutil import Git

    try:
        git = Git(root)
        return git.rev_parse("HEAD") if git.toplevel() is not None else None
    except (InputError, GitError):
        return None


def cmd_merge(args: argparse.Namespace) -> int:
    from .serialize import dumps
    from .shard import load_part, merge

    parts = [(p, load_part(Path(p))) for p in args.parts]
    doc = merge(parts)
    write_output(dumps(doc), args.output)
    if to_file(args.output):
        args.messages.error(f"merged {len(parts)} part(s), {len(doc['models'])} model(s), into {args.output}",
                            kind="note")
    return EXIT_OK


# The policy flags of `check`: Policy field -> flag (the user's terms in the "ignored" warning).
POLICY_FLAGS = {"max_drop": "--max-drop", "warn_drop": "--warn-drop", "min_density": "--min-density",
                "max_size_gb": "--max-size-gb", "max_error_rate": "--max-error-rate",
                "significance": "--significance", "z": "--z", "min_tokens_per_s": "--min-tokens-per-s",
                "max_latency_ms": "--max-latency-ms", "max_peak_memory_gb": "--max-peak-memory-gb",
                "max_energy_per_token_j": "--max-energy-per-token-j", "max_throughput_drop": "--max-throughput-drop",
                "min_group_density": "--min-group-density"}


def cli_policy(args: argparse.Namespace) -> Policy:
    from .data import Policy
    from .manifest import number_flag, relative_flag

    def number(field: str) -> float | None:
        return number_flag(getattr(args, field), POLICY_FLAGS[field], field)

    return Policy(max_drop=relative_flag(args.max_drop, "--max-drop"),
                  warn_drop=relative_flag(args.warn_drop, "--warn-drop"),
                  min_density=number("min_density"),
                  max_size_gb=number("max_size_gb"),
                  max_error_rate=number("max_error_rate"),
                  significance=None if args.significance is None else args.significance == "on",
                  z=number("z"),
                  min_tokens_per_s=number("min_tokens_per_s"),
                  max_latency_ms=number("max_latency_ms"),
                  max_peak_memory_gb=number("max_peak_memory_gb"),
                  max_energy_per_token_j=number("max_energy_per_token_j"),
                  max_throughput_drop=relative_flag(args.max_throughput_drop, "--max-throughput-drop"),
                  min_group_density=number("min_group_density"))


def policy_terms(args: argparse.Namespace) -> dict[str, str]:
    """How the user wrote each policy flag they passed: {"max_drop": "--max-drop 10%", ...}."""
    return {field: f"{flag} {getattr(args, field)}" for field, flag in POLICY_FLAGS.items()
            if getattr(args, field) is not None}


def render_check(res: CheckResult, fmt: str, paint: Painter | None = None) -> str:
    """``check``'s report in ``fmt`` (markdown: the PR comment the action posts)."""
    from .report import renderer

    return renderer(fmt).render_check(res, paint or PLAIN)


def default_base_ref(remote: str, cwd: Path) -> str:
    """The remote's default branch as git knows it here (``refs/remotes/<remote>/HEAD``), e.g. ``origin/main``.

    ``git clone`` sets that ref; a repository that was ``git init``-ed and pushed has none, and then no
    branch is guessed: InputError naming --base-ref and ``git remote set-head``.
    """
    import subprocess

    try:
        p = subprocess.run(["git", "symbolic-ref", "--quiet", "--short", f"refs/remotes/{remote}/HEAD"], cwd=cwd,
                           capture_output=True, text=True, timeout=60)
    except OSError as e:
        raise InputError(f"check: no --base-ref given, and git cannot be run to find {remote}'s default branch "
                         f"({e.strerror}); pass --base-ref, e.g. {remote}/main") from None
    if p.returncode != 0 or not p.stdout.strip():
        raise InputError(f"check: no --base-ref given, and {remote}/HEAD (the remote's default branch) is not set "
                         f"in this clone; pass --base-ref with the pull request's base, e.g. {remote}/main, or run "
                         f"`git remote set-head {remote} --auto` once")
    return p.stdout.strip()


def cmd_check(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .gate import CheckOptions, check
    from .report import REPORT_FORMATS, output_format
    from .report.axis import parse_axis

    axis = parse_axis(args.frontier_axis)  # a typo stops here, before any git work
    if args.base_ref is None:
        args.base_ref = default_base_ref(args.remote, _manifest_path(args).parent)
    opts = CheckOptions(base_ref=args.base_ref, store_spec=args.store, branch=args.baseline_branch,
                        remote=args.remote, max_walk=args.max_walk, cli_policy=cli_policy(args),
                        require_baseline=args.require_baseline, policy_terms=policy_terms(args),
                        baseline_key=args.baseline_key, report=(Path(args.report),) if args.report else ())
    target = _check_target(args)
    args.format = output_format(args.format, args.output, REPORT_FORMATS, "text")
    res = check(*_manifest(args), opts, args.messages.warn)
    if not axis.is_size:
        res = replace(res, frontier_axis=axis.spec)
    if to_file(args.output):
        write_output(render_check(res, args.format), args.output)
        # A CI log must still say why a gate failed: the verdict and the reasons go to stdout too.
        sys.stdout.write(render_check(res, "text", stdout_painter(args)))
        args.messages.error(f"wrote the {args.format} report to {args.output}", kind="note")
    else:
        write_output(render_check(res, args.format, stdout_painter(args)), args.output)
    if target is not None:
        _deliver_check(res, args, target)
    from .data import Verdict  # here, not at the top: its dataclasses cost --version and --help ~20 ms

    if res.verdict is Verdict.FAIL and not args.no_fail:
        return EXIT_FAIL
    return EXIT_OK


def cmd_record(args: argparse.Namespace) -> int:
    from .gate import record

    sha, m, where = record(*_manifest(args), args.store, args.baseline_branch, args.remote,
                           warn=args.messages.warn, key=args.baseline_key,
                           report=(Path(args.report),) if args.report else ())
    print(f"idm-gate: recorded {len(m.models)} model(s) for {sha[:12]} in {where}")
    return EXIT_OK


def cmd_baseline_export(args: argparse.Namespace) -> int:
    from .gate import open_repo
    from .jsonsafe import JSONError, load_json
    from .store import canonical_json, export_records, open_store

    repo = open_repo(*_manifest(args))
    key = repo.gate_key(args.baseline_key)
    store = open_store(args.store, repo.git, key=key, remote=args.remote, branch=args.baseline_branch,
                       warn=args.messages.warn)
    shas = repo.git.first_parent_ancestors(repo.git.rev_parse(args.rev), args.max_walk)
    existing = None
    if args.output and args.output != "-" and Path(args.output).is_file():
        # Other gates' records (and this gate's older ones) already in the file are kept, never dropped.
        try:
            existing = load_json(Path(args.output).read_bytes(), f"--output {args.output}", allow_nan=True,
                                 duplicate_keys="last", allow_bom=False)
        except (OSError, JSONError) as e:
            reason = e.reason if isinstance(e, JSONError) else e
            raise InputError(f"--output {args.output}: the file there is not a baseline file idm-gate can "
                             f"merge into ({reason}); move it away or name another file") from None
    doc = export_records(store, shas, existing)
    write_output(canonical_json(doc).decode("utf-8"), args.output)
    if args.output and args.output != "-":
        others = len(doc["gates"]) - 1
        kept = f" (kept the {others} other gate(s) already in it)" if others else ""
        print(f"idm-gate: wrote {len(doc['gates'][key])} record(s) of gate {key!r} to {args.output}{kept}; "
              f"commit it and use --store file:{args.output}", file=sys.stderr)
    return EXIT_OK


def _history(args: argparse.Namespace, limit: int, max_walk: int) -> list[Any]:
    """The recorded commits along ``args.rev`` (oldest first) of this manifest's gate, from the store."""
    from .gate import open_repo
    from .history import read_history
    from .store import open_store

    repo = open_repo(*_manifest(args))
    store = open_store(args.store, repo.git, key=repo.gate_key(args.baseline_key), remote=args.remote,
                       branch=args.baseline_branch, warn=args.messages.warn)
    return read_history(store, repo.git, args.rev, limit=limit, max_walk=max_walk, warn=args.messages.warn)


def cmd_history(args: argparse.Namespace) -> int:
    from .history import check_model, points
    from .report import HISTORY_FORMATS, history_renderer, output_format

    args.format = output_format(args.format, args.output, HISTORY_FORMATS, "text")
    entries = _history(args, args.limit, args.max_walk)
    if args.model is not None:
        check_model(entries, args.model, args.rev)
    if not entries:
        args.messages.warn(f"no baseline records along {args.rev} (its last {args.max_walk} first-parent commits) "
                           f"in {args.store}; `idm-gate record` on the base branch writes them")
    write_output(history_renderer(args.format).render_history(points(entries, args.model)), args.output)
    return EXIT_OK


def _measured(args: argparse.Namespace) -> tuple[Manifest, Measurement]:
    """The manifest and its measurement: ``--report FILE`` (a report of this checkout) or measured now."""
    from .manifest import load_manifest
    from .measure import measure

    man = load_manifest(*_manifest(args))
    if args.report:
        from .measure import repo_root
        from .shard import load_report

        return man, load_report(Path(args.report), man, _head(repo_root(man.base_dir)))
    return man, measure(man)


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from .errors import StoreError
    from .history import points
    from .report import LEADERBOARD_FORMATS, leaderboard_renderer, output_format
    from .report.axis import parse_axis
    from .report.leaderboard import standings

    axis = parse_axis(args.frontier_axis)
    args.format = output_format(args.format, args.output, LEADERBOARD_FORMATS, "markdown")
    _, m = _measured(args)
    rows = standings(m, axis)
    if not axis.is_size and all(s.position is None for s in rows):
        raise InputError(f"--frontier-axis {args.frontier_axis}: no model's bench: files give {axis.key}; list "
                         "files that do in the manifest, or draw against size")
    board = leaderboard_renderer(args.format)
    history: list[Any] = []
    if board.CHARTS_HISTORY:  # read the store only for a format that draws it (the HTML page)
        try:
            history = points(_history(args, args.limit, 1000))
        except InputError as e:
            if "not inside a git repository" not in str(e):
                raise
            args.messages.warn("not inside a git repository: the page has no history chart")
        except StoreError as e:
            args.messages.warn(f"the page has no history chart: {e}")
    text = board.render_leaderboard(rows, m.log_base, history, axis=axis)
    write_output(text, args.output)
    if to_file(args.output):
        args.messages.error(f"wrote the {args.format} leaderboard of {len(rows)} model(s) to {args.output}",
                            kind="note")
    return EXIT_OK


def badge_status(args: argparse.Namespace, man: Manifest, x: Any, log_base: LogBase) -> Verdict | None:
    """The verdict from ``--check FILE`` (the model's verdict there), else from the manifest's absolute
    budgets (fail on a breach, pass within them, None (unknown) when the model has none)."""
    from .data import Verdict

    if args.check:
        from .checkdoc import verdict_of
        from .paths import EVAL_FILE_CAP, read_capped
        from .serialize import loads_strict

        shown = f"--check {args.check}"
        return verdict_of(loads_strict(read_capped(Path(args.check), EVAL_FILE_CAP, shown, args.check), shown),
                          x.name, shown)
    from .compare import budget_breaches

    policy = next(spec.gate.over(man.gate) for spec in man.models if spec.name == x.name)
    if budget_breaches(x, policy, log_base):
        return Verdict.FAIL
    if policy.min_density is None and policy.max_size_gb is None and policy.max_error_rate is None:
        return None
    return Verdict.PASS


def cmd_badge(args: argparse.Namespace) -> int:
    from .report.fmt import num
    from .report.svg import badge_svg

    man, m = _measured(args)
    x = m.model(args.model)
    if x is None:
        names = [y.name for y in m.models]
        shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
        raise InputError(f"--model {args.model!r}: {args.manifest} has no such model; its models: {shown}")
    status = badge_status(args, man, x, m.log_base)
    unit = m.log_base.unit
    write_output(badge_svg(args.label, f"{num(x.density, 3)} {unit}", status), args.output)
    if to_file(args.output):
        args.messages.error(f"wrote the badge of {x.name} ({status or 'unknown'}) to {args.output}", kind="note")
    return EXIT_OK


def _github_target(args: argparse.Namespace, event_name: str,
                   **fields: Any) -> tuple[RunnerContext, str]:
    """(RunnerContext, token) for posting to ``--repository`` from a terminal; token from the environment."""
    from .github.runner import DEFAULT_API_URL, RunnerContext

    owner, _, name = (args.repository or "").partition("/")
    if not owner or not name or "/" in name:
        raise InputError(f"--repository: {args.repository!r} is not 'owner/name'")
    head_sha = fields.get("head_sha")
    if head_sha is not None:
        from .gitutil import is_full_sha

        # GitHub sets a status only on a full SHA-1 (an abbreviated one is 422 "sha must be a 40 character SHA1")
        if len(head_sha) != 40 or not is_full_sha(head_sha.lower()):
            raise InputError(f"--head-sha: {head_sha!r} is not a full commit SHA (40 hex digits), which GitHub needs "
                             f"for a status; `git rev-parse {head_sha.strip() or '<commit>'}` prints it")
        fields["head_sha"] = head_sha.lower()
    api_url = (args.api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
    if not api_url.startswith(("https://", "http://")):
        raise InputError(f"--api-url: {api_url!r} is not an http(s) URL")
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or None
    if not token:
        raise InputError(f"idm-gate {args.command}: set GITHUB_TOKEN (or GH_TOKEN) to a token that may read pull "
                         "requests and write comments and statuses")
    ctx = RunnerContext(event_name=event_name, owner=owner, repo=name, api_url=api_url, sha=None, ref=None,
                        base_ref=None, workspace=None, **fields)
    return ctx, token


def _link_env(ctx: RunnerContext) -> dict[str, Any]:
    """What the comment's commit links are built from in the action (GITHUB_SERVER_URL, GITHUB_REPOSITORY),
    for a terminal: the server from GITHUB_SERVER_URL, else from the API URL (api.github.com ->
    https://github.com, GHES https://HOST/api/v3 -> https://HOST)."""
    from urllib.parse import urlsplit

    server = os.environ.get("GITHUB_SERVER_URL", "").strip()
    if not server:
        parts = urlsplit(ctx.api_url)
        if parts.netloc == "api.github.com":
            server = "https://github.com"
        else:
            path = parts.path[: -len("/api/v3")] if parts.path.endswith("/api/v3") else parts.path
            server = f"{parts.scheme}://{parts.netloc}{path}"
    return {"GITHUB_SERVER_URL": server, "GITHUB_REPOSITORY": f"{ctx.owner}/{ctx.repo}"}


def _check_target(args: argparse.Namespace) -> tuple[RunnerContext, str] | None:
    """``check --pr N``: where the comment and status go, checked before anything is measured."""
    from .gitutil import Git

    if args.pr is None:
        return None
    if args.repository is None:
        raise InputError("--pr: also give --repository owner/name")
    head_sha = args.head_sha   # an empty one (an unset variable) is refused below, not taken for HEAD
    if head_sha is None:
        head_sha = Git(_manifest_path(args).resolve().parent).rev_parse("HEAD")
    return _github_target(args, "pull_request", pr_number=args.pr, head_sha=head_sha)


def _deliver_check(res: CheckResult, args: argparse.Namespace, target: tuple[RunnerContext, str]) -> None:
    """The comment and status the action's mode check writes, from a terminal (failures only warn)."""
    from .action import PlainLog, _deliver
    from .github.commands import OutputsWriter

    ctx, token = target
    _deliver(res, ctx, token, None, ctx.pr_number, ctx.head_sha, (args.comment_key, args.comment_author),
             args.comment, args.status_context, False, None, args.manifest, OutputsWriter(None), None,
             PlainLog(args.messages),
             env=_link_env(ctx), echo=False)


def cmd_publish(args: argparse.Namespace) -> int:
    """What the action's mode publish does, from a terminal or any CI: the token comes from the
    environment (``GITHUB_TOKEN``, else ``GH_TOKEN``), never from the command line, where ``ps`` and
    shell history would show it."""
    from .action import PlainLog, _deliver, publish_check
    from .gate import CheckOptions
    from .github.commands import OutputsWriter

    head_owner, _, head_name = args.head_repository.partition("/")
    if not head_owner or not head_name or "/" in head_name:
        raise InputError(f"--head-repository: {args.head_repository!r} is not 'owner/name' (the fork, or the "
                         "repository itself for a same-repository PR)")
    ctx, token = _github_target(args, "workflow_run", pr_number=args.pr, head_sha=args.head_sha,
                                triggering_event="pull_request", head_repository=args.head_repository,
                                head_branch=args.head_branch, head_owner=head_owner,
                                is_fork=args.head_repository.lower() != args.repository.lower())
    log = PlainLog(args.messages)
    opts = CheckOptions(base_ref="", store_spec=args.store, branch=args.baseline_branch, remote=args.remote,
                        cli_policy=cli_policy(args), baseline_key=args.baseline_key, policy_terms=policy_terms(args))
    manifest, shown = _manifest(args)
    published = publish_check(ctx, token, manifest, shown, Path(args.report), log, opts)
    if published is None:
        return EXIT_OK
    res, client, number, head_sha = published
    if args.output and args.output != "-" and Path(args.output).resolve() == Path(args.report).resolve():
        raise InputError("--output: the same file as --report; the measure run's report is input here")
    code = _deliver(res, ctx, token, client, number, head_sha, (args.comment_key, args.comment_author), args.comment,
                    args.status_context, not args.no_fail, Path(args.output) if args.output else None, args.manifest,
                    OutputsWriter(None), None, log, env=_link_env(ctx))
    return code


def cmd_action(args: argparse.Namespace) -> int:
    """The container action. A user's mistake exits 2 as in every command, and is also shown as an
    ``::error::`` annotation, which the run's summary page lists (stderr alone is buried in the log)."""
    from .action import run
    from .github.commands import annotation

    try:
        return run()
    except IdmError as e:
        for problem in getattr(e, "problems", None) or [str(e)]:  # InputErrors: one annotation per problem
            print(annotation("error", one_line(problem), title="idm-gate"), flush=True)
        raise
    except Exception as e:
        print(annotation("error", f"internal error: {type(e).__name__}: {one_line(str(e))}", title="idm-gate"),
              flush=True)
        raise


def cmd_init(args: argparse.Namespace) -> int:
    target = Path(args.path)
    if args.workflow:
        from .init import init_workflow

        return init_workflow(target, Path(args.manifest) if args.manifest else None, force=args.force,
                             dry_run=args.dry_run)
    from .init import init_manifest

    manifest = Path(args.manifest) if args.manifest else target / "idm.yaml"
    return init_manifest(target, manifest, force=args.force, dry_run=args.dry_run)


def cmd_schema(args: argparse.Namespace) -> int:
    from .manifest import schema, schema_text

    if args.markdown:
        if args.which != "manifest":
            raise InputError("schema --markdown: renders the manifest's schema only; drop the "
                             f"{args.which!r} argument")
        from .schemadoc import render_markdown

        sys.stdout.write(render_markdown(schema()))
        return EXIT_OK
    sys.stdout.write(schema_text(args.which))
    return EXIT_OK


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help layout, with the terminal's width asked once per run: argparse makes a formatter
    for every option it adds (to check its metavar), and each asks the terminal again."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         width if width is not None else _help_width())


@functools.cache
def _help_width() -> int:
    import shutil

    return shutil.get_terminal_size().columns - 2  # what argparse.HelpFormatter does by default


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line. Every option's help ends with its default, as ``--help`` shows it.

    With ``command`` (a command's name), only that command's options are built: what ``main`` asks for
    when the first argument names a command, since building all 12 commands' ~135 options costs about
    2.5 ms of a run's start-up (benchmarks/bench_measure.py). Parsing a line of that command, and its
    ``--help``, are the same either way; ``idm-gate --help`` and anything else build them all.
    """
    from .report import FORMATS, HISTORY_FORMATS, LEADERBOARD_FORMATS, REPORT_FORMATS

    p = argparse.ArgumentParser(
        prog="idm-gate", formatter_class=HelpFormatter,
        description="Measure models' intelligence density (-ln error rate per GB) and gate pull requests on it.",
        epilog="Run 'idm-gate COMMAND --help' for the options of a command. Exit codes: 0 ok, 1 the gate "
               "failed, 2 bad input or usage, 3 unexpected error.",
    )
    p.add_argument("-V", "--version", action="version", version=VERSION_LINE,
                   help="print the version and exit")
    color_help = ("colour the output: auto (on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it), "
                  "always or never (default: auto)")
    p.add_argument("--color", choices=COLOR_MODES, default="auto", help=color_help)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def wanted(name: str) -> bool:
        return command is None or name == command

    def add(name: str, help: str, description: str | None = None) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=description or help[0].upper() + help[1:] + ".",
                            formatter_class=HelpFormatter)
        # Also accepted after the command; SUPPRESS keeps a value given before it.
        sp.add_argument("--color", choices=COLOR_MODES, default=argparse.SUPPRESS, help=color_help)
        return sp

    def manifest_opt(sp: argparse.ArgumentParser) -> None:
        sp.set_defaults(locate_manifest=True)
        sp.add_argument("--manifest", "-m",
                        help="manifest path (default: idm.yaml in the current folder or the nearest folder "
                             "above it, up to the repository's top level)")

    def format_opt(sp: argparse.ArgumentParser, offered: tuple[str, ...], default: str, what: str = "") -> None:
        # --format, else the -o file's extension (report.output_format), else the default
        ends = ", ".join(f"{FORMATS[f].suffixes[0]} {f}" for f in offered)
        sp.add_argument("--format", "-f", choices=offered, default=None,
                        help=f"{what or 'report format'} (default: from the extension of the -o file: {ends}; "
                             f"else {default})")

    def common(sp: argparse.ArgumentParser) -> None:
        manifest_opt(sp)
        format_opt(sp, REPORT_FORMATS, "text")
        sp.add_argument("--output", "-o",
                        help="also write the report to this file; the text report stays on standard output "
                             "(default: standard output only)")

    if wanted("measure"):
        sp = add("measure", "compute every model's density from the manifest")
        common(sp)  # --format: text by default, json with --shard
        sp.add_argument("--shard", metavar="K/N",
                        help="measure only part K of N (each model's part is fixed by a hash of its name, so it "
                             "stays put when models are added) and write it as JSON for idm-gate merge "
                             "(default: every model)")
        sp.add_argument("--enforce-budgets", action="store_true",
                        help="exit 1 when a model breaks an absolute budget of the manifest's gate: (min_density, "
                             "max_size_gb, max_error_rate), one line per breach on standard error; what the "
                             "pre-commit hook runs (default: report only, exit 0)")
        sp.set_defaults(func=cmd_measure)

    if wanted("merge"):
        sp = add("merge", "join the parts that measure --shard K/N wrote into one report")
        sp.add_argument("parts", nargs="+", metavar="PART", help="every part-*.json of one measure run")
        sp.add_argument("--output", "-o", help="write the merged report here (default: standard output)")
        sp.set_defaults(func=cmd_merge)

    def store_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--store", default="branch",
                        help="where baselines live: branch, branch:NAME or file:PATH (default: branch)")
        sp.add_argument("--baseline-branch", default="idm-baselines",
                        help="branch of the branch store (default: idm-baselines)")
        sp.add_argument("--remote", default="origin", help="git remote holding the baseline branch (default: origin)")
        sp.add_argument("--baseline-key", metavar="KEY",
                        help="gate key the baselines are filed under (default: the manifest's path from the "
                             "repository's top, e.g. models/idm.yaml); name one to keep a gate's baselines "
                             "when its manifest moves")

    def github_opts(sp: argparse.ArgumentParser, repository_required: bool = True) -> None:
        sp.add_argument("--repository", required=repository_required,
                        help="owner/name of the repository the PR is opened against (default: none; needed "
                             "with --pr)")
        sp.add_argument("--api-url", help="REST API URL (default: GITHUB_API_URL, else https://api.github.com; "
                        "GHES: https://HOST/api/v3)")
        sp.add_argument("--comment", default="on-change", choices=("always", "on-change", "on-regression", "never"),
                        help="when to start the sticky comment (default: on-change); an existing one is kept current")
        sp.add_argument("--comment-key", default="default", help="tells this gate's comment from other gates' "
                        "(default: default)")
        sp.add_argument("--comment-author", help="login whose comment is ours (default: the token's own login)")
        sp.add_argument("--status-context", default="idm-gate", help="commit status context; empty for no status "
                        "(default: idm-gate)")

    if wanted("check"):
        sp = add("check", "compare this checkout against the baseline of its base branch")
        common(sp)
        store_opts(sp)
        sp.add_argument("--base-ref", help="the PR's base, e.g. origin/main (default: the branch <remote>/HEAD names, "
                        "the remote's default branch as git clone recorded it)")
        sp.add_argument("--max-walk", type=int, default=50,
                        help="first-parent commits to search for a baseline from the merge base (default: 50)")
        unset = "(default: the base commit's gate: setting"
        sp.add_argument("--max-drop", help=f"relative density drop that fails, e.g. 5%% {unset}, else 5%%)")
        sp.add_argument("--warn-drop", help=f"relative density drop that warns, e.g. 2%% {unset}, else none)")
        sp.add_argument("--min-density", help=f"lowest density any model may have {unset}, else none)")
        sp.add_argument("--max-size-gb", help=f"largest size any model may have, in GB {unset}, else none)")
        sp.add_argument("--max-error-rate",
                        help=f"highest mean error rate any model may have, as a fraction {unset}, else none)")
        sp.add_argument("--significance", choices=("on", "off"),
                        help=f"on: drops within z combined standard errors only warn {unset}, else on)")
        sp.add_argument("--z", help=f"standard errors a drop must exceed to count {unset}, else 1.96)")
        sp.add_argument("--min-tokens-per-s",
                        help=f"lowest bench: tokens/s figure any model may have {unset}, else none)")
        sp.add_argument("--max-latency-ms", help=f"highest bench: latency figure (p50, p95) in ms {unset}, else none)")
        sp.add_argument("--max-peak-memory-gb", help=f"highest bench: peak memory in GB {unset}, else none)")
        sp.add_argument("--max-energy-per-token-j", help=f"highest bench: energy per token in J {unset}, else none)")
        sp.add_argument("--max-throughput-drop",
                        help=f"relative drop of a comparable bench: tokens/s figure that fails, e.g. 10%% {unset}, "
                        "else none)")
        sp.add_argument("--min-group-density", help=f"lowest density any group (groups:, a domain of tasks) of any "
                        f"model may have {unset}, else none)")
        sp.add_argument("--require-baseline", action="store_true",
                        help="fail when no baseline exists (default: pass with a notice)")
        sp.add_argument("--no-fail", action="store_true", help="exit 0 even when the gate fails (default: exit 1)")
        sp.add_argument("--pr", type=int, help="also post what the action's mode check posts: the sticky comment on "
                        "this PR of --repository and a commit status on --head-sha (token from GITHUB_TOKEN) "
                        "(default: post nothing)")
        sp.add_argument("--head-sha", help="the commit the status goes on (default: HEAD; give the PR's head when "
                        "HEAD is its merge commit)")
        github_opts(sp, repository_required=False)
        sp.add_argument("--report", metavar="FILE", help="gate this report of the checkout (idm-gate measure "
                             "--format json, or idm-gate merge of measure --shard parts) instead of measuring "
                             "again; refused when it is of another commit or manifest (default: measure the checkout)")
        sp.add_argument("--frontier-axis", default="size", metavar="AXIS",
                        help="what the comment's efficiency frontier chart is drawn against: size, latency, memory, "
                             "energy, or a bench: figure's key such as 'latency_p95_ms per_token' (default: size)")
        sp.set_defaults(func=cmd_check)

    if wanted("record"):
        sp = add("record", "measure HEAD and store it as the baseline for this commit")
        manifest_opt(sp)
        store_opts(sp)
        sp.add_argument("--report", metavar="FILE",
                        help="store this report of HEAD (idm-gate measure --format json, or idm-gate merge of "
                             "measure --shard parts) instead of measuring again; refused when it is of another commit "
                             "or manifest (default: measure HEAD)")
        sp.set_defaults(func=cmd_record)

    if wanted("baseline"):
        sp = add("baseline", "baseline store maintenance")
        bsub = sp.add_subparsers(dest="baseline_command", metavar="ACTION", required=True, title="actions")
        ep = bsub.add_parser("export", help="write the file store (file:PATH) from the branch store",
                             formatter_class=HelpFormatter)
        manifest_opt(ep)
        store_opts(ep)
        ep.add_argument("--rev", default="HEAD",
                        help="export records of this commit's first-parent history (default: HEAD)")
        ep.add_argument("--max-walk", type=int, default=1000, help="first-parent commits to export (default: 1000)")
        ep.add_argument("--output", "-o", help="file to write (default: standard output)")
        ep.set_defaults(func=cmd_baseline_export)

    if wanted("history"):
        sp = add("history", "list the recorded densities along a branch (first-parent order) from the baseline store")
        manifest_opt(sp)
        store_opts(sp)
        sp.add_argument("--model", help="only this model (default: every model)")
        sp.add_argument("--limit", type=int, default=20, help="the newest N recorded commits (default: 20)")
        sp.add_argument("--rev", default="HEAD", help="walk this commit's first-parent history, e.g. origin/main "
                        "(default: HEAD)")
        sp.add_argument("--max-walk", type=int, default=1000,
                        help="first-parent commits to look through for records (default: 1000)")
        format_opt(sp, HISTORY_FORMATS, "text", "output format")
        sp.add_argument("--output", "-o", help="write to this file (default: standard output)")
        sp.set_defaults(func=cmd_history)

    if wanted("leaderboard"):
        sp = add("leaderboard", "rank every model by density, with size, error rate and the efficiency frontier")
        manifest_opt(sp)
        store_opts(sp)
        format_opt(sp, LEADERBOARD_FORMATS, "markdown", "markdown, json, or html: one self-contained page with "
                   "inline SVG charts of the frontier and the recorded history")
        sp.add_argument("--output", "-o", help="write to this file (default: standard output)")
        sp.add_argument("--report", metavar="FILE", help="rank this report of the checkout (idm-gate measure --format "
                        "json) instead of measuring (default: measure the checkout)")
        sp.add_argument("--rev", default="HEAD", help="the HTML history chart follows this commit's first-parent "
                        "history (default: HEAD)")
        sp.add_argument("--limit", type=int, default=20,
                        help="recorded commits in the HTML history chart, the newest (default: 20)")
        sp.add_argument("--frontier-axis", default="size", metavar="AXIS",
                        help="what the efficiency frontier is taken against: size, latency (latency_p50_ms), memory "
                             "(peak_memory_bytes), energy (energy_per_token_j), or a bench: figure's key such as "
                             "'latency_p95_ms per_token'; models without the figure are not placed (default: size)")
        sp.set_defaults(func=cmd_leaderboard)

    if wanted("badge"):
        sp = add("badge", "write an SVG badge of one model's density for a README")
        manifest_opt(sp)
        sp.add_argument("--model", required=True, help="the model the badge shows (required)")
        sp.add_argument("--output", "-o", help="the SVG file to write, e.g. density.svg (default: standard output)")
        sp.add_argument("--label", default="density", help="the badge's left-hand text (default: density)")
        sp.add_argument("--check", metavar="FILE", help="colour by the model's verdict in this check report "
                        "(idm-gate check --format json -o FILE) (default: by the manifest's absolute budgets: red "
                        "over one, green within them, grey when the model has none)")
        sp.add_argument("--report", metavar="FILE", help="take the density from this report of the checkout "
                        "(default: measure the checkout)")
        sp.set_defaults(func=cmd_badge)

    if wanted("publish"):
        sp = add("publish", "gate a report from a measure run and post it to its pull request "
                 "(the action's mode publish; token from GITHUB_TOKEN)")
        sp.set_defaults(locate_manifest=True)
        sp.add_argument("--manifest", "-m", help="manifest path; its version at the PR's base commit holds the "
                        "policy (default: idm.yaml, looked up as measure does)")
        store_opts(sp)
        sp.add_argument("--report", required=True, help="the report `idm-gate measure --format json` (or the action's "
                        "mode measure, or `idm-gate merge` of measure --shard parts) wrote for the pull request")
        sp.add_argument("--head-sha", required=True, help="the commit the report measured (the PR's head)")
        sp.add_argument("--head-repository", required=True,
                        help="owner/name holding the PR's branch: the fork, or --repository itself")
        sp.add_argument("--head-branch", required=True, help="the PR's branch in --head-repository")
        sp.add_argument("--pr", type=int, help="the PR number, if known; checked against the API like everything else "
                        "(default: found through the API from --head-sha)")
        github_opts(sp)
        sp.add_argument("--max-drop", help="relative density drop that fails, e.g. 5%%; only tightens "
                        "(default: the base commit's gate: setting, else 5%%)")
        sp.add_argument("--warn-drop", help="relative density drop that warns, e.g. 2%%; only tightens "
                        "(default: the base commit's gate: setting, else none)")
        sp.add_argument("--output", "-o", help="also write the gate's report (JSON) here (default: none)")
        sp.add_argument("--no-fail", action="store_true", help="exit 0 even when the gate fails (default: exit 1)")
        sp.set_defaults(func=cmd_publish, min_density=None, max_size_gb=None, max_error_rate=None, significance=None,
                        z=None, min_tokens_per_s=None, max_latency_ms=None, max_peak_memory_gb=None,
                        max_energy_per_token_j=None, max_throughput_drop=None, min_group_density=None)

    if wanted("action"):
        sp = add("action", "run as the GitHub Action (reads INPUT_* and GITHUB_* from the environment)")
        sp.set_defaults(func=cmd_action)

    if wanted("init"):
        sp = add("init", "write idm.yaml from the weights and eval results found in a repository",
                 description="Scan PATH for weights and eval results, group them into models and write a "
                             "commented idm.yaml that validates and measures. With --workflow, write "
                             ".github/workflows/idm-gate.yml instead.")
        sp.add_argument("path", nargs="?", default=".", metavar="PATH",
                        help="folder to scan; the manifest's paths are relative to it (default: .)")
        sp.add_argument("--manifest", "-m", help="manifest to write, or with --workflow the one the workflow "
                                                 "gates (default: PATH/idm.yaml)")
        sp.add_argument("--workflow", action="store_true",
                        help="write .github/workflows/idm-gate.yml at the repository's top level instead "
                             "(default: write the manifest)")
        sp.add_argument("--force", action="store_true", help="replace an existing file (default: refuse)")
        sp.add_argument("--dry-run", action="store_true", help="print what would be written; write nothing "
                                                               "(default: write)")
        sp.set_defaults(func=cmd_init)

    if wanted("schema"):
        sp = add("schema", "print a JSON Schema shipped with idm-gate")
        sp.add_argument("which", nargs="?", choices=("manifest", "report", "check"), default="manifest",
                        help="manifest (idm.yaml), report (measure --format json) or check (check --format json) "
                             "(default: manifest)")
        sp.add_argument("--markdown", action="store_true",
                        help="print the manifest reference as Markdown (docs/manifest.md) instead of the JSON Schema "
                             "(default: off)")
        sp.set_defaults(func=cmd_schema)
    return p


VERSION_LINE = f"idm-gate {__version__}"

# every command build_parser adds, in its order (tests/cli/test_cli.py holds the two lists equal)
COMMANDS = ("measure", "merge", "check", "record", "baseline", "history", "leaderboard", "badge", "publish",
            "action", "init", "schema")


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code. ``argv`` None: the process's own command line (the
    ``idm-gate`` script, ``python -m idm_gate``), which ends when this returns."""
    whole_process = argv is None
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["-V"], ["--version"]):  # what argparse's version action does, without building the parser
        print(VERSION_LINE)
        return EXIT_OK
    parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        # Bare `idm-gate`: the usage with the list of commands, as git and pip do; no command is a usage error.
        parser.print_help()
        return EXIT_INPUT
    args.messages = Messages(args.color)
    if whole_process:
        # What is alive now (the modules imported, the parser) lives until the process exits: out of the
        # cyclic collector's sight, a full collection no longer walks it (on a 1,000-model check that
        # walk cost ~25 ms of CPU). Not when called in-process (tests): frozen objects are never freed.
        gc.freeze()
    try:
        if getattr(args, "locate_manifest", False):
            locate_manifest(args)
        code: int = args.func(args)
        return code
    except IdmError as e:
        for problem in getattr(e, "problems", None) or [str(e)]:  # InputErrors: every problem, one line each
            args.messages.error(problem)
        return e.exit_code
    except KeyboardInterrupt:
        print("idm-gate: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a crash: short message, traceback only on request
        if isinstance(e, BrokenPipeError) and _mute_gone_readers():
            return EXIT_BROKEN_PIPE
        if os.environ.get("IDM_GATE_DEBUG", "").strip().lower() in ("1", "true", "yes", "on"):
            import traceback

            traceback.print_exc()  # and still exit 3: an uncaught exception would exit 1, "the gate failed"
            return EXIT_ERROR
        args.messages.error(f"{type(e).__name__}: {str(e)} (set IDM_GATE_DEBUG=1 for a traceback "
                            "and please report it)", kind="internal error")
        return EXIT_ERROR


def _reader_gone() -> int:
    """Standard output's reader has exited (``idm-gate history | head -1``): nothing more can reach it,
    which is no fault of the run. Later writes and the final flush go to the null device instead (the
    handling Python's documentation gives for SIGPIPE), and the code is git's in the same case."""
    _mute(sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


def _mute(fd: int) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _mute_gone_readers() -> bool:
    """After a BrokenPipeError: point each standard stream whose reader has exited (a pipe or socket
    polled as broken) at the null device; True if there was one. Only those: with
    ``> report.txt 2> >(grep -m1 warning)`` it is standard error's reader that left, and the report
    still belongs in its file. False when neither is broken: the error came from elsewhere, an
    unexpected error rather than a reader gone. Without ``select.poll`` (Windows) standard output is
    taken as the one."""
    try:
        import select

        poll = select.poll()
    except (ImportError, AttributeError):
        _mute(1)
        return True
    for fd in (1, 2):
        poll.register(fd, select.POLLOUT)
    gone = [fd for fd, events in poll.poll(0) if events & (select.POLLERR | select.POLLHUP)
            and not events & select.POLLNVAL]
    for fd in gone:
        _mute(fd)
    return bool(gone)


# allocations between two young collections of the cyclic collector in the idm-gate process (Python's: 700)
GC_YOUNG_THRESHOLD = 100_000


def _open_stream(stream: TextIO | None) -> bool:
    return stream is not None and not stream.closed


def _tell(line: str) -> None:
    """One line on standard error if there is one to write it to (the exit's last words)."""
    if _open_stream(sys.stderr):
        try:
            print(line, file=sys.stderr, flush=True)
        except OSError:
            pass


def _fill_missing_streams() -> None:
    """Give a standard stream the process was started without (``>&-``, ``2>&-``: Python makes it None)
    the null device. Otherwise ``sys.stdout.write`` fails (exit 3 for a run that went well) and
    ``print(file=sys.stderr)`` falls back to standard output, so warnings would land inside a JSON
    report. The device takes the lowest free descriptor, the missing stream's own, so no file opened
    later (a report, a child's pipe) can take its place by accident."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # lives as long as the process


def entry() -> NoReturn:
    """The ``idm-gate`` console script and ``python -m idm_gate``: :func:`main` on the process's own
    command line, then the process exits with its code.

    It exits without tearing the interpreter down: freeing every module and object one by one costs
    10-17 ms after a one-model ``measure`` (as much as the measuring; ``benchmarks/bench_measure.py``)
    and changes nothing a user can see, since the operating system takes the memory back at once. mypy
    ends the same way (its ``--fast-exit``, the default). What a normal exit does that matters still
    happens first: the ``atexit`` handlers run (logging's flush among them) and both standard streams are
    flushed. Every file idm-gate writes is closed before its command returns (``with`` blocks,
    ``paths.write_atomic``), so no buffered byte is lost.

    The cyclic collector runs a young collection every :data:`GC_YOUNG_THRESHOLD` net allocations
    instead of Python's 700: start-up creates ~29,000 objects that live as long as the process
    (modules, classes, the schema), and at 700 a one-model ``measure`` spent ~10 ms in 39 collections
    that freed nothing; at this threshold it makes none. Cyclic garbage is still collected, later
    (mypy raises the threshold for the same reason). Never returns."""
    gc.set_threshold(GC_YOUNG_THRESHOLD)
    _fill_missing_streams()
    try:
        code = main()
    except BrokenPipeError:  # a write outside a command's run (the version line, usage)
        if not _mute_gone_readers():
            raise
        code = EXIT_BROKEN_PIPE
    except SystemExit as e:  # argparse: --help (0), a usage error (2, its message already printed)
        if not isinstance(e.code, int | None):
            raise  # a message as the code: Python's own exit prints it
        code = e.code or 0
    atexit._run_exitfuncs()
    # What Python's own exit flushes: each standard stream that exists and is open (a command may
    # have put something else in sys.stdout, even None or a closed file).
    if _open_stream(sys.stdout):
        try:
            sys.stdout.flush()
        except BrokenPipeError:  # the output was still buffered when its reader exited
            code = _reader_gone()
        except OSError as e:  # e.g. a full disk under `> file`: Python's own exit reports this as status 120
            _tell(f"idm-gate: error: could not write standard output: {e.strerror or e}")
            code = code or 120
    if _open_stream(sys.stderr):
        try:
            sys.stderr.flush()
        except OSError:
            pass
    os._exit(code)


if __name__ == "__main__":
    entry()
