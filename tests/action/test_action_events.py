"""`idm-gate action` on the events GitHub really sends: merge queues, closed PRs, pull_request_target,
fork PRs in the two-stage measure + publish setup, App tokens. Each runs the CLI in a subprocess on a
real git repository, with GitHub's published webhook payloads (tests/support/webhooks.py) and a fake GitHub
that answers as GitHub does for forks and installation tokens (tests/support/fakegithub.py)."""

from __future__ import annotations

import json

import pytest

import webhooks
from actionrunner import OWNER, PR, REPO, TOKEN, Runner
from gitrepo import Repo, make_repo

FULL = f"{OWNER}/{REPO}"
SCORES = {"arc": 70.0, "gsm8k": 60.0}   # Pe = 1 - (0.70 + 0.60) / 2 = 0.35 whatever the size
GATE = {"max_drop": "5%", "warn_drop": "2%"}
SIZE = 2 * 10**9
IGNORE = "idm-report.json\nidm-report-check.json\n.idm-report-artifact/\n"


def manifest(size_bytes: int = SIZE) -> dict:
    return {"version": 1, "gate": GATE,
            "models": [{"name": "bonsai", "size_bytes": size_bytes, "evals": [{"scores": SCORES, "scale": "percent"}]}]}


def grow(repo, factor: float, msg: str = "bigger model") -> str:
    """Make the model ``factor`` times bigger than the base: density = -ln(0.35) / size, so it changes by
    1/factor - 1 (the error rate is the same)."""
    repo.write("idm.yaml", manifest(int(SIZE * factor)))
    return repo.commit(msg)


def writes(gh) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in gh.writes()]


@pytest.fixture
def setup(tmp_path, fake_github):
    """main with its baseline recorded through the action (a push to the default branch)."""
    repo = make_repo(tmp_path, {"idm.yaml": manifest(), ".gitignore": IGNORE})
    fake_github.add_user(TOKEN, "github-actions[bot]", app=True)
    runner = Runner(repo, fake_github, tmp_path)
    p = runner.run("push", {"ref": "refs/heads/main", "repository": {"default_branch": "main"}}, {},
                   extra_env={"GITHUB_REF": "refs/heads/main"})
    assert p.returncode == 0 and "recorded 1 model(s)" in p.stdout, p.stderr + p.stdout
    return repo, runner, fake_github


def pr_merged_into_main(repo) -> tuple[str, dict]:
    """A PR branch that grows the model 10 %, checked out as GitHub's merge commit (base tip + PR head), as
    actions/checkout does for pull_request; returns the PR head's SHA and the event payload."""
    repo.git("checkout", "-q", "-b", "pr")
    head = grow(repo, 1.10)
    event = pr_event(repo)
    repo.git("checkout", "-q", "--detach", "main")
    repo.git("merge", "-q", "--no-ff", "-m", f"Merge {head} into main", head)
    return head, event


def pr_event(repo, action="synchronize", **kw) -> dict:
    return webhooks.pull_request(action, repository=FULL, number=PR, head_sha=repo.git("rev-parse", "HEAD"),
                                 base_sha=repo.git("rev-parse", "origin/main"), **kw)


PR_ENV = {"GITHUB_BASE_REF": "main", "GITHUB_REF": f"refs/pull/{PR}/merge"}


# -- 1. merge queues ---------------------------------------------------------------------------------

def queue(repo, factors: list[float]) -> str:
    """The queue's group branch: main with one commit per queued PR, each growing the model."""
    base = repo.git("rev-parse", "origin/main")
    repo.git("checkout", "-q", "-b", f"gh-readonly-queue/main/pr-104-{base}", "main")
    size = 1.0
    for i, f in enumerate(factors):
        size *= f
        head = grow(repo, size, f"queued PR {i + 1}")
    return head


