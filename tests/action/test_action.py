"""`idm-gate action` end to end: a real git repository, the CLI in a subprocess with the environment the
runner gives a container action, and a fake GitHub REST server on 127.0.0.1."""

from __future__ import annotations

import html
import json
import subprocess

import pytest

import webhooks
from actionrunner import OWNER, PR, REPO, TOKEN, Runner, pr_env, pr_payload, regress
from fakegithub import forbidden_for_fork, server_error
from gatecase import BASE, GATE, manifest
from gitrepo import make_repo


@pytest.fixture
def setup(tmp_path, fake_github):
    repo = make_repo(tmp_path, {"idm.yaml": manifest(BASE, gate=GATE),
                                ".gitignore": "idm-report.json\n.idm-report-artifact/\n"})
    fake_github.add_user(TOKEN, "github-actions[bot]", app=True)
    runner = Runner(repo, fake_github, tmp_path)
    # record main's baseline through the action, on a push to the default branch (mode auto)
    p = runner.run("push", {"ref": "refs/heads/main", "repository": {"default_branch": "main"}},
                   {}, extra_env={"GITHUB_REF": "refs/heads/main"})
    assert p.returncode == 0, p.stderr + p.stdout
    assert "recorded 1 model(s)" in p.stdout
    repo.git("checkout", "-q", "-b", "pr")
    return repo, runner, fake_github


def test_regression_fails_comments_once_and_sets_status(setup):
    repo, runner, gh = setup
    head = regress(repo)
    # On a pull_request event GITHUB_SHA is the test merge commit GitHub made, not the PR head
    merge_sha = "e" * 40
    for _ in range(3):
        p = runner.run("pull_request", pr_payload(repo), {}, extra_env={**pr_env(repo), "GITHUB_SHA": merge_sha})
        assert p.returncode == 1, p.stderr + p.stdout
    comments = gh.issue_comments(OWNER, REPO, PR)
    assert len(comments) == 1, "one sticky comment after three runs"
    body = comments[0]["body"]
    assert body.startswith("<!-- idm-gate:comment-key=default -->")
    assert "## ❌ idm-gate: **fail**" in body and "▼\u00a0-9.1\u00a0%" in body
    # status on the PR head, not on GITHUB_SHA
    states = gh.statuses[(OWNER, REPO, head)]
    assert states[-1]["state"] == "failure" and states[-1]["context"] == "idm-gate"
    assert (OWNER, REPO, merge_sha) not in gh.statuses
    o = runner.outputs
    assert o["verdict"] == "fail" and float(o["delta-pct"]) == pytest.approx(-9.09, abs=0.01)
    assert float(o["baseline-density"]) == pytest.approx(0.52491, abs=1e-4)
    assert o["comment-url"].endswith(f"#issuecomment-{comments[0]['id']}")
    assert o["report-path"] == ".idm-gate/idm.yaml.json"  # relative to the workspace, for upload-artifact
    report = json.loads((repo.path / o["report-path"]).read_text())
    assert report["kind"] == "check" and report["verdict"] == "fail"
    assert "::error file=idm.yaml,title=idm-gate::bonsai: density down" in p.stdout
    assert runner.summary.read_text().startswith("## ❌ idm-gate")


def test_outputs_agree_with_each_other_when_the_task_sets_differ(setup):
    repo, runner, gh = setup
    # a new task in the PR is not compared: density, baseline-density and delta-pct are on the common tasks
    repo.write("idm.yaml", manifest(dict(BASE, mmlu=90.0), size_bytes=int(2.2 * 10**9), gate=GATE))
    repo.commit()
    p = runner.run("pull_request", pr_payload(repo), {}, extra_env=pr_env(repo))
    assert p.returncode == 1, p.stderr + p.stdout
    o = runner.outputs
    assert float(o["delta-pct"]) == pytest.approx(-9.09, abs=0.01)
    assert (float(o["density"]) / float(o["baseline-density"]) - 1) * 100 == pytest.approx(-9.09, abs=0.01)


