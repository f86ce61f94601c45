"""`idm-gate action`: the container action, an adapter over the same code the CLI runs.

Order matters: the token is masked before anything else is printed, and nothing prints it after.
The verdict and the exit code come from the gate alone; comments and statuses only report them, so a
write that fails (a fork PR's read-only token) is a warning, never a different outcome.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .data import ModelStatus, Verdict
from .errors import InputError
from .github.runner import PR_EVENTS

if TYPE_CHECKING:
    from .data import Measurement, Policy
    from .gate import CheckOptions
    from .github.client import GitHubClient
    from .github.commands import OutputsWriter
    from .github.runner import RunnerContext
    from .manifest import Manifest
    from .messages import Messages
    from .verdicts import CheckResult

MODES = ("auto", "check", "record", "measure", "publish")
COMMENT_MODES = ("always", "on-change", "on-regression", "never")


class Log:
    """Everything the action prints goes through here: untrusted text cannot start a workflow command."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def line(self, text: str = "") -> None:
        from .github.commands import neutralize

        self.out.write(neutralize(text) + "\n")
        self.out.flush()

    def command(self, cmd: str) -> None:
        self.out.write(cmd + "\n")
        self.out.flush()

    def warn(self, message: str) -> None:
        from .github.commands import annotation

        self.command(annotation("warning", message))

    def notice(self, message: str) -> None:
        from .github.commands import annotation

        self.command(annotation("notice", message))


class PlainLog(Log):
    """``Log`` for a terminal (``idm-gate publish``): warnings and notices as plain lines on standard
    error, workflow commands (annotations, masks) dropped, since no runner reads them."""

    def __init__(self, messages: Messages | None = None) -> None:
        super().__init__()
        from .messages import Messages

        self.messages = messages or Messages(color="never")

    def command(self, cmd: str) -> None:
        pass

    def warn(self, message: str) -> None:
        self.messages.warn(message)

    def notice(self, message: str) -> None:
        self.messages.error(message, kind="notice")


def _choice(name: str, value: str, allowed: Collection[str]) -> str:
    if value not in allowed:
        raise InputError(f"input {name}: {value!r} is not valid; use one of {' | '.join(allowed)}")
    return value


def _inside(base: Path, rel: str, name: str, start: Path | None = None) -> Path:
    """``start / rel`` (``start`` defaults to ``base``) resolved; an error when it leaves ``base``."""
    p = ((start or base) / rel).resolve()
    if p != base.resolve() and base.resolve() not in p.parents:
        raise InputError(f"input {name}: {rel!r} points outside the workspace {base}; use a path inside it")
    return p


def resolve_mode(mode: str, ctx: RunnerContext) -> str:
    if mode != "auto":
        return mode
    if ctx.event_name in ("pull_request", "pull_request_target", "merge_group"):
        return "check"
    if ctx.event_name == "push" and ctx.default_branch and ctx.ref == f"refs/heads/{ctx.default_branch}":
        return "record"
    if ctx.event_name == "workflow_run":
        return "publish"
    return "measure"