def test_merge_group_that_regresses_as_a_whole_fails_with_a_status_on_the_group_commit(setup):
    repo, runner, gh = setup
    # each queued PR alone: 1/1.03 - 1 = -2.9 % (a warning); together 1/1.03**2 - 1 = 1/1.0609 - 1 = -5.74 % > 5 %
    head = queue(repo, [1.03, 1.03])
    base = repo.git("rev-parse", "origin/main")
    event = webhooks.merge_group(repository=FULL, head_sha=head, base_sha=base)
    env = {"GITHUB_SHA": head, "GITHUB_REF": event["merge_group"]["head_ref"]}
    p = runner.run("merge_group", event, {}, extra_env=env)   # mode auto
    assert p.returncode == 1, p.stderr + p.stdout
    assert "idm-gate: mode check (merge_group)" in p.stdout
    assert float(runner.outputs["delta-pct"]) == pytest.approx(-5.74, abs=0.01)
    (status,) = gh.statuses[(OWNER, REPO, head)]
    assert (status["state"], status["context"]) == ("failure", "idm-gate")
    assert status["description"] == "fail: bonsai density -5.7 %"
    # no PR to comment on: the status is the only write, and nothing was asked about comments
    assert writes(gh) == [("POST", f"/repos/{OWNER}/{REPO}/statuses/{head}")]
    assert gh.count("GET", r"/comments") == 0
    assert "idm-gate: **fail**" in runner.summary.read_text()



def test_a_stacked_merge_group_is_gated_against_the_recorded_target_branch(setup):
    """With two entries in the queue GitHub builds the second group on the first one's commit, and
    merge_group.base_sha is that parent ("the SHA of the merge group's parent commit"), which no record
    names: the baseline is the nearest recorded first-parent ancestor, the target branch's tip."""
    repo, runner, gh = setup
    main = repo.git("rev-parse", "origin/main")
    first = queue(repo, [1.03])           # group 1: main + PR 1, -2.9 % (a warning)
    second = grow(repo, 1.03 ** 2, "queued PR 2")   # group 2 on group 1: 1/1.0609 - 1 = -5.74 % against main
    event = webhooks.merge_group(repository=FULL, head_sha=second, base_sha=first)
    env = {"GITHUB_SHA": second, "GITHUB_REF": event["merge_group"]["head_ref"]}
    p = runner.run("merge_group", event, {}, extra_env=env)
    assert p.returncode == 1, p.stderr + p.stdout
    assert float(runner.outputs["delta-pct"]) == pytest.approx(-5.74, abs=0.01)
    assert main[:7] in runner.summary.read_text()   # the baseline named is main's recorded tip
    assert [s["state"] for s in gh.statuses[(OWNER, REPO, second)]] == ["failure"]
    assert (OWNER, REPO, first) not in gh.statuses

def test_merge_group_of_passing_prs_reports_success_so_the_queue_can_merge(setup):
    repo, runner, gh = setup
    head = queue(repo, [1.01])    # 1/1.01 - 1 = -0.99 %: under warn_drop 2 %
    event = webhooks.merge_group(repository=FULL, head_sha=head, base_sha=repo.git("rev-parse", "origin/main"))
    p = runner.run("merge_group", event, {"mode": "check"}, extra_env={"GITHUB_SHA": head})
    assert p.returncode == 0, p.stderr + p.stdout
    assert gh.statuses[(OWNER, REPO, head)][-1]["state"] == "success"
    assert runner.outputs["verdict"] == "pass"


def test_merge_group_with_another_commit_checked_out_is_refused(setup):
    repo, runner, gh = setup
    head = queue(repo, [1.01])
    repo.git("checkout", "-q", "main")
    event = webhooks.merge_group(repository=FULL, head_sha=head, base_sha=repo.git("rev-parse", "origin/main"))
    p = runner.run("merge_group", event, {})
    assert p.returncode == 2, p.stderr + p.stdout
    assert f"not the merge group's head {head[:12]}" in p.stderr
    assert gh.writes() == []



