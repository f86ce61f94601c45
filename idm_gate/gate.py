"""`record` and `check`: measurement + git + baseline store + policy -> CheckResult.

The policy and the baseline come from the base side, never from the PR's tree:
- the gate policy is read from the manifest *as committed at the merge base* (``git show``);
- CLI flags (and the action's inputs) only fill in what that leaves unset, or tighten it;
- the baseline record comes from the store (a branch the PR does not control, or a file read at the
  base commit).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, metric
from .compare import compare
from .data import LogBase, Measurement, ModelStatus, Policy, Verdict
from .errors import InputError
from .gitutil import Git
from .manifest import Manifest, digest_of, load_manifest, parse_manifest
from .measure import measure
from .policy import at_base, costs_at_base, follow_renames, introduced
from .verdicts import CheckResult, RecordedDensity

if TYPE_CHECKING:
    from .retry import RetryPolicy
    from .store import BaselineStore

Warn = Callable[[str], None]


def model_policies(man: Manifest) -> dict[str, Policy]:
    return {m.name: m.gate.over(man.gate) for m in man.models}


@dataclass
class Repo:
    git: Git
    root: Path
    manifest_rel: str  # the manifest's path relative to the repository root (posix)

    def gate_key(self, explicit: str | None = None) -> str:
        """The key this manifest's baselines are filed under: ``explicit`` when given, else ``manifest_rel``."""
        from .store.records import check_gate_key

        return check_gate_key(explicit) if explicit is not None else self.manifest_rel


def open_repo(manifest_path: Path, shown: str) -> Repo:
    folder = manifest_path.resolve().parent if manifest_path.exists() else Path.cwd()
    git = Git(folder)
    root = git.toplevel()
    if root is None:
        refusal = git.ownership_refusal()
        if refusal:
            at = refusal.rsplit(" at ", 1)[-1].strip("'") if " at '" in refusal else str(folder)
            raise InputError(f"{shown}: git refuses the repository, which another user owns ({refusal}); run "
                             f"idm-gate as that user, or trust the folder: git config --global --add safe.directory "
                             f"{at}")
        raise InputError(f"{shown}: not inside a git repository; record and check need one (measure does not)")
    try:
        rel = manifest_path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise InputError(f"{shown}: the manifest is outside the repository at {root}") from None
    return Repo(Git(root), root, rel)


def warn_if_dirty(repo: Repo, consequence: str, warn: Warn) -> None:
    """Warn when tracked files differ from HEAD (staged or not): what is measured is not the commit."""
    changed = repo.git.changed_tracked_files()  # never `git diff`: it would rewrite the user's index
    if changed:
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        warn(f"tracked files differ from HEAD ({', '.join(changed[:3])}{more}); {consequence}")


def build_record(sha: str, m: Measurement, repo: Repo, key: str) -> dict[str, Any]:
    from .github.runner import ref_name
    from .serialize import measurement_to_dict

    branch = (ref_name()
              or repo.git.exec("symbolic-ref", "--short", "-q", "HEAD").stdout.decode().strip())
    return {
        "commit": sha,
        "branch": branch or None,
        "recorded_at": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
        "tool_version": __version__,
        "manifest": repo.manifest_rel,
        "gate_key": key,
        "manifest_digest": m.manifest_digest,
        "fingerprint": {x.name: x.fingerprint for x in m.models},
        "report": measurement_to_dict(m),
    }


def _report_of_head(paths: tuple[Path, ...], man: Manifest, repo: Repo, flag: str) -> Measurement:
    """The report (or the merged parts) ``paths`` name, checked to be of HEAD and of ``man``."""
    from .shard import load_measured, load_report

    head = repo.git.rev_parse("HEAD")
    if len(paths) == 1 and flag == "--report":
        return load_report(paths[0], man, head, flag)
    return load_measured(list(paths), man, head, flag)