def run(environ: Mapping[str, str] | None = None, out: TextIO | None = None) -> int:
    from .github.commands import OutputsWriter, add_mask
    from .github.runner import get_bool_input, get_input, read_context

    env = os.environ if environ is None else environ
    log = Log(out)
    token = get_input("github-token", "", env) or ""
    if token:
        log.command(add_mask(token))  # before anything else is printed
    ctx = read_context(env)
    workspace = Path(ctx.workspace or os.getcwd())
    workdir = _inside(workspace, get_input("working-directory", ".", env), "working-directory")
    if not workdir.is_dir():
        raise InputError(f"input working-directory: {workdir} is not a folder in the workspace")
    manifest_rel = get_input("manifest", "idm.yaml", env)
    manifest = _inside(workspace, manifest_rel, "manifest", start=workdir)
    report_input = get_input("report", None, env)
    report_path = (_inside(workspace, report_input, "report", start=workdir) if report_input
                   else default_report_path(workspace, manifest))
    shard = get_input("shard", None, env)
    measured = _measured_reports(workspace, workdir, get_input("measured-report", None, env))
    mode = resolve_mode(_choice("mode", get_input("mode", "auto", env), MODES), ctx)
    comment_mode = _choice("comment", get_input("comment", "on-change", env), COMMENT_MODES)
    fail_on_regression = get_bool_input("fail-on-regression", True, env)
    branch = get_input("baseline-branch", "idm-baselines", env)
    baseline_key = get_input("baseline-key", None, env)  # empty: the manifest's path from the repository's top
    status_context = get_input("status-context", "", env) if ("INPUT_STATUS-CONTEXT" in env) else "idm-gate"
    key = get_input("comment-key", "default", env)
    author = get_input("comment-author", None, env)
    outputs = OutputsWriter(env.get("GITHUB_OUTPUT") or None)
    summary_path = env.get("GITHUB_STEP_SUMMARY") or None

    # Before anything is written: become the workspace's owner (the runner's user) when started as root,
    # so git objects, refs, the index and the report stay the runner user's (github/container.py).
    from .github.container import become_workspace_owner

    become_workspace_owner(workspace, env, log.warn)
    # Where we stay root (root owns the workspace, or the switch was refused): let git work there, for
    # this process only (command-line scope, which safe.directory honours), without touching any config
    # file. Appended to any GIT_CONFIG_* entries the workflow already set, never replacing them.
    try:
        n = int(os.environ.get("GIT_CONFIG_COUNT", "0") or 0)
    except ValueError:
        raise InputError(f"GIT_CONFIG_COUNT: {os.environ['GIT_CONFIG_COUNT']!r} is not a number") from None
    os.environ[f"GIT_CONFIG_KEY_{n}"] = "safe.directory"
    os.environ[f"GIT_CONFIG_VALUE_{n}"] = str(workspace)
    os.environ["GIT_CONFIG_COUNT"] = str(n + 1)
    os.chdir(workdir)
    shown = manifest_rel
    log.line(f"idm-gate: mode {mode} ({ctx.event_name or 'no event'}), manifest {shown}")
    if ctx.event_name in PR_EVENTS and ctx.event_action == "closed":
        # After a merge or a close there is nothing to gate: rewriting the comment or the status now
        # would report on a PR nobody can change any more (and a ❌ must not turn ✅ after the fact).
        log.notice(f"pull request #{ctx.pr_number} was closed: idm-gate leaves its comment and status as "
                   "they are (drop 'closed' from the workflow's pull_request types to skip this run)")
        return 0
    if mode in ("check", "measure") and (ctx.event_name in PR_EVENTS or ctx.event_name == "merge_group"):
        _require_measured_commit(ctx, mode)
    if mode in ("check", "publish") and key != "default" and status_context == "idm-gate":
        # GitHub keeps the latest status per context: with two gates on one commit and one context, the
        # second gate's ✅ replaces the first one's ❌ and a required `idm-gate` status passes the PR.
        log.warn(f"comment-key {key!r} with the default status-context 'idm-gate': another gate's step on this "
                 "commit replaces this status (GitHub keeps the latest status per context); give each gate its "
                 f"own, e.g. status-context: idm-gate/{key}")

    if shard and mode != "measure":
        raise InputError(f"input shard: only mode measure measures a part (mode is {mode}); gate the merged parts "
                         "with measured-report in the final job")
    if measured and mode not in ("check", "record"):
        raise InputError(f"input measured-report: only modes check and record take a report (mode is {mode})")
    if mode == "measure":
        return _measure(manifest, shown, ctx, report_path, outputs, summary_path, log, shard)
    if mode == "record":
        from .gate import record

        sha, m, where = record(manifest, shown, "branch", branch, warn=log.warn, key=baseline_key,
                               report=measured, report_flag="input measured-report")
        log.line(f"idm-gate: recorded {len(m.models)} model(s) for {sha[:12]} in {where}")
        _write_measure_outputs(m, report_path, outputs, ctx)
        return 0
    if mode not in ("check", "publish"):
        raise InputError(f"input mode: {mode!r} is not valid; use one of {' | '.join(MODES)}")

    from dataclasses import replace

    from .gate import CheckOptions, check
    from .report.axis import parse_axis

    policy, terms = _input_policy(env)
    axis = parse_axis(get_input("frontier-axis", "size", env), "input frontier-axis")
    client = None
    if mode == "check":
        if ctx.event_name == "merge_group":
            # a merge queue: check the group's commit against the commit of the target branch it
            # was built on; there is no pull request to comment on, the status goes on the group
            if not ctx.base_sha and not ctx.base_ref:
                raise InputError("mode check: the merge_group event payload names no base_sha or base_ref")
            base = ctx.base_sha or f"origin/{ctx.base_ref}"
        elif ctx.pr_number is None or not ctx.base_ref:
            raise InputError("mode check: needs a pull_request or merge_group event (GITHUB_BASE_REF and the PR "
                             "in the event payload); use mode record or measure for other events")
        else:
            base = f"origin/{ctx.base_ref}"
        opts = CheckOptions(base_ref=base, branch=branch, cli_policy=policy, baseline_key=baseline_key,
                            policy_terms=terms, report=measured, report_flag="input measured-report")
        res = check(manifest, shown, opts, log.warn)
        number, head_sha = ctx.pr_number, ctx.commit_sha
    else:
        published = publish_check(ctx, token, manifest, shown, report_path, log,
                                  CheckOptions(base_ref="", branch=branch, cli_policy=policy, baseline_key=baseline_key,
                                               policy_terms=terms))
        if published is None:
            return 0
        res, client, number, head_sha = published
        # the uploaded report is input here: the gate's report goes beside it, never over it
        report_path = report_path.with_name(report_path.stem + "-check.json")
    if not axis.is_size:
        res = replace(res, frontier_axis=axis.spec)
    # an annotation's file is relative to the repository's top (the workspace), not to working-directory
    annotated = manifest.relative_to(workspace.resolve()).as_posix()
    return _deliver(res, ctx, token, client, number, head_sha, (key, author), comment_mode, status_context,
                    fail_on_regression, report_path, annotated, outputs, summary_path, log, env=env)