def test_the_sharded_example_gates_a_merge_group_from_its_parts_in_the_ignored_folder(setup):
    """examples/workflows/idm-gate-sharded.yml on merge_group: two measure jobs write
    .idm-gate/part-K.json, the gate job finds them in .idm-gate/parts/ (download-artifact's path) and
    sets the status on the group's commit; nothing shows in `git status`."""
    repo, runner, gh = setup
    head = queue(repo, [1.03, 1.03])   # 1/1.03**2 - 1 = -5.74 %: over max_drop 5 %
    event = webhooks.merge_group(repository=FULL, head_sha=head, base_sha=repo.git("rev-parse", "origin/main"))
    env = {"GITHUB_SHA": head, "GITHUB_REF": event["merge_group"]["head_ref"]}
    for k in (1, 2):
        p = runner.run("merge_group", event, {"mode": "measure", "shard": f"{k}/2",
                                              "report": f".idm-gate/part-{k}.json"}, extra_env=env)
        assert p.returncode == 0, p.stderr + p.stdout
    assert gh.writes() == []   # measuring writes nothing to GitHub
    parts = repo.path / ".idm-gate" / "parts"
    parts.mkdir()
    for k in (1, 2):
        (repo.path / ".idm-gate" / f"part-{k}.json").replace(parts / f"part-{k}.json")
    p = runner.run("merge_group", event, {"measured-report": ".idm-gate/parts/part-*.json"}, extra_env=env)
    assert p.returncode == 1, p.stderr + p.stdout
    assert "idm-gate: mode check (merge_group)" in p.stdout
    assert float(runner.outputs["delta-pct"]) == pytest.approx(-5.74, abs=0.01)
    assert [s["state"] for s in gh.statuses[(OWNER, REPO, head)]] == ["failure"]
    assert writes(gh) == [("POST", f"/repos/{OWNER}/{REPO}/statuses/{head}")]
    assert repo.git("status", "--porcelain", "--untracked-files=all") == ""

# -- 3. closed PRs -----------------------------------------------------------------------------------

def test_a_closed_event_leaves_the_failing_comment_and_status_alone(setup):
    repo, runner, gh = setup
    repo.git("checkout", "-q", "-b", "pr")
    head = grow(repo, 1.10)   # 1/1.1 - 1 = -9.1 %: fail
    p = runner.run("pull_request", pr_event(repo), {}, extra_env=PR_ENV)
    assert p.returncode == 1, p.stderr + p.stdout
    (comment,) = gh.issue_comments(OWNER, REPO, PR)
    before = (comment["body"], list(gh.statuses[(OWNER, REPO, head)]), len(gh.requests))
    # the workflow also runs on `closed`; the default checkout of a closed PR is whatever GitHub gives:
    # here main, which passes (what once rewrote ❌ to ✅)
    repo.git("checkout", "-q", "main")
    p = runner.run("pull_request", pr_event(repo, "closed") | {}, {}, extra_env=PR_ENV)
    assert p.returncode == 0, p.stderr + p.stdout
    assert f"::notice::pull request #{PR} was closed" in p.stdout
    (after,) = gh.issue_comments(OWNER, REPO, PR)
    assert (after["body"], gh.statuses[(OWNER, REPO, head)], len(gh.requests)) == before
    assert "❌" in after["body"]


# -- 4. pull_request_target --------------------------------------------------------------------------

def test_pull_request_target_with_the_default_checkout_is_refused(setup):
    repo, runner, gh = setup
    repo.git("checkout", "-q", "-b", "pr")
    head = grow(repo, 1.10)
    event = pr_event(repo)   # the PR's head is `head`
    repo.git("checkout", "-q", "main")   # pull_request_target's default checkout: the base branch
    p = runner.run("pull_request_target", event, {}, extra_env={"GITHUB_BASE_REF": "main",
                                                               "GITHUB_REF": "refs/heads/main"})
    assert p.returncode == 2, p.stderr + p.stdout
    err = p.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"not pull request #{PR}'s head {head[:12]} nor its merge commit" in err
    assert "pull_request_target checks out the base branch" in err
    assert "on pull_request with actions/checkout's default ref" in err and "idm-gate-publish.yml" in err
    assert gh.writes() == [] and gh.issue_comments(OWNER, REPO, PR) == []


def test_pull_request_target_with_the_prs_head_checked_out_reports_on_it(setup):
    repo, runner, gh = setup
    repo.git("checkout", "-q", "-b", "pr")
    head = grow(repo, 1.10)
    p = runner.run("pull_request_target", pr_event(repo), {}, extra_env={"GITHUB_BASE_REF": "main"})
    assert p.returncode == 1, p.stderr + p.stdout
    assert gh.statuses[(OWNER, REPO, head)][-1]["state"] == "failure"
    assert len(gh.issue_comments(OWNER, REPO, PR)) == 1


