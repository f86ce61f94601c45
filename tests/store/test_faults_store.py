"""Baseline-store faults through the CLI: `idm-gate check/record` in real repositories with a bare origin.

Corrupt records written straight onto the baselines branch, a branch that is missing or was deleted, a
shallow clone, an origin whose pre-receive hook refuses pushes, a PR that edits the file store in its own
tree, and a drop that is within the evals' noise. The contract: a damaged store degrades to an older
record or to "no baseline" with a warning saying so, never to a crash or to a baseline the PR chose.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from gatecase import BASE, GATE, manifest
from gitrepo import make_repo
from idm_gate.store.branch import record_path

BRANCH = "idm-baselines"


def git(cwd: Path, env: dict, *args: str, input: bytes | None = None) -> str:
    p = subprocess.run(["git", *args], cwd=cwd, env=env, input=input, capture_output=True)
    assert p.returncode == 0, f"git {args}: {p.stderr.decode()}"
    return p.stdout.decode().strip()


def plant(r, sha: str, data: bytes) -> None:
    """Write ``data`` as the record of ``sha`` onto the baselines branch in the bare origin (plumbing only)."""
    origin, env = r.origin, r.env
    blob = git(origin, env, "hash-object", "-w", "--stdin", input=data)
    tip = git(origin, env, "rev-parse", f"refs/heads/{BRANCH}")
    with tempfile.TemporaryDirectory() as tmp:
        ienv = dict(env, GIT_INDEX_FILE=str(Path(tmp) / "index"))
        git(origin, ienv, "read-tree", tip)
        git(origin, ienv, "update-index", "--add", "--cacheinfo", f"100644,{blob},{record_path(sha, 'idm.yaml')}")
        tree = git(origin, ienv, "write-tree")
    new = git(origin, env, "commit-tree", tree, "-p", tip, input=b"someone edits a record by hand\n")
    git(origin, env, "update-ref", f"refs/heads/{BRANCH}", new, tip)


def record_ok(r, env_extra=None):
    p = r.idm("record", env_extra=env_extra)
    assert p.returncode == 0, p.stderr
    assert "recorded 1 model(s)" in p.stdout
    return r.git("rev-parse", "HEAD")


def check(r, *extra):
    return r.idm("check", "--base-ref", "origin/main", *extra)


def bigger(r, factor=1.10, **kw):
    r.write("idm.yaml", manifest(BASE, size_bytes=int(2 * 10**9 * factor), gate=GATE, **kw))
    return r.commit("bigger model")


@pytest.fixture
def two_records(tmp_path):
    """main: c0 and c1, both recorded on origin's baselines branch; the checkout on a PR branch from c1."""
    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE, gate=GATE)})
    c0 = record_ok(r)
    r.write("NOTES.md", "c1\n")
    r.commit("c1")
    r.git("push", "-q", "origin", "main")
    c1 = record_ok(r)
    r.git("checkout", "-q", "-b", "pr")
    return r, c0, c1


def _edited(rec: dict) -> dict:
    rec["report"]["models"][0]["density"] *= 2
    return rec


CORRUPT = {
    # name: (bytes of the record from the good one, what the warning on stderr says)
    "not-json": (lambda rec: b'{"commit": "' + rec["commit"].encode() + b'", "report": {',
                 r"records/\w\w/{c1}/idm\.yaml\.json: baseline record for {c12} is corrupt \(not JSON: .* at line 1\); "
                 r"ignoring it"),
    "other-commit": (lambda rec: json.dumps(dict(rec, commit="f" * 40)).encode(),
                     r"baseline record filed under {c12} says commit 'ffffffffffff'; ignoring it"),
    "fails-schema": (lambda rec: json.dumps(dict(rec, report={"version": 1, "models": "none"})).encode(),
                     r"skipping the corrupt baseline record for {c12} \(baseline record {c12}: .*report schema\); "
                     r"trying older commits"),
    "edited-density": (lambda rec: json.dumps(_edited(rec)).encode(),
                       r"skipping the corrupt baseline record for {c12} \(.*density does not follow from error_rate "
                       r"and size; the report was edited\); trying older commits"),
}