# The policy inputs: Policy field -> input name. Like the CLI's flags they fill in what the base commit's
# gate: leaves unset or tighten it, never loosen it (idm_gate.policy.tighten).
POLICY_INPUTS = {"max_drop": "max-drop", "warn_drop": "warn-drop", "min_tokens_per_s": "min-tokens-per-s",
                 "max_latency_ms": "max-latency-ms", "max_peak_memory_gb": "max-peak-memory-gb",
                 "max_energy_per_token_j": "max-energy-per-token-j", "max_throughput_drop": "max-throughput-drop",
                 "min_group_density": "min-group-density"}


def _input_policy(env: Mapping[str, str]) -> tuple[Policy, dict[str, str]]:
    """The policy the inputs give, and how the user wrote each one set ({"max_drop": "input max-drop: 5%"}).

    Relative inputs (``max-drop``, ``warn-drop``, ``max-throughput-drop``) take ``5%`` or ``0.05``; the
    inference budgets and ``min-group-density`` a number in their unit (tokens/s, ms, GB of 10^9 bytes, J per
    token, the manifest's density unit) within the bounds ``gate:`` in a manifest allows, as the CLI's flags do.
    """
    from .data import Policy
    from .github.runner import get_input
    from .manifest import number_flag, relative_flag
    from .policy import RELATIVE

    raw = {field: get_input(name, None, env) for field, name in POLICY_INPUTS.items()}
    values = {field: relative_flag(v, f"input {POLICY_INPUTS[field]}") if field in RELATIVE
              else number_flag(v, f"input {POLICY_INPUTS[field]}", field) for field, v in raw.items()}
    terms = {field: f"input {POLICY_INPUTS[field]}: {raw[field]}" for field, v in values.items() if v is not None}
    policy = Policy(max_drop=values["max_drop"], warn_drop=values["warn_drop"],
                    min_tokens_per_s=values["min_tokens_per_s"], max_latency_ms=values["max_latency_ms"],
                    max_peak_memory_gb=values["max_peak_memory_gb"],
                    max_energy_per_token_j=values["max_energy_per_token_j"],
                    max_throughput_drop=values["max_throughput_drop"], min_group_density=values["min_group_density"])
    return policy, terms