def record(manifest_path: Path, shown: str, store_spec: str, branch: str, remote: str = "origin",
           retry: RetryPolicy | None = None, warn: Warn | None = None, key: str | None = None,
           report: tuple[Path, ...] = (),
           report_flag: str = "--report") -> tuple[str, Measurement, str]:
    """Measure HEAD (or take ``report``, a report of HEAD from measure or merge) and store its record
    under the gate ``key`` (default: the manifest's path from the repository's top). Returns (sha,
    measurement, store description)."""
    from .store import open_store

    repo = open_repo(manifest_path, shown)
    gate_key = repo.gate_key(key)
    sha = repo.git.rev_parse("HEAD")
    man = load_manifest(manifest_path, shown)
    if report:
        m = _report_of_head(report, man, repo, report_flag)
    else:
        if warn:
            warn_if_dirty(repo, f"the record for {sha[:12]} is of the working tree as it is now", warn)
        m = measure(man, repo.root)
    kw = {"warn": warn} if warn else {}
    store = open_store(store_spec, repo.git, key=gate_key, remote=remote, branch=branch, retry=retry, **kw)
    store.put(sha, build_record(sha, m, repo, gate_key))
    return sha, m, f"{store.description} under gate key {gate_key!r}"


@dataclass(frozen=True)
class CheckOptions:
    base_ref: str
    store_spec: str = "branch"
    branch: str = "idm-baselines"
    remote: str = "origin"
    max_walk: int = 50
    cli_policy: Policy = Policy()
    require_baseline: bool = False
    baseline_key: str | None = None  # the gate key; None: the manifest's path from the repository's top
    # How the user gave each field of ``cli_policy`` ({"max_drop": "--max-drop 10%"}), for messages.
    policy_terms: dict[str, str] = field(default_factory=dict)
    # A report of this checkout to gate instead of measuring again (measure --format json, or merge
    # of measure --shard parts), or the parts themselves (the action's measured-report); (): measure.
    report: tuple[Path, ...] = ()
    report_flag: str = "--report"  # how messages name it


class _Remembering:
    """A store that keeps its last ``get_many`` question and answer (``asked``): check's walk to its
    baseline and the history charts' walk from there often ask the same commits, and
    :func:`history.read_history` then takes the answer instead of reading every record again."""

    def __init__(self, store: BaselineStore) -> None:
        self.store = store
        self.description = store.description
        self.key = store.key
        self.asked: tuple[list[str], dict[str, dict[str, Any]]] | None = None

    def get_many(self, shas: list[str]) -> dict[str, dict[str, Any]]:
        found = self.store.get_many(shas)
        self.asked = (list(shas), found)
        return found

    def put(self, sha: str, record: dict[str, Any]) -> None:
        self.store.put(sha, record)


def _baseline(store: BaselineStore, repo: Repo, start: str, max_walk: int, warn: Warn,
              current: Measurement, candidates: list[str]) -> tuple[str, Measurement, int] | None:
    """The nearest baseline record at or above ``start``, validated. A record's ``models`` entry identical,
    as canonical JSON, to the serialized form of one of ``current``'s models (what measure or a validated
    report gave: the report schema accepts it, tests/gate/test_measure.py checks measure's side) is not
    validated with jsonschema again: on an unchanged model the two are the same document. Every other
    check of the record still runs on every model."""
    from .manifest import model_entries
    from .serialize import measurement_from_dict, measurement_to_dict
    from .store import find_baseline

    valid = frozenset(e for e in model_entries(measurement_to_dict(current)["models"]) if e is not None)

    def parse(sha: str, rec: dict[str, Any]) -> Measurement | None:
        try:
            rep = rec.get("report")
            if not isinstance(rep, dict):
                raise InputError("the record has no report object")
            return measurement_from_dict(rep, f"baseline record {sha[:12]}", valid=valid)
        except InputError as e:
            warn(f"skipping the corrupt baseline record for {sha[:12]} ({e}); trying older commits")
            return None

    return find_baseline(store, repo.git, start, max_walk, parse, candidates=candidates)