def test_pull_request_on_its_merge_commit_reports_on_the_head(setup):
    """actions/checkout's default for pull_request is refs/pull/N/merge: base tip + PR head."""
    repo, runner, gh = setup
    head, event = pr_merged_into_main(repo)
    merge = repo.git("rev-parse", "HEAD")
    p = runner.run("pull_request", event, {}, extra_env={**PR_ENV, "GITHUB_SHA": merge})
    assert p.returncode == 1, p.stderr + p.stdout
    assert gh.statuses[(OWNER, REPO, head)][-1]["state"] == "failure"
    assert (OWNER, REPO, merge) not in gh.statuses


# -- 2. and 8. fork PRs through measure + publish ----------------------------------------------------

def measure_then_download(repo, runner, head_repository: str, head_ref: str) -> None:
    """Stage 1 in the fork's pull_request run (no token), then the artifact as download-artifact leaves it
    in the publish run, which has the default branch checked out."""
    event = pr_event(repo, head_repository=head_repository, head_ref=head_ref)
    p = runner.run("pull_request", event, {"mode": "measure"}, token=None, extra_env=PR_ENV)
    assert p.returncode == 0, p.stderr + p.stdout
    report = repo.path / runner.outputs["report-path"]   # relative to the workspace, as upload-artifact reads it
    repo.git("checkout", "-q", "main")
    (repo.path / ".idm-report-artifact").mkdir(exist_ok=True)
    report.replace(repo.path / ".idm-report-artifact" / "idm-report.json")


PUBLISH = {"mode": "publish", "report": ".idm-report-artifact/idm-report.json"}


def test_a_fork_pr_is_found_by_owner_and_branch_and_never_confused_with_another_forks_pr(setup):
    repo, runner, gh = setup
    repo.git("checkout", "-q", "-b", "patch-1")
    head = grow(repo, 1.10)
    base = repo.git("rev-parse", "origin/main")
    # bob opened a PR from his own fork's branch of the same name with the very same commit, first
    gh.add_pull(OWNER, REPO, PR + 1, head_sha=head, base_sha=base, head_repo="bob/models", head_ref="patch-1")
    gh.add_pull(OWNER, REPO, PR, head_sha=head, base_sha=base, head_repo="alice/models", head_ref="patch-1")
    measure_then_download(repo, runner, "alice/models", "patch-1")
    event = webhooks.workflow_run(repository=FULL, head_sha=head, head_repository="alice/models",
                                  head_branch="patch-1")
    assert event["workflow_run"]["pull_requests"] == []   # as GitHub sends it for a fork
    p = runner.run("workflow_run", event, PUBLISH)
    assert p.returncode == 1, p.stderr + p.stdout
    assert len(gh.issue_comments(OWNER, REPO, PR)) == 1 and gh.issue_comments(OWNER, REPO, PR + 1) == []
    assert gh.statuses[(OWNER, REPO, head)][-1]["state"] == "failure"
    # the lookup GitHub supports for forks: open PRs whose head is alice:patch-1
    (listing,) = [r for r in gh.requests if r.path == f"/repos/{OWNER}/{REPO}/pulls"]
    assert listing.query["head"] == "alice:patch-1" and listing.query["state"] == "open"


def test_a_report_claiming_another_forks_pr_is_refused(setup):
    repo, runner, gh = setup
    repo.git("checkout", "-q", "-b", "patch-1")
    head = grow(repo, 1.10)
    base = repo.git("rev-parse", "origin/main")
    gh.add_pull(OWNER, REPO, PR, head_sha=head, base_sha=base, head_repo="alice/models", head_ref="patch-1")
    gh.add_pull(OWNER, REPO, 99, head_sha=head, base_sha=base, head_repo="bob/models", head_ref="patch-1")
    measure_then_download(repo, runner, "alice/models", "patch-1")
    report = repo.path / ".idm-report-artifact" / "idm-report.json"
    doc = json.loads(report.read_text())
    doc["context"]["pr_number"] = 99    # a fork's measure run writes what it likes into its artifact
    report.write_text(json.dumps(doc))
    event = webhooks.workflow_run(repository=FULL, head_sha=head, head_repository="alice/models",
                                  head_branch="patch-1")
    p = runner.run("workflow_run", event, PUBLISH)
    assert p.returncode == 2, p.stderr + p.stdout
    assert f"context names PR 99, but the run's head {head[:12]} belongs to PR #{PR}" in p.stderr
    assert gh.writes() == []