def _measured_reports(workspace: Path, workdir: Path, pattern: str | None) -> tuple[Path, ...]:
    """The files input ``measured-report`` names: one report, or a glob over the parts of a sharded
    measure run (``.idm-gate/parts/part-*.json``, as download-artifact leaves them); () when unset."""
    if not pattern:
        return ()
    import glob

    _inside(workspace, pattern, "measured-report", start=workdir)  # the pattern's fixed part stays inside
    found = sorted(glob.glob(str(workdir / pattern), recursive=True)) if glob.has_magic(pattern) else \
        [str(workdir / pattern)]
    paths = tuple(_inside(workspace, f, "measured-report") for f in found)
    if not paths:
        raise InputError(f"input measured-report: {pattern!r} matches no file; download the measure jobs' "
                         "artifacts first (actions/download-artifact)")
    return paths


def _measure(manifest: Path, shown: str, ctx: RunnerContext, report_path: Path, outputs: OutputsWriter,
             summary_path: str | None, log: Log, shard: str | None = None) -> int:
    from .github.commands import SUMMARY_LIMIT, append_summary
    from .manifest import load_manifest
    from .measure import measure, repo_root
    from .report.markdown import render_measurement

    man = load_manifest(manifest, shown)
    extra: dict[str, Any] = {}
    if shard:
        from .cli import _head
        from .shard import parse_shard, select

        index, count = parse_shard(shard)
        part = select(man, index, count)
        root = repo_root(man.base_dir)
        m = measure(part, root)
        extra = {"part": (man, part, index, count, _head(root))}
    else:
        m = measure(man)
    _write_measure_outputs(m, report_path, outputs, ctx, **extra)
    append_summary(summary_path, render_measurement(m, limit=SUMMARY_LIMIT - 4096))
    what = f"part {extra['part'][2]} of {extra['part'][3]}: " if extra else ""
    log.line(f"idm-gate: measured {what}{len(m.models)} model(s); report written to {report_path.name}")
    return 0


def _write_measure_outputs(m: Measurement, report_path: Path, outputs: OutputsWriter, ctx: RunnerContext,
                           part: tuple[Manifest, Manifest, int, int, str | None] | None = None) -> None:
    from .serialize import dumps, measurement_to_dict

    doc = measurement_to_dict(m)
    if part is not None:
        from .shard import part_doc

        doc = part_doc(doc, *part)
    if ctx.pr_number is not None or ctx.head_sha:
        doc["context"] = {"pr_number": ctx.pr_number, "head_sha": ctx.commit_sha}
    _atomic_write(report_path, dumps(doc))
    outputs.set("report-path", report_output(report_path, ctx.workspace))
    worst = min(m.models, key=lambda x: x.density, default=None)
    outputs.set("density", f"{worst.density:.6g}" if worst else "")


REPORT_DIR = ".idm-gate"  # beside .git at the workspace's top; ignores itself (see default_report_path)


def default_report_path(workspace: Path, manifest: Path) -> Path:
    """Where a run's report goes when the ``report`` input is empty: ``.idm-gate/<manifest path>.json``.

    In the workspace, so that ``report-path`` is a path ``actions/upload-artifact`` and later steps find
    as given (outside the container too: see ``report_output``); ``/`` in the manifest's path becomes
    ``--``, so two gates in one job write two reports. The folder holds a ``.gitignore`` of ``*`` (as
    pytest's cache does), so it never shows in ``git status`` nor gets added by ``git add -A``.
    """
    rel = manifest.relative_to(workspace.resolve()).as_posix()
    return workspace.resolve() / REPORT_DIR / (rel.replace("/", "--") + ".json")