def check(manifest_path: Path, shown: str, opts: CheckOptions, warn: Warn, *,
          current: Measurement | None = None, merge_base: str | None = None) -> CheckResult:
    """Gate this checkout (or, in publish mode, an already measured ``current`` against ``merge_base``)."""
    from .store import ensure_history, open_store

    repo = open_repo(manifest_path, shown)
    head: str | None = None
    if merge_base is None:
        base = ensure_history(repo.git, opts.base_ref, depth=opts.max_walk, remote=opts.remote)
        head = repo.git.rev_parse("HEAD")
        mb = repo.git.merge_base(head, base)
        if mb is None:
            raise InputError(f"--base-ref {opts.base_ref}: no common ancestor with HEAD; is it the right branch?")
    else:
        mb = ensure_history(repo.git, merge_base, depth=opts.max_walk, remote=opts.remote)
    notices: list[str] = []
    pr_only: dict[str, Policy] = {}  # a model's gate as the PR sets it, where it differs from the base's

    man: Manifest | None = None
    if current is None:
        man = load_manifest(manifest_path, shown)
        if opts.report:
            current = _report_of_head(opts.report, man, repo, opts.report_flag)
        else:
            warn_if_dirty(repo, "the check measures the working tree as it is now, not the commit", warn)
            current = measure(man, repo.root)
        pr_policies = model_policies(man)
        previous = {m.name: m.previous_names for m in man.models if m.previous_names}
    else:
        pr_policies = None  # publish mode: the PR's manifest is not read, so no policy-change notice
        previous = {}  # nor its previous_names: renames are followed where the manifest is read
    renames: dict[str, str] = {}  # current name -> the base commit's name it had

    base_bytes = repo.git.show_file(mb, repo.manifest_rel)
    found = None
    if base_bytes is None:
        if pr_policies is None:
            # publish mode: the PR's manifest was not read (its policy is not trusted here), so only what
            # the trusted workflow sets (the action's inputs) can apply; a gate starts with its first record.
            policies = introduced([x.name for x in current.models], None, opts.cli_policy)
            notices.append(f"{repo.manifest_rel} does not exist at the base commit {mb[:7]}: this PR introduces "
                           "the gate, so there is nothing to compare with yet (only the workflow's own limits apply)")
        else:
            # The PR introduces the gate: nothing to compare against, so its own absolute budgets apply.
            policies = introduced([x.name for x in current.models], pr_policies, opts.cli_policy)
            notices.append(f"{repo.manifest_rel} does not exist at the merge base {mb[:7]}: this PR introduces the "
                           "gate, so only its own absolute budgets apply")
    else:
        base_shown = f"{repo.manifest_rel}@{mb[:7]}"
        if man is not None and digest_of(base_bytes) == man.digest:
            # the PR leaves the manifest as it is: the same bytes parse to the same manifest
            base_man = replace(man, shown=base_shown)
        else:
            base_man = parse_manifest(base_bytes, manifest_path.resolve(), base_shown, beside=man)
        base_pol = model_policies(base_man)
        renames = follow_renames(previous, base_pol)
        if man is not None and not opts.report:
            current = _costs_at_base(man, base_man, renames, repo, current, notices, warn)
        gate = at_base([x.name for x in current.models], renames, base_pol, base_man.gate, base_man.log_base,
                       current.log_base, pr_policies, opts.cli_policy, opts.policy_terms)
        policies, pr_only = gate.policies, gate.pr_only
        notices.extend(gate.notices)
        for line in gate.warnings:
            warn(line)
        store = _Remembering(open_store(opts.store_spec, repo.git, key=repo.gate_key(opts.baseline_key),
                                        remote=opts.remote, branch=opts.branch, warn=warn))
        # one `git log` lists the merge base's first-parent line with dates, for the baseline and the charts
        walk = repo.git.first_parent_log(mb, opts.max_walk)
        found = _baseline(store, repo, mb, opts.max_walk, warn, current, [commit for commit, _ in walk])

    meta = {"merge_base": mb, "head_commit": head}
    if found is None:
        msg = f"no baseline found for the merge base {mb[:7]} or its {opts.max_walk - 1} first-parent ancestors"
        if opts.require_baseline:
            notices.append(msg + "; --require-baseline makes that a failure")
            res = compare(current, None, policies, renames, notices=notices, **meta)
            return replace(res, verdict=Verdict.FAIL)
        notices.append(msg + ": first run? `idm-gate record` on the base branch creates one")
        return _unfollowed(compare(current, None, policies, renames, notices=notices, **meta), previous, renames)
    sha, baseline, distance = found
    history, date = _recorded(store, repo, sha, baseline, opts.max_walk, current.log_base, warn,
                              walk if distance == 0 else None)
    res = compare(current, baseline, policies, renames, baseline_commit=sha, baseline_distance=distance,
                  baseline_date=date, notices=notices, history=history, **meta)
    return _unfollowed(_mark_policy_issues(res, pr_only), previous, renames)