def test_publish_for_a_pr_whose_head_moved_on_is_a_notice_not_a_failure(setup):
    repo, runner, gh = setup
    repo.git("checkout", "-q", "-b", "patch-1")
    head = grow(repo, 1.10)
    gh.add_pull(OWNER, REPO, PR, head_sha=head, base_sha=repo.git("rev-parse", "origin/main"),
                head_repo="alice/models", head_ref="patch-1")
    measure_then_download(repo, runner, "alice/models", "patch-1")
    gh.push_to_pull(OWNER, REPO, PR, "f" * 40)   # alice pushed again while this run waited
    event = webhooks.workflow_run(repository=FULL, head_sha=head, head_repository="alice/models",
                                  head_branch="patch-1")
    p = runner.run("workflow_run", event, PUBLISH)
    assert p.returncode == 0, p.stderr + p.stdout
    assert f"::notice::PR #{PR} has moved on to ffffffffffff since this run measured {head[:12]}" in p.stdout
    assert gh.writes() == []


def test_publish_when_the_base_has_no_manifest_passes_with_a_notice(tmp_path, fake_github):
    """The PR introduces the gate: nothing to compare with, and the PR's own manifest is not trusted."""
    gh = fake_github
    repo = make_repo(tmp_path, {"README.md": "models\n", ".gitignore": IGNORE})
    gh.add_user(TOKEN, "github-actions[bot]", app=True)
    runner = Runner(repo, gh, tmp_path)
    repo.git("checkout", "-q", "-b", "add-gate")
    repo.write("idm.yaml", manifest())
    head = repo.commit("add idm-gate")
    gh.add_pull(OWNER, REPO, PR, head_sha=head, base_sha=repo.git("rev-parse", "origin/main"),
                head_repo="alice/models", head_ref="add-gate")
    measure_then_download(repo, runner, "alice/models", "add-gate")
    event = webhooks.workflow_run(repository=FULL, head_sha=head, head_repository="alice/models",
                                  head_branch="add-gate")
    p = runner.run("workflow_run", event, PUBLISH)
    assert p.returncode == 0, p.stderr + p.stdout
    assert runner.outputs["verdict"] == "pass"
    assert gh.statuses[(OWNER, REPO, head)][-1]["state"] == "success"
    (comment,) = gh.issue_comments(OWNER, REPO, PR)
    assert "idm.yaml does not exist at the base commit" in comment["body"]


# -- 9. the comment's author -------------------------------------------------------------------------

def test_an_app_token_finds_its_own_comment_without_comment_author(setup):
    repo, runner, gh = setup
    repo.git("checkout", "-q", "-b", "pr")
    grow(repo, 1.10)
    gh.add_user("ghs_apptoken", "idm-app[bot]", app=True)   # GET /user: 403; GraphQL viewer: idm-app[bot]
    for comment in ("on-change", "always"):
        p = runner.run("pull_request", pr_event(repo), {"comment": comment}, token="ghs_apptoken", extra_env=PR_ENV)
        assert p.returncode == 1, p.stderr + p.stdout
    grow(repo, 1.20)
    p = runner.run("pull_request", pr_event(repo), {}, token="ghs_apptoken", extra_env=PR_ENV)
    (comment,) = gh.issue_comments(OWNER, REPO, PR)
    assert comment["user"]["login"] == "idm-app[bot]" and "▼\u00a0-16.7\u00a0%" in comment["body"]   # 1/1.2 - 1
    assert gh.count("POST", r"/issues/\d+/comments$") == 1 and gh.count("PATCH") == 1


# -- 10. every mode is a CLI command; a user's mistake is exit 2 and an ::error:: -------------------