def report_output(path: Path, workspace: str | None) -> str:
    """``report-path`` as the next steps see it: relative to the workspace when inside it.

    A container action sees the workspace as /github/workspace, a path that does not exist on the
    runner where ``upload-artifact`` runs; relative to the workspace (its working directory) it does.
    """
    if workspace:
        try:
            return path.relative_to(Path(workspace).resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


def _atomic_write(path: Path, text: str) -> None:
    """Write the report at ``path`` whole or not at all; a folder that is missing is the user's to fix.

    Except idm-gate's own ``.idm-gate`` folder, made on demand with its ``.gitignore``; also when the
    report is deeper in it (publish mode's ``.idm-gate/artifact/``, made by download-artifact).
    """
    own = next((p for p in path.parents if p.name == REPORT_DIR), None)
    if own is not None:
        try:
            (path.parent if path.parent == own else own).mkdir(parents=True, exist_ok=True)
            ignore = own / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# idm-gate's reports: never committed\n*\n", encoding="utf-8")
        except OSError as e:
            raise InputError(f"input report: cannot create {path.parent} ({e.strerror}); name a writable file "
                             "in the `report` input") from None
    if not path.parent.is_dir():
        raise InputError(f"input report: the folder {path.parent} does not exist; create it in an earlier step "
                         "or name a file in an existing folder")
    from .paths import write_atomic

    try:
        write_atomic(path, text)
    except OSError as e:
        raise InputError(f"input report: cannot write {path} ({e.strerror}); name a writable file") from None


def publish_check(ctx: RunnerContext, token: str | None, manifest: Path, shown: str, report_path: Path, log: Log,
                  opts: CheckOptions) -> tuple[CheckResult, GitHubClient, int, str] | None:
    """Mode publish (the action's and ``idm-gate publish``'s): the measure run's report, gated here.

    Finds the PR ``ctx.head_sha`` belongs to (``find_pull_request``), then checks the report's
    measurement against the baseline and the policy at the PR's base commit (``opts.base_ref`` is
    replaced by it). Returns (CheckResult, client, PR number, head SHA), or None when there is
    nothing to publish (superseded run, closed PR; a notice says which). ``InputError`` for a report
    that is not idm-gate's, is edited, or claims another commit or PR.
    """
    from dataclasses import replace

    from .gate import check

    found = _publish_inputs(ctx, token, report_path, log)
    if found is None:
        return None
    client, number, head_sha, current, merge_base = found
    res = check(manifest, shown, replace(opts, base_ref=merge_base), log.warn, current=current, merge_base=merge_base)
    return res, client, number, head_sha


def _publish_inputs(ctx: RunnerContext, token: str | None, report_path: Path,
                    log: Log) -> tuple[GitHubClient, int, str, Measurement, str] | None:
    """Read the untrusted report; find the PR from the upstream run's head SHA through the API."""
    from .github.client import make_client
    from .paths import EVAL_FILE_CAP, read_capped
    from .serialize import loads_strict, measurement_from_dict

    if ctx.event_name != "workflow_run" or not ctx.head_sha:
        raise InputError("mode publish: runs in a workflow_run workflow (it needs workflow_run.head_sha)")
    shown = f"report {report_path.name}"
    doc = loads_strict(read_capped(report_path, EVAL_FILE_CAP, shown, str(report_path)), shown)
    if not isinstance(doc, dict):
        raise InputError(f"{shown}: not a JSON object; expected the report idm-gate measure wrote")
    claimed = doc.pop("context", None)
    if claimed is not None and (not isinstance(claimed, dict) or claimed.get("head_sha") not in (None, ctx.head_sha)
                                or not isinstance(claimed.get("pr_number"), (int, type(None)))):
        raise InputError(f"{shown}: its context ({str(claimed)[:120]}) is not about the run's head commit "
                         f"{ctx.head_sha[:12]}; refusing a report for another commit or PR")
    claimed_number = claimed.get("pr_number") if isinstance(claimed, dict) else None
    if "shard" in doc:
        raise InputError(f"{shown}: one part of a sharded measure run, not a whole report; join the parts first "
                         "(idm-gate merge part-*.json -o report.json) and upload the merged report")
    current = measurement_from_dict(doc, shown)
    client = make_client(token or None, ctx.api_url)
    pr = find_pull_request(client, ctx, claimed_number, log)
    if pr is None:
        return None
    number = pr["number"]
    if claimed_number is not None and claimed_number != number:
        raise InputError(f"{shown}: context names PR {claimed_number}, but the run's head {ctx.head_sha[:12]} "
                         f"belongs to PR #{number}; refusing a report for another PR")
    # As in a pull_request run, whose merge commit has the base tip as first parent: the baseline is
    # looked up from the base branch's commit the PR is measured against.
    merge_base = (pr.get("base") or {}).get("sha")
    if not isinstance(merge_base, str) or not merge_base:
        raise InputError(f"mode publish: PR #{number} has no base commit in the API's answer")
    return client, number, ctx.head_sha, current, merge_base


def _full(repo_obj: object) -> str:
    return str((repo_obj or {}).get("full_name") or "").lower() if isinstance(repo_obj, dict) else ""


def find_pull_request(client: GitHubClient, ctx: RunnerContext, claimed_number: int | None,
                      log: Log) -> dict[str, Any] | None:
    """The open PR of this repository whose head is ``ctx.head_sha`` on ``ctx.head_repository``.

    GitHub gives no single way for every case: ``workflow_run.pull_requests`` is empty for a fork, and
    ``commits/{sha}/pulls`` answers [] for a fork's head commit (it is not in this repository). So the
    candidates are: the PR number the measure run wrote (a claim, checked here against the API), the
    number in the payload, ``commits/{sha}/pulls`` (same-repository PRs) and ``pulls?head=<owner>:<branch>``
    (forks). Only a candidate whose head repository is the run's head repository, whose base is this
    repository, and whose head commit is the run's head counts: another fork's PR from a branch of the
    same name never does. None (with a notice) when the run is superseded or the PR closed.
    """
    from .github.client import GitHubAPIError

    head_sha = ctx.head_sha
    assert head_sha, "checked by _publish_inputs"
    if not ctx.head_repository:
        raise InputError("mode publish: the workflow_run payload has no head_repository (a deleted fork?); "
                         "nothing to publish to")
    this, head_repo = f"{ctx.owner}/{ctx.repo}".lower(), ctx.head_repository.lower()
    candidates: dict[int, dict[str, Any]] = {}

    def consider(pr: object) -> None:
        if isinstance(pr, dict) and isinstance(pr.get("number"), int) and \
                _full((pr.get("head") or {}).get("repo")) == head_repo and \
                _full((pr.get("base") or {}).get("repo")) == this:
            candidates.setdefault(pr["number"], pr)

    for number in {n for n in (claimed_number, ctx.pr_number) if isinstance(n, int)}:
        try:
            consider(client.get_pull(ctx.owner, ctx.repo, number))
        except GitHubAPIError as exc:
            if exc.status != 404:
                raise
    for pr in client.pulls_for_commit(ctx.owner, ctx.repo, head_sha):
        consider(pr)
    if ctx.head_owner and ctx.head_branch:
        for pr in client.list_pulls(ctx.owner, ctx.repo, head=f"{ctx.head_owner}:{ctx.head_branch}"):
            consider(pr)
    open_prs = [pr for pr in candidates.values() if pr.get("state") == "open"]
    exact = [pr for pr in open_prs if (pr.get("head") or {}).get("sha") == head_sha]
    if len(exact) == 1:
        return exact[0]
    claimed = [pr for pr in exact if pr["number"] == claimed_number]
    if len(exact) > 1 and claimed:
        return claimed[0]   # the measure run's claim decides between PRs that all match it
    if len(exact) > 1:
        numbers = ", ".join("#" + str(p["number"]) for p in exact)
        raise InputError(f"mode publish: {len(exact)} open pull requests ({numbers}) "
                         f"have head {head_sha[:12]} from {ctx.head_repository}; cannot tell which one this run "
                         "measured")
    moved = [pr for pr in open_prs if (pr.get("head") or {}).get("sha") != head_sha]
    if moved:
        pr = moved[0]
        log.notice(f"PR #{pr['number']} has moved on to {str(pr['head'].get('sha'))[:12]} since this run measured "
                   f"{head_sha[:12]}: this result is superseded, the run for the new head publishes instead")
        return None
    closed = [pr for pr in candidates.values() if pr.get("state") == "closed"]
    if closed:
        log.notice(f"PR #{closed[0]['number']} is closed: idm-gate leaves its comment and status as they are")
        return None
    if ctx.triggering_event not in (None, "pull_request", "pull_request_target"):
        log.notice(f"the measure run was triggered by {ctx.triggering_event}, not by a pull request: nothing to "
                   "publish")
        return None
    raise InputError(f"mode publish: no open pull request of {ctx.owner}/{ctx.repo} has head {head_sha[:12]} "
                     f"from {ctx.head_repository} (branch {ctx.head_branch or '?'}); was the measure workflow run "
                     "for a pull request?")


def _require_measured_commit(ctx: RunnerContext, mode: str) -> None:
    """Refuse to report on a commit other than the one checked out (and so measured).

    A pull request is measured at its head or at its test merge commit (refs/pull/N/merge, whose second
    parent is the head); a merge group at ``merge_group.head_sha``. ``pull_request_target`` checks out the
    base branch by default: measuring that and posting ✅ on the PR would vouch for code never looked at.
    """
    from .gitutil import Git

    git = Git(Path.cwd())
    if git.toplevel() is None or not ctx.head_sha:
        return  # not a checkout: measure needs none, and check says so itself
    head = git.rev_parse("HEAD")
    if head == ctx.head_sha:
        return
    if ctx.event_name != "merge_group":
        # from the commit object itself: in actions/checkout's default shallow clone (fetch-depth 1)
        # the merge commit is a shallow boundary, whose parents rev-list does not show
        parents = [ln.split()[1] for ln in git.run("cat-file", "commit", "HEAD").splitlines()
                   if ln.startswith("parent ")]
        if len(parents) == 2 and parents[1] == ctx.head_sha:
            return
        what = f"pull request #{ctx.pr_number}'s head {ctx.head_sha[:12]} nor its merge commit"
    else:
        what = f"the merge group's head {ctx.head_sha[:12]}"
    hint = (" (pull_request_target checks out the base branch unless told otherwise)"
            if ctx.event_name == "pull_request_target" else "")
    raise InputError(f"mode {mode} ({ctx.event_name}): the checkout is {head[:12]}, not {what}{hint}; idm-gate "
                     "only reports on the commit it measured. Safe setups: on pull_request with actions/checkout's "
                     "default ref, or for forks the two workflows idm-gate-measure.yml (pull_request) + "
                     "idm-gate-publish.yml (workflow_run) from examples/workflows")


def _deliver(res: CheckResult, ctx: RunnerContext, token: str | None, client: GitHubClient | None,
             number: int | None, head_sha: str | None, comment_id: tuple[str, str | None], comment_mode: str,
             status_context: str, fail_on_regression: bool, report_path: Path | None, shown: str,
             outputs: OutputsWriter, summary_path: str | None, log: Log, env: Mapping[str, str] | None = None,
             echo: bool = True) -> int:
    """``comment_id`` is (comment-key, comment-author or None: the token's own login, else github-actions[bot]).

    The comment is rendered to fit GitHub's limit and the job summary to fit the runner's 1 MiB, each
    with the failing and warning models first; commits are linked from GITHUB_SERVER_URL/GITHUB_REPOSITORY.
    ``echo=False`` leaves out the text report (the CLI has printed it already).
    """
    from .color import PLAIN
    from .github.client import make_client, try_write
    from .github.commands import SUMMARY_LIMIT, annotation, append_summary
    from .github.comment import COMMENT_LIMIT, MARKER_ROOM, upsert_comment
    from .github.status import set_status
    from .report import renderer
    from .report.check_markdown import Provenance, render_markdown, render_markdown_parts

    if report_path is not None:
        _atomic_write(report_path, renderer("json").render_check(res, PLAIN))
    if echo:
        log.line(renderer("text").render_check(res, PLAIN))
    prov = Provenance.from_env(os.environ if env is None else env, pr_head=head_sha)
    head, details = render_markdown_parts(res, prov, limit=COMMENT_LIMIT - MARKER_ROOM)
    worst = res.worst_model()
    outputs.set("verdict", res.verdict)
    # the compared figures (common tasks, this run's log_base), as in the comment's table, so that
    # delta-pct is the change from baseline-density to density
    shown_density = (worst.cur or worst.current) if worst else None
    outputs.set("density", f"{shown_density.density:.6g}" if shown_density else "")
    outputs.set("baseline-density", f"{worst.base.density:.6g}" if worst and worst.base else "")
    outputs.set("delta-pct", f"{worst.delta_rel * 100:.2f}" if worst and worst.delta_rel is not None else "")
    outputs.set("report-path", report_output(report_path, ctx.workspace) if report_path is not None else "")
    for v in res.models:
        if v.verdict is not Verdict.PASS:
            log.command(annotation("error" if v.verdict is Verdict.FAIL else "warning",
                                   f"{v.name}: " + "; ".join(v.reasons), file=shown, title="idm-gate"))

    comment_url = ""
    wrote_comment = False
    if comment_mode != "never" and number is not None and token:
        client = commenter = client or make_client(token, ctx.api_url)
        changed = any(v.status is not ModelStatus.UNCHANGED for v in res.models)
        create = (comment_mode == "always" or (comment_mode == "on-change" and changed)
                  or (comment_mode == "on-regression" and res.verdict is not Verdict.PASS))
        key, author = comment_id
        result = try_write(lambda: upsert_comment(commenter, ctx.owner, ctx.repo, number, key, head, details=details,
                                                  create=create, author=author), log.warn, "PR comment")
        if result is not None:
            wrote_comment = result.action != "skipped"
            comment_url = result.url or ""
            log.line(f"idm-gate: PR comment {result.action}{': ' + comment_url if comment_url else ''}")
    outputs.set("comment-url", comment_url)
    if status_context and head_sha and token:
        client = poster = client or make_client(token, ctx.api_url)
        desc = _status_description(res)
        try_write(lambda: set_status(poster, ctx.owner, ctx.repo, head_sha, res.verdict, status_context, desc),
                  log.warn, "commit status")
    if comment_mode != "never" and number is not None and not wrote_comment and not token:
        log.warn("no github-token: the PR comment is in the job summary instead")
    # the summary file is this step's own; a few KiB spare for the cut note append_summary may add
    append_summary(summary_path, render_markdown(res, prov, limit=SUMMARY_LIMIT - 4096))
    if res.verdict is Verdict.FAIL and fail_on_regression:
        return 1
    return 0


def _status_description(res: CheckResult) -> str:
    w = res.worst_model()
    if w is None:
        return f"{res.verdict}: no models"
    change = f"density {w.delta_rel * 100:+.1f} %" if w.delta_rel is not None else w.status
    # a warning's description is "warning: ..." (status_for adds that), not "warning: warn: ..."
    return f"{w.name} {change}" if res.verdict is Verdict.WARN else f"{res.verdict}: {w.name} {change}"
