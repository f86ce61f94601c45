"""The baseline stores against real git repositories, with a bare repository as ``origin``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from idm_gate.errors import GitError, InputError, StoreError
from idm_gate.gitutil import Git
from idm_gate.retry import RetryPolicy
from idm_gate.store import canonical_json, ensure_history, export_records, find_baseline, open_store
from idm_gate.store.branch import BranchStore, record_path
from idm_gate.store.records import parse_record

KEY = "idm.yaml"  # the gate key of a repository with one manifest at its top
FAST = RetryPolicy(attempts=8, base_delay_s=0.02, max_delay_s=0.2, budget_s=10, jitter=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_git_env(tmp_path, monkeypatch):
    """No machine or user git config, and no identity: like a fresh CI runner."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    for var in list(os.environ):
        if var.startswith(("GIT_AUTHOR_", "GIT_COMMITTER_", "GIT_DIR", "GIT_INDEX", "GIT_WORK_TREE")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")


def g(cwd: Path, *args: str, input: bytes | None = None) -> str:
    """Run git as the test's "user" (identity given per call, none configured)."""
    out = subprocess.run(
        ["git", "-c", "user.name=Tester", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main", *args],
        cwd=cwd, input=input, capture_output=True, check=True,
    )
    return out.stdout.decode().strip()


def commit(repo: Path, msg: str) -> str:
    g(repo, "commit", "-q", "--allow-empty", "-m", msg)
    return g(repo, "rev-parse", "HEAD")


@pytest.fixture
def origin(tmp_path) -> Path:
    path = tmp_path / "origin.git"
    g(tmp_path, "init", "-q", "--bare", str(path))
    return path


@pytest.fixture
def repo(tmp_path, origin) -> Path:
    """A user's clone of ``origin`` with three commits on main, pushed."""
    path = tmp_path / "repo"
    g(tmp_path, "init", "-q", str(path))
    g(path, "remote", "add", "origin", str(origin))
    for i in range(3):
        commit(path, f"c{i}")
    g(path, "push", "-q", "origin", "main")
    return path


def rec(sha: str, **extra) -> dict:
    return {"commit": sha, "density": 1.5, **extra}


def store_for(repo: Path, warnings: list[str] | None = None, **kw) -> BranchStore:
    sink = warnings.append if warnings is not None else (lambda m: None)
    return open_store("branch", Git(repo), key=kw.pop("key", KEY), warn=sink, retry=FAST, **kw)  # type: ignore[return-value]


def history(repo: Path) -> list[str]:
    return g(repo, "rev-list", "--first-parent", "HEAD").split()


# -- branch store: writing ---------------------------------------------------------------------------


def test_first_put_creates_orphan_branch_and_leaves_worktree_head_and_index_alone(repo, origin):
    (repo / "wip.txt").write_text("uncommitted\n")
    (repo / "staged.txt").write_text("staged\n")
    g(repo, "add", "staged.txt")
    before = (g(repo, "status", "--porcelain"), g(repo, "rev-parse", "HEAD"), g(repo, "symbolic-ref", "HEAD"),
              g(repo, "ls-files", "--stage"), g(repo, "branch", "--list"))
    head = history(repo)[0]

    store_for(repo).put(head, rec(head))

    after = (g(repo, "status", "--porcelain"), g(repo, "rev-parse", "HEAD"), g(repo, "symbolic-ref", "HEAD"),
             g(repo, "ls-files", "--stage"), g(repo, "branch", "--list"))
    assert after == before
    # On origin: one parentless commit, the record at its fan-out path, canonical JSON.
    assert g(origin, "rev-list", "--parents", "idm-baselines") == g(origin, "rev-parse", "idm-baselines")
    blob = g(origin, "show", f"idm-baselines:{record_path(head, KEY)}")
    assert (blob + "\n").encode() == canonical_json(rec(head))
    assert record_path(head, KEY) == f"records/{head[:2]}/{head}/idm.yaml.json"
    # No identity configured: the commit is authored as idm-gate.
    assert g(origin, "log", "-1", "--format=%an <%ae>|%cn", "idm-baselines") == "idm-gate <idm-gate@localhost>|idm-gate"


def test_same_record_is_a_noop_and_a_different_one_replaces_it(repo, origin):
    head = history(repo)[0]
    store = store_for(repo)
    store.put(head, rec(head))
    tip = g(origin, "rev-parse", "idm-baselines")
    store.put(head, rec(head))
    assert g(origin, "rev-parse", "idm-baselines") == tip
    store.put(head, rec(head, density=2.0))
    assert g(origin, "rev-list", "--count", "idm-baselines") == "2"
    assert store_for(repo).get_many([head])[head]["density"] == 2.0


def test_put_refuses_a_record_for_another_commit(repo):
    a, b = history(repo)[:2]
    with pytest.raises(InputError, match="'commit' field"):
        store_for(repo).put(a, rec(b))


def test_user_identity_is_kept_when_configured(repo, origin):
    g(repo, "config", "user.name", "Ada")
    g(repo, "config", "user.email", "ada@example.com")
    head = history(repo)[0]
    store_for(repo).put(head, rec(head))
    assert g(origin, "log", "-1", "--format=%an <%ae>", "idm-baselines") == "Ada <ada@example.com>"


# -- branch store: reading ---------------------------------------------------------------------------


def test_get_many_is_one_git_call_after_the_fetch(repo):
    shas = history(repo)
    writer = store_for(repo)
    for sha in shas[:2]:
        writer.put(sha, rec(sha))
    reader = store_for(repo)
    calls: list[tuple[str, ...]] = []
    real = reader.git.exec

    def counting(*args, **kw):
        calls.append(args)
        return real(*args, **kw)

    reader.git.exec = counting  # type: ignore[method-assign]
    assert set(reader.get_many(shas + ["f" * 40])) == set(shas[:2])
    assert [c[0] for c in calls].count("fetch") == 1
    calls.clear()
    found = reader.get_many(shas)  # fetched once per process: now exactly one call
    assert [c[:2] for c in calls] == [("cat-file", "--batch")]
    assert found[shas[0]] == rec(shas[0])


def test_find_baseline_falls_back_to_an_ancestor_and_reports_distance(repo):
    for i in range(3):
        commit(repo, f"more{i}")
    shas = history(repo)  # newest first: 6 commits
    store_for(repo).put(shas[3], rec(shas[3]))
    store = store_for(repo)
    assert find_baseline(store, Git(repo), shas[0]) == (shas[3], rec(shas[3]), 3)
    assert find_baseline(store, Git(repo), shas[3]) == (shas[3], rec(shas[3]), 0)
    assert find_baseline(store, Git(repo), shas[0], max_walk=3) is None


def test_missing_remote_branch_means_no_baselines(repo):
    warnings: list[str] = []
    store = store_for(repo, warnings)
    head = history(repo)[0]
    assert store.get_many(history(repo)) == {}
    assert find_baseline(store, Git(repo), head) is None
    assert warnings == []
    # Nothing created among the user's refs.
    assert g(repo, "for-each-ref", "--format=%(refname)") == "refs/heads/main\nrefs/remotes/origin/main"


def test_fetch_uses_a_private_ref_and_notices_a_deleted_branch(repo, origin):
    head = history(repo)[0]
    store_for(repo).put(head, rec(head))
    refs = g(repo, "for-each-ref", "--format=%(refname)").split()
    assert "refs/idm-gate/idm-baselines" in refs and "refs/heads/idm-baselines" not in refs
    g(origin, "branch", "-D", "idm-baselines")
    assert store_for(repo).get_many([head]) == {}


def test_named_branch_spec(repo, origin):
    head = history(repo)[0]
    store = open_store("branch:team/baselines", Git(repo), key=KEY, warn=lambda m: None)
    assert "team/baselines" in store.description
    store.put(head, rec(head))
    assert g(origin, "rev-parse", "--verify", "team/baselines")


def test_corrupt_records_are_skipped_with_a_warning(repo, origin):
    a, b, c = history(repo)
    store_for(repo).put(c, rec(c))
    # Damage the branch on origin with plumbing: a non-JSON record and one filed under the wrong SHA.
    work = origin.parent / "damage"
    g(origin.parent, "clone", "-q", "--branch", "idm-baselines", str(origin), str(work))
    for sha, content in ((a, "{not json"), (b, json.dumps(rec(c)))):
        path = work / record_path(sha, KEY)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    g(work, "add", ".")
    g(work, "commit", "-q", "-m", "damage")
    g(work, "push", "-q", "origin", "idm-baselines")

    warnings: list[str] = []
    found = store_for(repo, warnings).get_many([a, b, c])
    assert found == {c: rec(c)}
    assert len(warnings) == 2
    assert any(a[:12] in w and "corrupt" in w for w in warnings)
    assert any(b[:12] in w and "says commit" in w for w in warnings)


# -- branch store: without a remote ------------------------------------------------------------------


def test_no_remote_uses_the_local_branch(tmp_path):
    repo = tmp_path / "laptop"
    g(tmp_path, "init", "-q", str(repo))
    a, b = commit(repo, "a"), commit(repo, "b")
    status = g(repo, "status", "--porcelain")
    store = store_for(repo)
    assert "local branch" in store.description
    store.put(a, rec(a))
    store.put(b, rec(b))
    assert g(repo, "rev-list", "--count", "idm-baselines") == "2"
    assert g(repo, "symbolic-ref", "HEAD") == "refs/heads/main"
    assert g(repo, "status", "--porcelain") == status
    assert find_baseline(store_for(repo), Git(repo), b) == (b, rec(b), 0)


def test_local_branch_compare_and_swap_retries_when_moved_underneath(tmp_path):
    repo = tmp_path / "laptop"
    g(tmp_path, "init", "-q", str(repo))
    a, b = commit(repo, "a"), commit(repo, "b")
    store = store_for(repo)
    store.put(a, rec(a))
    # Someone else moves the branch between our read of the tip and our update-ref.
    other = store_for(repo)
    real_build = store._build_commit
    moved = []

    def build_then_race(sha, blob, tip, env):
        new = real_build(sha, blob, tip, env)
        if not moved:
            moved.append(True)
            other.put(b, rec(b))
        return new

    store._build_commit = build_then_race  # type: ignore[method-assign]
    store.put(a, rec(a, density=3.0))
    found = store_for(repo).get_many([a, b])
    assert found == {a: rec(a, density=3.0), b: rec(b)}


# -- branch store: contention ------------------------------------------------------------------------

REJECT_HOOK = """#!/bin/sh
n=$(cat "{counter}" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "{counter}"
if [ "$n" -le {reject} ]; then
  echo "simulated race: rejecting push $n" >&2
  exit 1
fi
exit 0
"""


def install_hook(origin: Path, counter: Path, reject: int) -> None:
    hook = origin / "hooks" / "pre-receive"
    hook.write_text(REJECT_HOOK.format(counter=counter, reject=reject))
    hook.chmod(0o755)


def test_push_rejected_then_accepted(repo, origin, tmp_path):
    counter = tmp_path / "pushes"
    install_hook(origin, counter, reject=3)
    head = history(repo)[0]
    store_for(repo).put(head, rec(head))
    assert counter.read_text().strip() == "4"
    assert store_for(repo).get_many([head]) == {head: rec(head)}


def test_push_rejected_every_time_gives_up_with_a_retryable_error(repo, origin, tmp_path):
    install_hook(origin, tmp_path / "pushes", reject=1000)
    head = history(repo)[0]
    store = BranchStore(Git(repo), key=KEY, warn=lambda m: None, retry=RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.01,
                                                                                 budget_s=25, jitter=True))
    with pytest.raises(StoreError) as e:
        store.put(head, rec(head))
    msg = str(e.value)
    assert "'idm-baselines'" in msg and "3 attempt" in msg and "nothing was lost" in msg
    assert "\n" not in msg
    assert (tmp_path / "pushes").read_text().strip() == "3"


WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from idm_gate.gitutil import Git
    from idm_gate.store import open_store
    repo, sha = Path(sys.argv[1]), sys.argv[2]
    store = open_store("branch", Git(repo), key="idm.yaml", warn=lambda m: print(m, file=sys.stderr))
    store.put(sha, {"commit": sha, "writer": sha[:7]})
""")


def test_eight_concurrent_writers_all_land(repo, origin, tmp_path):
    shas = []
    for i in range(8):
        commit(repo, f"w{i}")
        shas.append(history(repo)[0])
    g(repo, "push", "-q", "origin", "main")
    # Eight independent clones, as eight CI jobs would have.
    clones = []
    for i in range(8):
        clone = tmp_path / f"job{i}"
        g(tmp_path, "clone", "-q", str(origin), str(clone))
        clones.append(clone)
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(clone), sha], stderr=subprocess.PIPE)
        for clone, sha in zip(clones, shas, strict=True)
    ]
    errors = [p.communicate(timeout=60)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, errors
    found = store_for(repo).get_many(shas)
    assert set(found) == set(shas)
    # Fast-forward only: a straight line of eight commits, the first an orphan.
    assert g(origin, "rev-list", "--count", "--first-parent", "idm-baselines") == "8"
    assert g(origin, "rev-list", "--count", "--merges", "idm-baselines") == "0"


# -- file store --------------------------------------------------------------------------------------


def write_baseline_file(repo: Path, records: dict) -> None:
    path = repo / ".idm" / "baselines.json"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(canonical_json({"version": 2, "gates": {KEY: records}}))


def test_file_store_reads_the_commit_not_the_working_tree(repo):
    a, b, c = history(repo)  # c oldest
    write_baseline_file(repo, {c: rec(c)})
    g(repo, "add", ".idm/baselines.json")
    base = commit(repo, "baselines")
    # A PR edits the file, in its working tree and in a commit of its own: neither counts.
    write_baseline_file(repo, {c: rec(c, density=99.0), base: rec(base, density=99.0)})
    store = open_store("file:.idm/baselines.json", Git(repo), key=KEY, warn=lambda m: None)
    assert find_baseline(store, Git(repo), base) == (c, rec(c), 3)
    g(repo, "commit", "-q", "-am", "pr edits baseline")
    pr = history(repo)[0]
    store = open_store("file:.idm/baselines.json", Git(repo), key=KEY, warn=lambda m: None)
    assert find_baseline(store, Git(repo), base) == (c, rec(c), 3)  # asked from the merge-base
    assert find_baseline(store, Git(repo), pr)[2] == 1  # only when asked from the PR's own commit


def test_file_store_missing_file_and_bad_file(repo):
    head = history(repo)[0]
    assert open_store("file:nothing.json", Git(repo), key=KEY, warn=print).get_many([head]) == {}
    (repo / "bad.json").write_text('{"records": []}')
    g(repo, "add", "bad.json")
    head = commit(repo, "bad")
    with pytest.raises(InputError, match=r"bad\.json at .*expected"):
        open_store("file:bad.json", Git(repo), key=KEY, warn=print).get_many([head])



DEEP = b'{"commit": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def test_a_record_too_deep_or_with_nan_is_skipped_with_a_warning_not_a_crash():
    sha = "a" * 40
    for data, reason in ((DEEP, "JSON nested too deeply to read"),
                         (b'{"commit": "' + sha.encode() + b'", "x": NaN}', "holds NaN, which is not a JSON number"),
                         (b"\xef\xbb\xbf{}", "not JSON: Unexpected UTF-8 BOM (decode using utf-8-sig) at line 1")):
        warnings: list[str] = []
        assert parse_record(sha, data, "rec.json", warnings.append) is None
        assert warnings == [f"rec.json: baseline record for {sha[:12]} is corrupt ({reason}); ignoring it"]


def test_file_store_nested_too_deep_is_an_input_error_not_a_crash(repo):
    (repo / "deep.json").write_bytes(DEEP)
    g(repo, "add", "deep.json")
    head = commit(repo, "deep")
    with pytest.raises(InputError, match=r"^deep\.json at \w{12}: not valid JSON \(JSON nested too deeply to read\); "
                                         r"regenerate it with `idm-gate baseline export`"):
        open_store("file:deep.json", Git(repo), key=KEY, warn=print).get_many([head])

def test_file_store_is_read_only(repo):
    head = history(repo)[0]
    with pytest.raises(InputError, match="idm-gate baseline export"):
        open_store("file:b.json", Git(repo), key=KEY, warn=print).put(head, rec(head))


def test_export_round_trip_from_branch_to_file(repo):
    shas = history(repo)
    branch = store_for(repo)
    for sha in shas[1:]:
        branch.put(sha, rec(sha))
    doc = export_records(store_for(repo), shas)
    assert doc == {"version": 2, "gates": {KEY: {s: rec(s) for s in shas[1:]}}}
    (repo / "baselines.json").write_bytes(canonical_json(doc))
    g(repo, "add", "baselines.json")
    top = commit(repo, "export")
    found = find_baseline(open_store("file:baselines.json", Git(repo), key=KEY, warn=print), Git(repo), top)
    assert found == (shas[1], rec(shas[1]), 2)


@pytest.mark.parametrize("spec", ["bogus", "file:", "file:../outside.json", "file:/etc/passwd", "branch:bad..name"])
def test_bad_store_specs_are_input_errors(repo, spec):
    with pytest.raises(InputError, match="--store"):
        open_store(spec, Git(repo), key=KEY, warn=print)


# -- shallow clones ----------------------------------------------------------------------------------


@pytest.mark.parametrize("base_form", ["main", "origin/main", "sha"])
def test_shallow_clone_gets_enough_history_for_the_walk(tmp_path, origin, base_form):
    up = tmp_path / "upstream"
    g(tmp_path, "init", "-q", str(up))
    g(up, "remote", "add", "origin", str(origin))
    for i in range(20):
        commit(up, f"main{i}")
    main = history(up)
    g(up, "checkout", "-q", "-b", "feature", main[4])
    commit(up, "feature work")
    g(up, "push", "-q", "origin", "main", "feature")
    store_for(up).put(main[7], rec(main[7]))  # a baseline three commits below the merge-base

    ci = tmp_path / "ci"
    g(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{origin}", str(ci))
    git = Git(ci)
    assert git.is_shallow()
    with pytest.raises(InputError, match="unknown ref"):
        git.rev_parse("origin/main")

    base = ensure_history(git, main[0] if base_form == "sha" else base_form, depth=10)
    assert base == main[0]
    mb = git.merge_base("HEAD", base)
    assert mb == main[4]
    assert len(git.first_parent_ancestors(mb, 10)) == 10
    assert find_baseline(store_for(ci), git, mb, max_walk=10) == (main[7], rec(main[7]), 3)
    # The baselines fetch in a shallow clone takes only the tip.
    assert g(ci, "rev-list", "--count", "refs/idm-gate/idm-baselines") == "1"


def test_ensure_history_is_a_no_op_in_a_full_clone(repo):
    calls = []
    git = Git(repo)
    real = git.exec
    git.exec = lambda *a, **k: (calls.append(a), real(*a, **k))[1]  # type: ignore[method-assign]
    assert ensure_history(git, "main") == history(repo)[0]
    assert not any(c[0] == "fetch" for c in calls)


# -- the git wrapper ---------------------------------------------------------------------------------


def test_git_wrapper_answers_and_errors(repo, tmp_path):
    git = Git(repo)
    assert git.toplevel() == repo.resolve()
    outside = tmp_path / "plain"
    outside.mkdir()
    assert Git(outside).toplevel() is None
    with pytest.raises(InputError, match="'nope': unknown ref"):
        git.rev_parse("nope")
    with pytest.raises(InputError):
        git.rev_parse("--all")
    assert git.show_file("HEAD", "absent.txt") is None
    with pytest.raises(GitError) as e:
        git.run("cat-file", "-p", "0" * 40)
    assert "git cat-file failed" in str(e.value) and "fatal:" in str(e.value) and "\n" not in str(e.value)
    a, b, c = history(repo)
    assert git.merge_base(a, c) == c
    orphan = g(repo, "commit-tree", g(repo, "write-tree"), input=b"orphan\n")
    assert git.merge_base(a, orphan) is None
    assert git.first_parent_ancestors(a, 2) == [a, b]
    assert not git.is_shallow()


def test_benchmark_smoke(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_store_lookup.py"), "--sizes", "3,30", "--repeat", "2",
         "--workdir", str(tmp_path / "bench")],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "records" in proc.stdout and "x floor" in proc.stdout


def test_branch_protection_refusal_is_not_retried(repo, monkeypatch):
    """GitHub's wording for a protected branch cannot come from a local hook: answer the push as it does."""
    store = store_for(repo)
    sha = g(repo, "rev-parse", "HEAD")
    real_exec = store.git.exec
    pushes = []

    def exec_(*args, **kw):
        if args and args[0] == "push":
            pushes.append(args)
            out = f"To origin\n!\t{sha}:refs/heads/idm-baselines\t[remote rejected] (protected branch hook declined)\nDone\n"
            return subprocess.CompletedProcess(["git", *args], 1, out.encode(),
                                               b"error: failed to push some refs to 'origin'\n")
        return real_exec(*args, **kw)

    monkeypatch.setattr(store.git, "exec", exec_)
    with pytest.raises(StoreError, match="branch protection rule.*retrying cannot help"):
        store.put(sha, rec(sha))
    assert len(pushes) == 1


@pytest.mark.parametrize("spec,branch", [("branch:bad..name", "idm-baselines"), ("branch", "with space"),
                                         ("branch", "ends.lock"), ("branch:", "idm-baselines")])
def test_a_branch_name_git_refuses_is_an_input_error(repo, spec, branch):
    # git's own ref rules (check-ref-format) decide; the default name needs no asking
    with pytest.raises(InputError, match=r"is not a valid branch name; e\.g\. branch:idm-baselines"):
        open_store(spec, Git(repo), key=KEY, branch=branch, warn=print)
    assert open_store("branch", Git(repo), key=KEY, warn=print).branch == "idm-baselines"
    assert open_store("branch:results/idm", Git(repo), key=KEY, warn=print).branch == "results/idm"
