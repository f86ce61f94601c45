"""record / check end to end: the CLI in a subprocess, real git repositories, a bare origin."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gatecase import BASE, GATE, manifest
from gitrepo import make_repo


@pytest.fixture
def repo(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE, gate=GATE)})
    res = r.idm("record")
    assert res.returncode == 0, res.stderr
    assert "recorded 1 model(s)" in res.stdout
    r.git("checkout", "-q", "-b", "pr")
    return r


def check(r, *extra):
    return r.idm("check", "--base-ref", "origin/main", *extra)


def test_record_creates_orphan_branch_without_touching_worktree(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE)})
    head = r.git("rev-parse", "HEAD")
    res = r.idm("record")
    assert res.returncode == 0, res.stderr
    assert r.git("status", "--porcelain") == "" and r.git("rev-parse", "HEAD") == head
    recs = r.records_on_origin()
    assert list(recs) == [head]
    rec = recs[head]
    assert rec["commit"] == head and rec["branch"] == "main" and rec["manifest"] == "idm.yaml"
    # task -> metric key; an inline score's key is "score"
    assert rec["fingerprint"] == {"bonsai": {"arc": "score", "gsm8k": "score"}}
    assert rec["report"]["models"][0]["error_rate"] == pytest.approx(0.35)
    # the orphan branch has a single root commit
    log = subprocess.run(["git", "rev-list", "--max-parents=0", "idm-baselines"], cwd=r.origin, env=r.env,
                         capture_output=True, text=True).stdout.split()
    assert len(log) == 1


def test_first_run_without_baseline_passes_with_notice(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE)})
    r.git("checkout", "-q", "-b", "pr")
    r.write("idm.yaml", manifest({"arc": 10.0, "gsm8k": 10.0}))
    r.commit()
    res = check(r)
    assert res.returncode == 0, res.stderr
    assert "no baseline found" in res.stdout
    res = check(r, "--require-baseline")
    assert res.returncode == 1 and "--require-baseline" in res.stdout


def test_unchanged_model_passes(repo):
    repo.commit("docs only")
    res = check(repo, "--format", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["verdict"] == "pass" and doc["baseline_distance"] == 0
    m = doc["models"][0]
    assert m["status"] == "unchanged" and m["delta"]["density_rel"] == pytest.approx(0.0)


def test_check_reads_the_baseline_records_once(repo, tmp_path):
    # the walk to the baseline and the history charts' walk are the same walk: one `git log` and one lookup
    # serve both, and the baseline's commit date comes from that log (GIT_TRACE lists every git command run)
    repo.commit("docs only")
    trace = tmp_path / "git-trace"
    res = repo.idm("check", "--base-ref", "origin/main", "--format", "json", env_extra={"GIT_TRACE": str(trace)})
    assert res.returncode == 0, res.stderr
    ran = [line.split("trace: built-in: git ", 1)[1] for line in trace.read_text().splitlines()
           if "trace: built-in: git " in line]
    # one for the base commit's manifest, one for the records of the merge base and its ancestors
    assert [c for c in ran if c.startswith("cat-file")] == ["cat-file --batch"] * 2
    assert not [c for c in ran if c.startswith("show")]
    # one `git log` walks the merge base's first-parent line for the baseline and the charts alike
    # (the fetch's own connectivity check is a rev-list too: `rev-list --objects`)
    assert [c.split()[0] for c in ran if c.startswith(("log", "rev-list --first-parent"))] == ["log"], ran
    # the baselines fetch leaves the repository's upkeep (gc, maintenance) to the user's own git commands
    assert not [c for c in ran if c.startswith(("maintenance", "gc"))], ran
    assert not [c for c in ran if c.startswith("check-ref-format")]  # the default branch name is valid
    doc = json.loads(res.stdout)
    assert doc["baseline_distance"] == 0
    assert doc["baseline_date"] == repo.git("show", "-s", "--format=%cI", doc["baseline_commit"])


def test_small_drop_warns_large_drop_fails(repo):
    # density -ln(Pe)/2GB; make the model 3 % bigger: a 2.9 % density drop -> warn (warn 2 %, max 5 %)
    repo.write("idm.yaml", manifest(BASE, size_bytes=int(2 * 10**9 * 1.03), gate=GATE))
    repo.commit()
    res = check(repo)
    assert res.returncode == 0, res.stderr
    assert "bonsai: WARN" in res.stdout and "over warn_drop 2.0 %" in res.stdout
    repo.write("idm.yaml", manifest(BASE, size_bytes=int(2 * 10**9 * 1.10), gate=GATE))
    repo.commit()
    res = check(repo)
    assert res.returncode == 1
    assert "bonsai: FAIL" in res.stdout and "over max_drop 5.0 %" in res.stdout
    # in plain terms: the whole change is size; D_base = -ln(0.35) / 2 GB = 0.5249 and passing needs 95 % of it:
    # at most 2 GB / 0.95 = 2.105 GB at error 0.35, or at 2.2 GB an error of 0.35^(0.95 * 1.1) = 0.33387
    assert "Size ×1.10 (2.00 GB → 2.20 GB) at the same accuracy (error rate 0.35)." in res.stdout, res.stdout
    assert ("To pass (a drop of at most 5.0 %): at most 2.10 GB at this error rate, or an error rate of at most "
            "0.3338 at this size.") in res.stdout
    assert check(repo, "--no-fail").returncode == 0


def test_json_report_has_decomposition_and_break_even(repo):
    repo.write("idm.yaml", manifest({"arc": 72.0, "gsm8k": 61.0}, size_bytes=3 * 10**9, gate=GATE))
    repo.commit()
    doc = json.loads(check(repo, "--format", "json", "--no-fail").stdout)
    m = doc["models"][0]
    import math
    d_old = -math.log(0.35) / 2
    d_new = -math.log(0.335) / 3
    assert m["compared"]["baseline"]["density"] == pytest.approx(d_old)
    assert m["delta"]["density_rel"] == pytest.approx(d_new / d_old - 1)
    dec = m["decomposition"]
    assert dec["accuracy"] + dec["size"] == pytest.approx(math.log(d_new / d_old))
    assert dec["break_even_size_bytes"] == pytest.approx(-math.log(0.335) / d_old * 1e9)
    assert doc["verdict"] == "fail" and m["baseline_commit"] == doc["baseline_commit"]


def test_falls_back_to_an_ancestor_and_says_which(repo):
    repo.git("checkout", "-q", "main")
    repo.write("NOTES.md", "no record for this one\n")
    repo.commit()
    repo.write("NOTES.md", "nor this one\n")
    repo.commit()
    repo.git("push", "-q", "origin", "main")
    repo.git("checkout", "-q", "-b", "pr2")
    repo.commit("pr")
    res = check(repo)
    assert res.returncode == 0, res.stderr
    assert "2 commits before the merge base" in res.stdout


# A stand-in for gpg (git's gpg.program): signs with a fixed armour and, asked to verify, prints what gpg
# prints for a bad signature. git then shows those lines on standard output, beside --format's, wherever
# log.showSignature is set: GitHub's web merges are signed, and developers set it in their own config.
FAKE_GPG = """import sys
if "--verify" in sys.argv:
    sys.stderr.write('gpg: Signature made by a test key\\ngpg: BAD signature from "test"\\n')
    sys.stdout.write("[GNUPG:] BADSIG 0000000000000000 test\\n")
    sys.exit(1)