def test_annotations_name_the_manifest_from_the_repository_top_under_a_working_directory(tmp_path, fake_github):
    repo = make_repo(tmp_path, {"models/idm.yaml": manifest(BASE, gate=GATE), ".gitignore": "idm-report.json\n"})
    fake_github.add_user(TOKEN, "github-actions[bot]", app=True)
    runner = Runner(repo, fake_github, tmp_path)
    wd = {"working-directory": "models"}
    p = runner.run("push", {"ref": "refs/heads/main", "repository": {"default_branch": "main"}}, wd,
                   extra_env={"GITHUB_REF": "refs/heads/main"})
    assert p.returncode == 0, p.stderr + p.stdout
    repo.git("checkout", "-q", "-b", "pr")
    repo.write("models/idm.yaml", manifest(BASE, size_bytes=int(2.2 * 10**9), gate=GATE))
    repo.commit()
    p = runner.run("pull_request", pr_payload(repo), wd, extra_env=pr_env(repo))
    assert p.returncode == 1, p.stderr + p.stdout
    assert "::error file=models/idm.yaml,title=idm-gate::bonsai: density down" in p.stdout


def test_a_warning_is_a_success_status_whose_description_says_warning(setup):
    repo, runner, gh = setup
    head = regress(repo, 1.03)  # a 2.9 % drop: over warn_drop 2 %, under max_drop 5 %
    p = runner.run("pull_request", pr_payload(repo), {}, extra_env=pr_env(repo))
    assert p.returncode == 0, p.stderr + p.stdout
    status = gh.statuses[(OWNER, REPO, head)][-1]
    assert (status["state"], status["description"]) == ("success", "warning: bonsai density -2.9 %")


def test_rerun_with_unchanged_result_writes_nothing(setup):
    repo, runner, gh = setup
    regress(repo)
    runner.run("pull_request", pr_payload(repo), {}, extra_env=pr_env(repo))
    before = len(gh.requests)
    runner.run("pull_request", pr_payload(repo), {"status-context": ""}, extra_env=pr_env(repo))
    new = gh.requests[before:]
    # the token's login (GraphQL viewer, a query) and one page of comments: no write at all
    assert [(r.method, r.path) for r in new] == [
        ("POST", "/graphql"), ("GET", f"/repos/{OWNER}/{REPO}/issues/{PR}/comments")]


def test_on_change_stays_quiet_when_no_model_changed(setup):
    repo, runner, gh = setup
    repo.write("NOTES.md", "docs only\n")
    repo.commit()
    p = runner.run("pull_request", pr_payload(repo), {"comment": "on-change"}, extra_env=pr_env(repo))
    assert p.returncode == 0, p.stderr
    assert gh.issue_comments(OWNER, REPO, PR) == []
    assert runner.outputs["verdict"] == "pass" and runner.outputs["comment-url"] == ""


@pytest.mark.parametrize("mode", ["on-change", "on-regression"])
def test_quiet_modes_bring_an_existing_comment_up_to_date_but_start_none(setup, mode):
    repo, runner, gh = setup
    repo.write("NOTES.md", "docs only\n")
    repo.commit()
    p = runner.run("pull_request", pr_payload(repo), {"comment": mode}, extra_env=pr_env(repo))
    assert p.returncode == 0 and gh.issue_comments(OWNER, REPO, PR) == []  # nothing to say: quiet
    regress(repo)
    p = runner.run("pull_request", pr_payload(repo), {"comment": mode}, extra_env=pr_env(repo))
    assert p.returncode == 1 and len(gh.issue_comments(OWNER, REPO, PR)) == 1
    repo.write("idm.yaml", manifest(BASE, gate=GATE))  # the PR takes the change back
    repo.commit("revert")
    p = runner.run("pull_request", pr_payload(repo), {"comment": mode}, extra_env=pr_env(repo))
    assert p.returncode == 0, p.stderr + p.stdout
    comments = gh.issue_comments(OWNER, REPO, PR)
    # the stale "fail" comment is replaced, not left standing, and still only one
    assert len(comments) == 1 and "idm-gate: **pass**" in comments[0]["body"]
    assert runner.outputs["comment-url"].endswith(f"#issuecomment-{comments[0]['id']}")


def test_fork_token_403_is_a_warning_not_a_different_verdict(setup):
    repo, runner, gh = setup
    regress(repo, 1.01)  # a 1 % drop: pass
    gh.add_user("ghs_forktoken", "github-actions[bot]", app=True, read_only=True)
    p = runner.run("pull_request", pr_payload(repo, fork=True), {}, token="ghs_forktoken",
                   extra_env=pr_env(repo))
    assert p.returncode == 0, p.stderr + p.stdout
    assert "::warning::" in p.stdout and "403" in p.stdout
    assert gh.issue_comments(OWNER, REPO, PR) == []
    assert "idm-gate: **pass**" in runner.summary.read_text()