def test_idm_gate_publish_does_from_a_terminal_what_mode_publish_does(setup):
    repo, runner, gh = setup
    repo.git("checkout", "-q", "-b", "patch-1")
    head = grow(repo, 1.10)   # 1/1.1 - 1 = -9.1 %: fail
    gh.add_pull(OWNER, REPO, PR, head_sha=head, base_sha=repo.git("rev-parse", "origin/main"),
                head_repo="alice/models", head_ref="patch-1")
    p = repo.idm("measure", "--format", "json", "--output", "../report.json")
    assert p.returncode == 0, p.stderr
    repo.git("checkout", "-q", "main")
    args = ["publish", "--report", "../report.json", "--repository", FULL, "--head-sha", head,
            "--head-repository", "alice/models", "--head-branch", "patch-1", "--api-url", gh.url,
            "--output", "../check.json"]
    p = repo.idm(*args, env_extra={"GITHUB_TOKEN": TOKEN})
    assert p.returncode == 1, p.stderr + p.stdout
    assert "bonsai" in p.stdout and "::" not in p.stdout + p.stderr   # plain text, no workflow commands
    (comment,) = gh.issue_comments(OWNER, REPO, PR)
    assert "idm-gate: **fail**" in comment["body"] and "▼\u00a0-9.1\u00a0%" in comment["body"]
    assert gh.statuses[(OWNER, REPO, head)][-1]["state"] == "failure"
    assert json.loads((repo.path.parent / "check.json").read_text())["verdict"] == "fail"
    # the same again with the PR's head moved on: superseded, a notice and exit 0
    gh.push_to_pull(OWNER, REPO, PR, "f" * 40)
    p = repo.idm(*args, "--no-fail", env_extra={"GITHUB_TOKEN": TOKEN})
    assert p.returncode == 0 and f"idm-gate: notice: PR #{PR} has moved on" in p.stderr
    # no token: one line, exit 2
    p = repo.idm(*args)
    assert p.returncode == 2 and p.stderr.strip() == (
        "idm-gate: error: idm-gate publish: set GITHUB_TOKEN (or GH_TOKEN) to a token that may read pull "
        "requests and write comments and statuses")


def test_an_abbreviated_head_sha_is_refused_before_anything_is_measured_or_posted(setup):
    """GitHub answers a status on an abbreviated SHA with 422 "sha must be a 40 character SHA1": the
    command says so at once, exit 2, instead of a warning after the measurement."""
    repo, runner, gh = setup
    short = repo.git("rev-parse", "--short=7", "HEAD")
    common = ["--repository", FULL, "--api-url", gh.url, "--head-sha", short]
    before = len(gh.requests)
    for args in (["check", "--base-ref", "origin/main", "--pr", str(PR), *common],
                 ["publish", "--report", "report.json", "--head-repository", FULL, "--head-branch", "main", *common]):
        p = repo.idm(*args, env_extra={"GITHUB_TOKEN": TOKEN})
        assert p.returncode == 2 and p.stdout == "", p.stderr + p.stdout
        assert p.stderr.strip() == (f"idm-gate: error: --head-sha: '{short}' is not a full commit SHA (40 hex "
                                    f"digits), which GitHub needs for a status; `git rev-parse {short}` prints it")
    assert len(gh.requests) == before


def test_an_empty_head_sha_is_refused_not_taken_for_head(setup):
    """``--head-sha "$SHA"`` with the variable unset (a workflow expression that is empty on this event) is a
    mistake: the status would go on the local HEAD, which need not be the commit meant (a merge commit, or
    one never pushed). It is refused as any other malformed SHA, exit 2, before anything is measured."""
    repo, runner, gh = setup
    before = len(gh.requests)
    for args in (["check", "--base-ref", "origin/main", "--pr", str(PR)],
                 ["publish", "--report", "report.json", "--head-repository", FULL, "--head-branch", "main"]):
        p = repo.idm(*args, "--repository", FULL, "--api-url", gh.url, "--head-sha", "",
                     env_extra={"GITHUB_TOKEN": TOKEN})
        assert p.returncode == 2 and p.stdout == "", p.stderr + p.stdout
        assert p.stderr.strip() == ("idm-gate: error: --head-sha: '' is not a full commit SHA (40 hex digits), which "
                                    "GitHub needs for a status; `git rev-parse <commit>` prints it")
    assert len(gh.requests) == before


def test_a_report_path_in_a_missing_folder_is_exit_2_and_an_error_annotation(setup):
    repo, runner, gh = setup
    repo.git("checkout", "-q", "-b", "pr")
    grow(repo, 1.01)
    p = runner.run("pull_request", pr_event(repo), {"report": "out/idm-report.json"}, extra_env=PR_ENV)
    assert p.returncode == 2, p.stderr + p.stdout
    folder = repo.path / "out"
    msg = f"input report: the folder {folder} does not exist; create it in an earlier step or name a file in an " \
          "existing folder"
    assert p.stderr.strip() == f"idm-gate: error: {msg}"
    # the runner lists ::error:: lines on the run's page; ':' and ',' are escaped in the title property only
    assert f"::error title=idm-gate::{msg}" in p.stdout.splitlines()