@pytest.mark.parametrize("kind", list(CORRUPT))
def test_a_corrupt_record_for_the_merge_base_falls_back_to_the_ancestor(two_records, kind):
    r, c0, c1 = two_records
    make, warning = CORRUPT[kind]
    plant(r, c1, make(r.records_on_origin()[c1]))
    bigger(r)  # -9.1 %: fails against either record, so the verdict alone cannot tell them apart
    res = check(r)
    assert res.returncode == 1, res.stderr + res.stdout
    assert re.search(r"^idm-gate: warning: .*" + warning.format(c1=c1, c12=c1[:12]), res.stderr, re.M), res.stderr
    assert f"baseline from {c0[:7]}, 1 commit before the merge base {c1[:7]}" in res.stdout
    assert "Traceback" not in res.stderr
    doc = json.loads(check(r, "--format", "json").stdout)
    assert (doc["baseline_commit"], doc["baseline_distance"], doc["merge_base"]) == (c0, 1, c1)


def test_every_record_corrupt_is_no_baseline_with_warnings(two_records):
    r, c0, c1 = two_records
    for sha in (c0, c1):
        plant(r, sha, b"\x00garbage")
    bigger(r)
    res = check(r)
    assert res.returncode == 0, res.stderr + res.stdout
    assert res.stderr.count("is corrupt (not JSON") == 2
    assert "no baseline found for the merge base" in res.stdout


def test_missing_baseline_branch_passes_with_the_notice(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE, gate=GATE)})
    r.git("checkout", "-q", "-b", "pr")
    bigger(r, 1.5)  # would fail against any baseline
    res = check(r)
    assert res.returncode == 0, res.stderr + res.stdout
    assert "no baseline found for the merge base" in res.stdout and "`idm-gate record` on the base branch" in res.stdout
    assert res.stderr == ""
    res = check(r, "--require-baseline")
    assert res.returncode == 1 and "--require-baseline makes that a failure" in res.stdout


def test_a_baseline_branch_deleted_on_origin_is_no_baseline_not_a_stale_one(two_records):
    r, c0, c1 = two_records
    bigger(r)
    assert check(r).returncode == 1  # fetched once: the private ref now holds the branch
    git(r.origin, r.env, "update-ref", "-d", f"refs/heads/{BRANCH}")
    res = check(r)
    assert res.returncode == 0, res.stderr + res.stdout
    assert "no baseline found for the merge base" in res.stdout
    assert r.git("for-each-ref", "refs/idm-gate/") == ""


def test_a_shallow_clone_is_deepened_to_find_the_baseline(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE, gate=GATE)})
    c0 = record_ok(r)
    for i in range(3):  # three commits on main without a record
        r.write("NOTES.md", f"{i}\n")
        r.commit(f"notes {i}")
    r.git("push", "-q", "origin", "main")
    tip = r.git("rev-parse", "HEAD")
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{r.origin}", str(shallow)], env=r.env,
                   check=True, capture_output=True)
    s = type(r)(shallow, r.origin, r.env)
    assert s.git("rev-parse", "--is-shallow-repository") == "true"
    assert subprocess.run(["git", "cat-file", "-e", c0], cwd=shallow, env=r.env).returncode != 0  # not here yet
    s.git("checkout", "-q", "-b", "pr")
    bigger(s)
    res = check(s)
    assert res.returncode == 1, res.stderr + res.stdout
    assert f"baseline from {c0[:7]}, 3 commits before the merge base {tip[:7]}" in res.stdout
    assert "bonsai: FAIL" in res.stdout and res.stderr == ""
    assert subprocess.run(["git", "cat-file", "-e", c0], cwd=shallow, env=r.env).returncode == 0


def _reject_hook(origin: Path, rejects: int | None) -> Path:
    """A pre-receive hook refusing pushes to the baselines branch ``rejects`` times (None: forever)."""
    log = origin / "push-attempts"
    counter = origin / "rejects-left"
    counter.write_text(str(-1 if rejects is None else rejects))
    hook = origin / "hooks" / "pre-receive"
    hook.write_text(f"""#!/bin/sh
grep -q ' refs/heads/{BRANCH}$' || exit 0
echo attempt >> '{log}'
n=$(cat '{counter}')
[ "$n" -eq 0 ] && exit 0
[ "$n" -gt 0 ] && echo $((n - 1)) > '{counter}'
echo "the server is busy, try again" >&2
exit 1
""")
    hook.chmod(0o755)
    return log


def test_a_push_rejected_three_times_then_accepted_records(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE, gate=GATE)})
    log = _reject_hook(r.origin, 3)
    head = r.git("rev-parse", "HEAD")
    res = r.idm("record")
    assert res.returncode == 0, res.stderr
    assert log.read_text().count("attempt") == 4
    assert list(r.records_on_origin()) == [head]
    assert r.git("status", "--porcelain") == "" and r.git("rev-parse", "HEAD") == head