def test_api_outage_does_not_change_the_exit_code(setup):
    repo, runner, gh = setup
    regress(repo)
    gh.inject("GET", r"/issues/\d+/comments", times=20, **server_error(502))
    gh.inject("POST", r"/statuses/", times=20, **server_error(503))
    p = runner.run("pull_request", pr_payload(repo), {}, extra_env=pr_env(repo))
    assert p.returncode == 1, p.stderr + p.stdout
    assert runner.outputs["verdict"] == "fail"
    assert p.stdout.count("::warning::") >= 2


def test_fail_on_regression_false_exits_zero(setup):
    repo, runner, gh = setup
    regress(repo)
    p = runner.run("pull_request", pr_payload(repo), {"fail-on-regression": "false"}, extra_env=pr_env(repo))
    assert p.returncode == 0 and runner.outputs["verdict"] == "fail"


@pytest.mark.parametrize("name,value,msg", [
    ("fail-on-regression", "yes", "input fail-on-regression: 'yes' is not a boolean"),
    ("mode", "gate", "input mode: 'gate' is not valid"),
    ("comment", "sometimes", "input comment: 'sometimes' is not valid"),
    ("max-drop", "5", "input max-drop: '5' is not valid"),
    ("working-directory", "../..", "points outside the workspace"),
])
def test_bad_inputs_are_one_line_exit_2(setup, name, value, msg):
    repo, runner, gh = setup
    p = runner.run("pull_request", pr_payload(repo), {name: value}, extra_env=pr_env(repo))
    assert p.returncode == 2, p.stderr
    assert msg in p.stderr and "Traceback" not in p.stderr


def test_token_is_masked_first_and_never_printed_again(setup):
    repo, runner, gh = setup
    regress(repo)
    gh.inject("POST", r"/statuses/", **forbidden_for_fork())
    p = runner.run("pull_request", pr_payload(repo), {}, extra_env=pr_env(repo))
    lines = p.stdout.splitlines()
    assert lines[0] == f"::add-mask::{TOKEN}"
    everything = "\n".join(lines[1:]) + p.stderr + runner.summary.read_text() + runner.output.read_text()
    assert TOKEN not in everything


def test_model_names_cannot_inject_workflow_commands_or_mentions(setup):
    repo, runner, gh = setup
    m = manifest(BASE, size_bytes=int(2 * 10**9 * 1.2), gate=GATE)
    m["models"][0]["name"] = "::set-output name=verdict::pass @octocat <img src=x> fixes #1"
    repo.write("idm.yaml", m)
    repo.commit()
    p = runner.run("pull_request", pr_payload(repo), {}, extra_env=pr_env(repo))
    for line in p.stdout.splitlines():
        assert not line.lstrip().startswith("::set-output"), line
    body = gh.issue_comments(OWNER, REPO, PR)[0]["body"]
    # GitHub decodes entities before it finds mentions and issue references: check what it would see
    seen = html.unescape(body)
    assert "@octocat" not in seen and "#1" not in seen and "<img" not in body
    assert "@\u200boctocat" in seen and "#\u200b1" in seen
    # the rename makes a "new" model and a "removed" one, which warns rather than passing silently
    assert runner.outputs["verdict"] == "warn"


def test_measure_then_publish_two_stage_fork_flow(setup, tmp_path):
    repo, runner, gh = setup
    head = regress(repo)
    # stage 1, in the fork's pull_request run: no token at all
    p = runner.run("pull_request", pr_payload(repo, fork=True), {"mode": "measure", "report": "idm-report.json"},
                   token=None, extra_env=pr_env(repo))
    assert p.returncode == 0, p.stderr + p.stdout
    artifact = repo.path / "idm-report.json"
    doc = json.loads(artifact.read_text())
    assert doc["kind"] == "measurement" and doc["context"]["pr_number"] == PR
    # stage 2, in the base repository's workflow_run: the default branch is checked out
    repo.git("checkout", "-q", "main")
    dl = repo.path / ".idm-report-artifact"
    dl.mkdir()
    (dl / "idm-report.json").write_text(artifact.read_text())
    artifact.unlink()
    gh.add_pull(OWNER, REPO, PR, head_sha=head, base_sha=repo.git("rev-parse", "origin/main"), head_repo="fork/models",
                head_ref="pr")
    # GitHub's workflow_run payload for a fork's run: pull_requests is empty
    run = webhooks.workflow_run(repository=f"{OWNER}/{REPO}", head_sha=head, head_repository="fork/models",
                                head_branch="pr")
    p = runner.run("workflow_run", run, {"mode": "publish", "report": ".idm-report-artifact/idm-report.json"})
    assert p.returncode == 1, p.stderr + p.stdout
    assert len(gh.issue_comments(OWNER, REPO, PR)) == 1
    assert gh.statuses[(OWNER, REPO, head)][-1]["state"] == "failure"

    # a tampered report: density edited upwards -> refused, nothing written
    tampered = json.loads((dl / "idm-report.json").read_text())
    tampered["models"][0]["density"] *= 2
    (dl / "idm-report.json").write_text(json.dumps(tampered))
    writes = len(gh.writes())
    p = runner.run("workflow_run", run, {"mode": "publish", "report": ".idm-report-artifact/idm-report.json"})
    assert p.returncode == 2 and "the report was edited" in p.stderr
    assert len(gh.writes()) == writes

    # a report that claims another PR than the one the run's head SHA belongs to
    other = json.loads(artifact.read_text()) if artifact.exists() else doc
    other["context"]["pr_number"] = PR + 1
    (dl / "idm-report.json").write_text(json.dumps(other))
    p = runner.run("workflow_run", run, {"mode": "publish", "report": ".idm-report-artifact/idm-report.json"})
    assert p.returncode == 2 and "refusing a report for another PR" in p.stderr