def test_a_mistake_in_the_workflows_environment_is_exit_2_and_an_error_annotation(setup):
    repo, runner, gh = setup
    p = runner.run("push", {"ref": "refs/heads/x"}, {}, extra_env={"GIT_CONFIG_COUNT": "x"})
    assert p.returncode == 2 and "::error title=idm-gate::GIT_CONFIG_COUNT: 'x' is not a number" in p.stdout


def test_the_default_shallow_checkout_of_the_merge_commit_is_accepted(setup, tmp_path):
    """actions/checkout's default for pull_request: `git fetch --depth=1 origin refs/pull/N/merge`, so
    the merge commit's parents are not in the clone; it is still the PR's merge commit."""
    repo, runner, gh = setup
    head, event = pr_merged_into_main(repo)
    repo.git("push", "-q", "origin", f"HEAD:refs/pull/{PR}/merge", f"{head}:refs/pull/{PR}/head")
    ci = Repo(tmp_path / "ci", repo.origin, repo.env)
    ci.path.mkdir()
    ci.git("init", "-q")
    ci.git("remote", "add", "origin", f"file://{repo.origin}")
    ci.git("fetch", "-q", "--no-tags", "--depth=1", "origin", f"+refs/pull/{PR}/merge:refs/remotes/pull/{PR}/merge")
    ci.git("checkout", "-q", "--detach", f"refs/remotes/pull/{PR}/merge")
    assert ci.git("rev-parse", "--is-shallow-repository") == "true"
    ci_runner = Runner(ci, gh, tmp_path)
    p = ci_runner.run("pull_request", event, {}, extra_env=PR_ENV)
    assert p.returncode == 1, p.stderr + p.stdout
    assert gh.statuses[(OWNER, REPO, head)][-1]["state"] == "failure"
    assert float(ci_runner.outputs["delta-pct"]) == pytest.approx(-9.09, abs=0.01)   # 1/1.1 - 1


def test_idm_gate_check_with_pr_posts_what_the_actions_mode_check_posts(setup):
    repo, runner, gh = setup
    repo.git("checkout", "-q", "-b", "pr")
    grow(repo, 1.10)
    head = repo.push_pull_request(PR)   # the PR exists: GitHub has its head (a status on it needs that)
    args = ["check", "--base-ref", "origin/main", "--pr", str(PR), "--repository", FULL, "--api-url", gh.url]
    p = repo.idm(*args)   # no token: refused before anything is measured
    assert p.returncode == 2 and "set GITHUB_TOKEN (or GH_TOKEN)" in p.stderr and p.stdout == ""
    p = repo.idm(*args, env_extra={"GH_TOKEN": TOKEN})
    assert p.returncode == 1, p.stderr + p.stdout
    assert p.stdout.count("bonsai") >= 1 and "PR comment created" in p.stdout
    # the same comment the action posts: run the action on the same commit and it is unchanged
    (comment,) = gh.issue_comments(OWNER, REPO, PR)
    assert gh.statuses[(OWNER, REPO, head)][-1]["state"] == "failure"
    assert f"]({gh.url}/{FULL}/commit/" in comment["body"]   # commit links, as GITHUB_SERVER_URL gives them
    # the README: "The comment's text is what `idm-gate check --base-ref origin/main --format markdown`
    # prints" (with the same server URL and repository, which decide the commit links)
    md = repo.idm("check", "--base-ref", "origin/main", "--format", "markdown",
                  env_extra={"GITHUB_SERVER_URL": gh.url, "GITHUB_REPOSITORY": FULL})
    assert md.returncode == 1, md.stderr
    # byte for byte, after the sticky comment's hidden marker line (the default comment key)
    assert comment["body"] == "<!-- idm-gate:comment-key=default -->\n" + md.stdout.rstrip("\n")
    p = runner.run("pull_request", pr_event(repo), {}, extra_env={**PR_ENV, "GITHUB_SERVER_URL": gh.url})
    assert p.returncode == 1 and "PR comment unchanged" in p.stdout, p.stderr + p.stdout
    assert gh.issue_comments(OWNER, REPO, PR) == [comment]