sys.stdin.read()
sys.stdout.write("-----BEGIN PGP SIGNATURE-----\\n\\nZmFrZQ==\\n-----END PGP SIGNATURE-----\\n")
sys.stderr.write("[GNUPG:] SIG_CREATED D 1 8 00 0 0000\\n")
"""


def test_signed_commits_and_log_show_signature_leave_the_walk_alone(tmp_path):
    gpg = tmp_path / "gpg"
    gpg.write_text(f"#!{sys.executable}\n{FAKE_GPG}")
    gpg.chmod(0o755)
    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE, gate=GATE)})
    for key, value in (("gpg.program", str(gpg)), ("commit.gpgsign", "true"), ("log.showSignature", "true")):
        r.git("config", key, value)
    r.write("NOTES.md", "signed\n")
    signed = r.commit("signed")
    assert "gpg: BAD signature" in r.git("log", "-1", "--format=%H", signed)  # git shows it, as described
    r.git("push", "-q", "origin", "main")
    assert r.idm("record").returncode == 0
    r.write("NOTES.md", "signed, no record\n")
    r.commit("signed 2")
    r.git("push", "-q", "origin", "main")
    r.git("checkout", "-q", "-b", "pr")
    r.commit("pr")
    res = check(r, "--format", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert (doc["baseline_commit"], doc["baseline_distance"]) == (signed, 1)
    assert doc["baseline_date"].startswith("20")  # the committer date, not a line of gpg's


def test_pr_cannot_loosen_its_own_gate(repo):
    loose = {"max_drop": "90%", "warn_drop": "80%"}
    repo.write("idm.yaml", manifest(BASE, size_bytes=int(2 * 10**9 * 1.5), gate=loose))
    repo.commit()
    res = check(repo)
    assert res.returncode == 1, res.stdout
    assert "changes the gate policy of bonsai" in res.stdout and "applies after merge" in res.stdout
    # a CLI flag can tighten, never loosen
    res = check(repo, "--max-drop", "99%")
    assert res.returncode == 1


def test_a_flag_cannot_loosen_the_default_max_drop_of_a_base_without_gate(tmp_path):
    # The base sets no gate, so the default max_drop of 5 % applies. A flag (or the action's max-drop
    # input, which on a same-repository PR comes from the PR's own workflow file) cannot raise it.
    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE)})
    assert r.idm("record").returncode == 0
    r.git("checkout", "-q", "-b", "pr")
    r.write("idm.yaml", manifest(BASE, size_bytes=3 * 10**9))  # density -33 %
    r.commit()
    res = check(r, "--max-drop", "90%", "--z", "5")
    assert res.returncode == 1, res.stdout
    assert "over max_drop 5.0 %" in res.stdout
    assert "--max-drop 90% was ignored for every model: it is looser than the base commit's gate (max_drop 5%)" in res.stderr


def test_cli_flag_tightens_the_policy(repo):
    repo.write("idm.yaml", manifest(BASE, size_bytes=int(2 * 10**9 * 1.03), gate=GATE))
    repo.commit()
    assert check(repo).returncode == 0
    res = check(repo, "--max-drop", "1%")
    assert res.returncode == 1 and "over max_drop 1.0 %" in res.stdout


def test_pr_that_introduces_the_gate_uses_its_own_budgets(tmp_path):
    r = make_repo(tmp_path, {"README.md": "no gate yet\n"})
    r.git("checkout", "-q", "-b", "pr")
    r.write("idm.yaml", manifest(BASE, gate={"min_density": 1.0}))
    r.commit()
    res = check(r)
    assert res.returncode == 1 and "below min_density 1" in res.stdout
    assert "this PR introduces the gate" in res.stdout


def test_switching_log_base_cannot_meet_a_min_density_set_in_nats(tmp_path):
    # base: 0.525 nats/GB against min_density 0.5 nats/GB. The PR makes the model 10 % bigger
    # (0.477 nats/GB = 0.688 bits/GB) and switches to log_base 2, whose figures are 1.44x larger.
    gate = {"min_density": 0.5, "max_drop": "20%"}
    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE, gate=gate)})
    assert r.idm("record").returncode == 0
    r.git("checkout", "-q", "-b", "pr")
    m = manifest(BASE, size_bytes=int(2.2 * 10**9), gate=gate)
    m["log_base"] = 2
    r.write("idm.yaml", m)
    r.commit()
    res = check(r)
    assert res.returncode == 1, res.stdout
    assert "density 0.6884 bits/GB is below min_density 0.7213" in res.stdout


def test_comparability_names_the_missing_task(repo):
    repo.write("idm.yaml", manifest({"arc": 70.0}, gate=GATE))
    repo.commit()
    res = check(repo)
    assert "gsm8k missing in the PR" in res.stdout
    assert res.returncode == 0  # compared on arc alone: unchanged there


def test_no_task_in_common_is_not_comparable_rather_than_new(repo):
    repo.write("idm.yaml", manifest({"mmlu": 70.0}, gate=GATE))
    repo.commit()
    res = check(repo, "--format", "markdown")
    assert res.returncode == 0, res.stderr
    assert "| ⚠️ | bonsai | 0.5249\u00a0→ **0.602**, not comparable | n/a |" in res.stdout, res.stdout
    assert "new →" not in res.stdout


def test_new_and_removed_models(repo):
    m = manifest(BASE, gate=GATE)
    m["models"][0]["name"] = "bonsai-v2"
    repo.write("idm.yaml", m)
    repo.commit()
    doc = json.loads(check(repo, "--format", "json").stdout)
    by = {x["name"]: x for x in doc["models"]}
    assert by["bonsai-v2"]["status"] == "new" and by["bonsai"]["status"] == "removed"
    assert by["bonsai"]["verdict"] == "warn" and doc["verdict"] == "warn"


def test_markdown_report_leads_with_the_verdict(repo):
    repo.write("idm.yaml", manifest(BASE, size_bytes=int(2 * 10**9 * 1.10), gate=GATE))
    repo.commit()
    md = check(repo, "--format", "markdown").stdout
    assert md.startswith("## ❌ idm-gate: **fail**")
    nb = "\u00a0"  # non-breaking spaces keep "▼ -9.1 %" and each "a → b" from wrapping in the table
    assert (f"| ❌ | bonsai | 0.5249{nb}→ **0.4772** | ▼{nb}-9.1{nb}% | 2.00{nb}GB{nb}→ 2.20{nb}GB | 0.35 | n/a | n/a |"
            in md), md


def test_bad_base_ref_is_input_error(repo):
    res = check(repo.__class__(repo.path, repo.origin, repo.env), "--base-ref")  # missing value: usage
    assert res.returncode == 2
    res = repo.idm("check", "--base-ref", "origin/nope")
    assert res.returncode == 2 and "Traceback" not in res.stderr and res.stderr.count("\n") == 1


def test_eight_concurrent_records_lose_nothing(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE)})
    shas = []
    for i in range(8):
        r.write("idm.yaml", manifest({"arc": 60.0 + i, "gsm8k": 50.0}))
        shas.append(r.commit(f"c{i}"))
    r.git("push", "-q", "origin", "main")
    clones = []
    for i, sha in enumerate(shas):
        d = tmp_path / f"clone{i}"
        subprocess.run(["git", "clone", "-q", str(r.origin), str(d)], env=r.env, check=True, capture_output=True)
        subprocess.run(["git", "checkout", "-q", sha], cwd=d, env=r.env, check=True, capture_output=True)
        clones.append(d)
    procs = [subprocess.Popen([sys.executable, "-m", "idm_gate", "record"], cwd=d, env=r.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for d in clones]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, outs
    recs = r.records_on_origin()
    assert sorted(recs) == sorted(shas)
    for i, sha in enumerate(shas):
        assert recs[sha]["report"]["models"][0]["tasks"][0]["score"] == 60.0 + i


def test_a_new_models_own_budget_can_only_tighten(repo):
    m = manifest(BASE, gate=GATE)
    m["models"].append({"name": "tiny", "size_gb": 2.0, "evals": [{"scores": {"arc": 0.5}}],
                        "gate": {"max_size_gb": 1.0, "max_drop": "90%"}})
    repo.write("idm.yaml", m)
    repo.commit()
    doc = json.loads(check(repo, "--format", "json").stdout)
    tiny = next(x for x in doc["models"] if x["name"] == "tiny")
    assert tiny["status"] == "new" and tiny["verdict"] == "fail"
    assert "over max_size_gb 1" in tiny["reasons"][0]
    assert tiny["policy"]["max_drop"] == pytest.approx(0.05)   # the looser 90 % from the PR is not taken
    assert not any("changes the gate policy of tiny" in n for n in doc["notices"])


def test_record_warns_when_the_working_tree_is_not_head(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": manifest(BASE)})
    r.write("idm.yaml", manifest({"arc": 99.0, "gsm8k": 99.0}))
    res = r.idm("record")
    assert res.returncode == 0
    assert "warning: tracked files differ from HEAD (idm.yaml)" in res.stderr
    assert r.idm("record").stderr.count("warning") == 1  # still dirty: warned again, record replaced


def test_check_validates_only_the_baseline_models_that_differ_from_the_prs(tmp_path, monkeypatch):
    # Two models recorded; the PR changes bonsai's size only. The baseline record's sprout entry is the same
    # document the PR's own measurement serializes to, so jsonschema sees only bonsai; the verdict is as a
    # full validation gives it (bonsai 2 GB -> 3 GB: density down 33 %, a failure).
    import jsonschema

    from idm_gate.gate import CheckOptions, check

    two = manifest(BASE)
    two["models"].append({"name": "sprout", "size_bytes": 10**9, "evals": [{"scores": {"arc": 0.5}}]})
    r = make_repo(tmp_path, {"idm.yaml": two})
    assert r.idm("record").returncode == 0
    r.git("checkout", "-q", "-b", "pr")
    two["models"][0]["size_bytes"] = 3 * 10**9
    r.write("idm.yaml", two)
    r.commit()
    monkeypatch.chdir(r.path)
    for k, v in r.env.items():  # git as the CLI runs it (HOME, author, no system config)
        monkeypatch.setenv(k, v)
    seen: list[list[str]] = []
    real = jsonschema.Draft202012Validator.iter_errors

    def spy(self, instance, *a, **k):
        if isinstance(instance, dict) and instance.get("kind") == "measurement":
            seen.append([m.get("name") for m in instance.get("models", [])])
        return real(self, instance, *a, **k)

    monkeypatch.setattr(jsonschema.Draft202012Validator, "iter_errors", spy)
    res = check(r.path / "idm.yaml", "idm.yaml", CheckOptions(base_ref="origin/main"), lambda m: None)
    from idm_gate.data import Verdict

    assert [(v.name, v.verdict) for v in res.models] == [("bonsai", Verdict.FAIL), ("sprout", Verdict.PASS)]
    assert seen and seen[0] == ["bonsai"]  # the baseline record: sprout's entry equals the PR's own