def test_merge_queue_group_is_checked_against_the_commit_it_was_built_on(setup):
    # The merge_group payload as GitHub sends it (action checks_requested): head_sha is the group's
    # commit (also GITHUB_SHA), base_sha the target branch's commit; GITHUB_BASE_REF is empty.
    repo, runner, gh = setup
    base = repo.git("rev-parse", "origin/main")
    head = regress(repo)
    payload = {"action": "checks_requested",
               "merge_group": {"head_sha": head, "head_ref": f"refs/heads/gh-readonly-queue/main/pr-{PR}-{base}",
                               "base_sha": base, "base_ref": "refs/heads/main",
                               "head_commit": {"id": head, "tree_id": "f" * 40, "message": "Merge pull request #7"}},
               "repository": {"full_name": f"{OWNER}/{REPO}", "default_branch": "main"}}
    p = runner.run("merge_group", payload, {},
                   extra_env={"GITHUB_REF": f"refs/heads/gh-readonly-queue/main/pr-{PR}-{base}"})
    assert p.returncode == 1, p.stderr + p.stdout
    assert "idm-gate: mode check (merge_group)" in p.stdout
    assert runner.outputs["verdict"] == "fail"
    assert gh.statuses[(OWNER, REPO, head)][-1]["state"] == "failure"
    assert gh.issue_comments(OWNER, REPO, PR) == []  # no pull request to comment on in a merge group
    # the same group without the regression passes
    repo.git("reset", "-q", "--hard", base)
    p = runner.run("merge_group", {**payload, "merge_group": {**payload["merge_group"], "head_sha": base}}, {},
                   extra_env={"GITHUB_REF": f"refs/heads/gh-readonly-queue/main/pr-{PR}-{base}"})
    assert p.returncode == 0, p.stderr + p.stdout
    assert runner.outputs["verdict"] == "pass"


@pytest.mark.parametrize("event,ref,want", [
    ("pull_request", "refs/pull/7/merge", "check"),
    ("merge_group", "refs/heads/gh-readonly-queue/main/pr-7-abc", "check"),
    ("pull_request_target", "refs/heads/main", "check"),
    ("push", "refs/heads/trunk", "record"),      # the repository's default branch
    ("push", "refs/heads/main", "measure"),      # not the default branch here: never a baseline
    ("push", "refs/tags/v1", "measure"),
    ("workflow_run", "refs/heads/trunk", "publish"),
])
def test_mode_auto_records_only_pushes_to_the_default_branch(event, ref, want):
    from idm_gate.action import resolve_mode
    from idm_gate.github.runner import RunnerContext

    ctx = RunnerContext(event_name=event, owner=OWNER, repo=REPO, api_url="https://api.github.com", sha="a" * 40,
                        ref=ref, base_ref=None, workspace=None, default_branch="trunk")
    assert resolve_mode("auto", ctx) == want
    assert resolve_mode("measure", ctx) == "measure"