def test_check_with_pr_on_a_commit_never_pushed_posts_the_comment_and_says_why_the_status_is_missing(setup):
    """GitHub refuses a status on a commit it does not have (422 "No commit found for SHA: <sha>"): a local
    commit not pushed yet. One warning line names the SHA and the likely causes; the verdict, its exit code
    and the PR comment stand."""
    repo, runner, gh = setup
    repo.git("checkout", "-q", "-b", "pr")
    grow(repo, 1.10)
    pushed = repo.push_pull_request(PR)
    local = grow(repo, 1.20, "bigger still, not pushed")
    p = repo.idm("check", "--base-ref", "origin/main", "--pr", str(PR), "--repository", FULL, "--api-url", gh.url,
                 env_extra={"GH_TOKEN": TOKEN})
    assert p.returncode == 1, p.stderr + p.stdout   # the gate's verdict (fail), not the status's fate
    assert "Traceback" not in p.stderr
    assert [ln for ln in p.stderr.splitlines() if "warning" in ln] == [
        f"idm-gate: warning: commit status skipped: GitHub API POST /repos/{FULL}/statuses/{local}: 422: No commit "
        f"found for SHA: {local} (GitHub has no such commit in {FULL}: push it first if it is only local, and "
        "check that the repository and API URL are the ones it was pushed to; a head that was force-pushed "
        "away gets no status, the run for the new head sets one)"]
    assert gh.statuses == {} and gh.count("POST", r"/statuses/") == 1   # a 422 is not retried
    (comment,) = gh.issue_comments(OWNER, REPO, PR)
    assert "idm-gate: **fail**" in comment["body"]
    assert gh.failures == [f"POST /repos/{FULL}/statuses/{local}: 422 No commit found for SHA: {local} (push it "
                           "to the origin given to add_repository, or name it in add_pull/add_commit)"]
    gh.failures.clear()   # provoked on purpose
    # pushed, the same command sets the status
    assert repo.push_pull_request(PR) == local != pushed
    p = repo.idm("check", "--base-ref", "origin/main", "--pr", str(PR), "--repository", FULL, "--api-url", gh.url,
                 env_extra={"GH_TOKEN": TOKEN})
    assert p.returncode == 1 and "warning" not in p.stderr, p.stderr
    assert [s["state"] for s in gh.statuses[(OWNER, REPO, local)]] == ["failure"]


def test_two_open_prs_with_the_runs_head_are_told_apart_only_by_the_reports_claim(setup):
    """One branch of one fork proposed into two base branches: only the PR number the measure run wrote
    (checked against the API) says which PR it was for; without it nothing is written."""
    repo, runner, gh = setup
    repo.git("checkout", "-q", "-b", "patch-1")
    head = grow(repo, 1.10)
    base = repo.git("rev-parse", "origin/main")
    gh.add_pull(OWNER, REPO, PR, head_sha=head, base_sha=base, head_repo="alice/models", head_ref="patch-1")
    gh.add_pull(OWNER, REPO, PR + 1, head_sha=head, base_sha=base, head_repo="alice/models", head_ref="patch-1",
                base_ref="release")
    measure_then_download(repo, runner, "alice/models", "patch-1")
    report = repo.path / ".idm-report-artifact" / "idm-report.json"
    measured = report.read_text()
    doc = json.loads(measured)
    del doc["context"]   # a report without the PR number (e.g. made by `idm-gate measure --format json`)
    report.write_text(json.dumps(doc))
    event = webhooks.workflow_run(repository=FULL, head_sha=head, head_repository="alice/models",
                                  head_branch="patch-1")
    p = runner.run("workflow_run", event, PUBLISH)
    assert p.returncode == 2, p.stderr + p.stdout
    assert (f"2 open pull requests (#{PR + 1}, #{PR}) have head {head[:12]} from alice/models; cannot tell which "
            "one this run measured") in p.stderr
    assert gh.writes() == []
    # the measure run's own report names PR 7 (a pull_request run knows its PR): that decides it
    report.write_text(measured)
    p = runner.run("workflow_run", event, PUBLISH)
    assert p.returncode == 1, p.stderr + p.stdout
    assert len(gh.issue_comments(OWNER, REPO, PR)) == 1 and gh.issue_comments(OWNER, REPO, PR + 1) == []