def _costs_at_base(man: Manifest, base_man: Manifest, renames: dict[str, str], repo: Repo, current: Measurement,
                   notices: list[str], warn: Warn) -> Measurement:
    """``current`` measured again under :func:`policy.costs_at_base` (costs are policy) when the PR changed
    a task's costs, with its notices. ``current`` as it is when no costs changed, or when the base's costs do
    not fit the PR's file (a class it lacks): compare then counts the task's plain error."""
    if not any(e.costs is not None for m in (*man.models, *base_man.models) for e in m.evals):
        return current  # no costs on either side: none can have changed
    decided = costs_at_base([(m.name, m.evals) for m in man.models], {m.name: m.evals for m in base_man.models},
                            renames, man.shown)
    if not decided.notices:
        return current
    models = tuple(replace(m, evals=decided.evals[m.name]) for m in man.models)
    try:
        again = measure(replace(man, models=models), repo.root)
    except InputError as e:
        warn(f"the PR changes a classification task's costs, and its counts do not fit the base commit's costs ({e}); "
             "the task is compared on its plain error rate")
        return current
    notices.extend(decided.notices)
    return again


HISTORY_POINTS = 10  # recorded commits the comment's history charts show before the PR's point


def _recorded(store: _Remembering, repo: Repo, baseline_sha: str, baseline: Measurement, max_walk: int,
              log_base: LogBase, warn: Warn,
              walk: list[tuple[str, str | None]] | None) -> tuple[tuple[RecordedDensity, ...], str | None]:
    """The base branch's last ``HISTORY_POINTS`` recorded densities up to the baseline, oldest first, in
    ``log_base``'s unit (recomputed from size and error rate, so a record kept in the other base agrees),
    and the baseline commit's committer date (ISO 8601; None when git cannot tell). The baseline's
    record, already read and validated, is neither read nor validated again. ``walk``: the dated walk
    from the baseline when check's own walk started there (the baseline is the merge base): the charts
    take it, and the records the store gave for it, instead of asking git and the store again."""
    from .history import read_history

    asked = store.asked
    walked = (walk, asked[1]) if walk is not None and asked is not None and asked[0] == [c for c, _ in walk] else None
    entries = read_history(store, repo.git, baseline_sha, limit=HISTORY_POINTS, max_walk=max_walk, warn=warn,
                           parsed={baseline_sha: baseline}, walked=walked)
    # the walk's `git log` dated every commit it listed, the baseline's among them (its newest entry)
    newest = entries[-1] if entries else None
    date = newest.date if newest is not None and newest.commit == baseline_sha else _commit_date(repo.git, baseline_sha)
    return tuple(RecordedDensity(commit=e.commit, model=x.name,
                                 density=metric.density(x.error_rate, x.size_bytes, log_base))
                 for e in entries for x in e.measurement.models), date


def _unfollowed(res: CheckResult, previous: dict[str, tuple[str, ...]], renames: dict[str, str]) -> CheckResult:
    """Say so on a new model whose previous_names matched nothing at the base: it is compared with nothing."""
    out = []
    for v in res.models:
        if v.status is ModelStatus.NEW and v.name in previous:
            if v.name in renames:
                why = (f"previous name {renames[v.name]} is a model at the base commit but has no baseline "
                       "record, so this model is compared with nothing")
            else:
                why = (f"previous_names {', '.join(previous[v.name])}: none is a model at the base commit, so "
                       "this model is compared with nothing")
            v = replace(v, reasons=v.reasons + (why,))
        out.append(v)
    return replace(res, models=tuple(out))


def _commit_date(git: Git, sha: str) -> str | None:
    """The committer date of ``sha`` (ISO 8601), or None when git cannot tell."""
    proc = git.exec("show", "--no-show-signature", "-s", "--format=%cI", sha, "--")
    out = proc.stdout.decode("utf-8", "replace").strip()
    return (out or None) if proc.returncode == 0 else None


def _mark_policy_issues(res: CheckResult, pr_only: dict[str, Policy]) -> CheckResult:
    """Mark each failing model that the PR's own gate for it would pass: the fix is on the base branch."""
    from .compare import compare_model

    marked = []
    for v in res.models:
        pp = pr_only.get(v.name)
        if v.verdict is Verdict.FAIL and pp is not None and v.current is not None:
            again = compare_model(v.current, v.baseline, pp, res.log_base)
            if again.verdict != Verdict.FAIL:
                v = replace(v, pr_policy_passes=True)
        marked.append(v)
    return replace(res, models=tuple(marked))