def test_safe_directory_is_added_to_the_workflows_git_config(tmp_path, monkeypatch):
    """The workspace belongs to another user than the container's root: git must be told it is safe,
    without dropping config the workflow passed through GIT_CONFIG_*."""
    import io
    import os

    from idm_gate import action

    repo = make_repo(tmp_path, {"idm.yaml": manifest(BASE)})
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.abbrev")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "12")
    for k in ("GIT_CONFIG_KEY_1", "GIT_CONFIG_VALUE_1"):  # so monkeypatch removes what run() adds
        monkeypatch.setenv(k, "")
    monkeypatch.chdir(repo.path)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"ref": "refs/heads/feature", "repository": {"default_branch": "main"}}))
    env = dict(os.environ, GITHUB_EVENT_NAME="push", GITHUB_EVENT_PATH=str(event),
               GITHUB_REPOSITORY=f"{OWNER}/{REPO}", GITHUB_WORKSPACE=str(repo.path), GITHUB_REF="refs/heads/feature")
    assert action.run(env, out=io.StringIO()) == 0   # mode auto on a feature branch: measure
    assert os.environ["GIT_CONFIG_COUNT"] == "2"
    assert (os.environ["GIT_CONFIG_KEY_0"], os.environ["GIT_CONFIG_VALUE_0"]) == ("core.abbrev", "12")
    assert (os.environ["GIT_CONFIG_KEY_1"], os.environ["GIT_CONFIG_VALUE_1"]) == ("safe.directory", str(repo.path))
    assert subprocess.run(["git", "config", "--get-all", "safe.directory"], capture_output=True, text=True,
                          cwd=repo.path).stdout.strip() == str(repo.path)


def test_app_token_finds_its_comment_through_comment_author(setup):
    repo, runner, gh = setup
    regress(repo)
    gh.add_user("ghs_apptoken", "idm-app[bot]", app=True)   # GET /user answers 403, as for any App token
    pr = pr_payload(repo)
    p = runner.run("pull_request", pr, {"comment-author": "idm-app[bot]"}, token="ghs_apptoken",
                   extra_env=pr_env(repo))
    assert p.returncode == 1, p.stderr
    p = runner.run("pull_request", pr, {"comment-author": "idm-app[bot]", "comment": "always"},
                   token="ghs_apptoken", extra_env=pr_env(repo))
    comments = gh.issue_comments(OWNER, REPO, PR)
    assert len(comments) == 1 and comments[0]["user"]["login"] == "idm-app[bot]"
    assert gh.count("GET", r"^/user$") == gh.count("POST", r"^/graphql$") == 0  # the author was given: no need to ask


def test_sharded_measure_jobs_then_one_gate_job_with_the_parts(setup):
    # examples/workflows/idm-gate-sharded.yml: two measure jobs (shard 1/2, 2/2) upload parts; the gate
    # job downloads them into parts/ and checks them with measured-report instead of measuring again.
    repo, runner, gh = setup
    head = regress(repo)
    (repo.path / "parts").mkdir()
    for k in (1, 2):
        p = runner.run("pull_request", pr_payload(repo), {"mode": "measure", "shard": f"{k}/2",
                                                          "report": f"parts/part-{k}.json"}, extra_env=pr_env(repo))
        assert p.returncode == 0, p.stderr + p.stdout
        assert f"measured part {k} of 2:" in p.stdout
    parts = [json.loads((repo.path / "parts" / f"part-{k}.json").read_text()) for k in (1, 2)]
    assert sorted(len(d["models"]) for d in parts) == [0, 1] and all(d["commit"] == head for d in parts)

    # a part missing: refused before anything is written to GitHub
    held = (repo.path / "parts" / "part-2.json").read_text()
    (repo.path / "parts" / "part-2.json").unlink()
    writes = len(gh.writes())
    p = runner.run("pull_request", pr_payload(repo), {"mode": "check", "measured-report": "parts/part-*.json"},
                   extra_env=pr_env(repo))
    assert p.returncode == 2 and "part 2 of 2 is missing" in p.stderr, p.stderr + p.stdout
    assert len(gh.writes()) == writes
    (repo.path / "parts" / "part-2.json").write_text(held)

    # a report input in a mode that does not gate: refused
    p = runner.run("pull_request", pr_payload(repo), {"mode": "measure", "measured-report": "parts/part-*.json"},
                   extra_env=pr_env(repo))
    assert p.returncode == 2 and "only modes check and record take a report" in p.stderr

    p = runner.run("pull_request", pr_payload(repo), {"mode": "check", "measured-report": "parts/part-*.json"},
                   extra_env=pr_env(repo))
    assert p.returncode == 1, p.stderr + p.stdout  # the same regression as a measuring run finds
    assert runner.outputs["verdict"] == "fail" and float(runner.outputs["delta-pct"]) == pytest.approx(-9.09, abs=0.01)
    assert len(gh.issue_comments(OWNER, REPO, PR)) == 1
    assert gh.statuses[(OWNER, REPO, head)][-1]["state"] == "failure"