def test_a_push_rejected_forever_is_exit_3_naming_the_branch(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE, gate=GATE)})
    log = _reject_hook(r.origin, None)
    head = r.git("rev-parse", "HEAD")
    started = time.monotonic()
    res = r.idm("record")
    elapsed = time.monotonic() - started
    assert res.returncode == 3, res.stderr
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"idm-gate: error: branch '{BRANCH}' on remote 'origin': could not record the "
                               f"baseline for {head[:12]} after ")
    assert "nothing was lost" in lines[0] and "run the record step again" in lines[0]
    assert "pre-receive hook declined" in lines[0] and "Traceback" not in res.stderr
    assert 2 <= log.read_text().count("attempt") <= 10 and elapsed < 30  # bounded: README says under 25 s
    assert r.records_on_origin() == {}


def test_file_store_reads_the_base_commit_never_the_prs_edit(two_records, tmp_path):
    r, c0, c1 = two_records
    # on main: export the branch store to a file, commit it (c2, which has no record of its own)
    r.git("checkout", "-q", "main")
    res = r.idm("baseline", "export", "-o", "baselines.json")
    assert res.returncode == 0, res.stderr
    assert "wrote 2 record(s) of gate 'idm.yaml' to baselines.json;" in res.stderr
    exported = json.loads((r.path / "baselines.json").read_text())
    assert exported == {"version": 2, "gates": {"idm.yaml": r.records_on_origin()}}  # the round trip is lossless
    c2 = r.commit("baselines file")
    r.git("push", "-q", "origin", "main")
    r.git("checkout", "-q", "-b", "pr2")
    bigger(r)
    via_branch = json.loads(check(r, "--format", "json").stdout)
    via_file = json.loads(check(r, "--format", "json", "--store", "file:baselines.json").stdout)
    assert via_file["verdict"] == via_branch["verdict"] == "fail"
    assert via_file["models"][0]["compared"] == via_branch["models"][0]["compared"]
    assert (via_file["baseline_commit"], via_file["baseline_distance"]) == (c1, 1)

    # the PR rewrites the file: every record, and one for the merge base, is the PR's own bigger model
    own = json.loads(r.idm("measure", "--format", "json").stdout)
    fake = {"version": 2, "gates": {"idm.yaml": {sha: dict(exported["gates"]["idm.yaml"][c1], commit=sha, report=own)
                                                 for sha in (c0, c1, c2)}}}
    r.write("baselines.json", json.dumps(fake))
    r.commit("a better baseline, honest")
    res = check(r, "--store", "file:baselines.json")
    assert res.returncode == 1, res.stderr + res.stdout
    assert "bonsai: FAIL" in res.stdout and f"baseline from {c1[:7]}, 1 commit before the merge base" in res.stdout
    # the fake is a working baseline: read at the PR's own commit it would pass the PR
    own_base = r.idm("check", "--base-ref", "HEAD", "--store", "file:baselines.json")
    assert own_base.returncode == 0 and "bonsai: PASS [unchanged]" in own_base.stdout


CSV_BASE = "task,score,stderr\narc,0.70,0.05\ngsm8k,0.60,0.05\n"


def test_a_drop_within_noise_warns_and_significance_off_fails(tmp_path):
    gate = dict(GATE, significance=True)
    evals = [{"path": "evals.csv"}]
    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE, gate=gate, evals=evals), "evals.csv": CSV_BASE})
    record_ok(r)
    r.git("checkout", "-q", "-b", "pr")
    # 10 % bigger: density -9.1 %, beyond max_drop 5 %, but within 1.96 combined standard errors
    r.write("idm.yaml", manifest(BASE, size_bytes=int(2 * 10**9 * 1.10), gate=gate, evals=evals))
    r.commit()
    res = check(r)
    assert res.returncode == 0, res.stderr + res.stdout
    assert "bonsai: WARN" in res.stdout and "within noise" in res.stdout
    doc = json.loads(check(r, "--format", "json").stdout)
    m = doc["models"][0]
    assert doc["verdict"] == "warn" and m["within_noise"] is True
    assert m["compared"]["baseline"]["density_stderr"] > 0 and m["compared"]["current"]["density_stderr"] > 0
    md = check(r, "--format", "markdown").stdout
    assert md.startswith("## ⚠️ idm-gate: **warn**") and "within noise" in md
    res = check(r, "--significance", "off")
    assert res.returncode == 1, res.stdout
    assert "bonsai: FAIL" in res.stdout and "over max_drop 5.0 %" in res.stdout and "within noise" not in res.stdout
