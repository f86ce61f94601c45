"""GitHub API faults at the action level: `idm-gate action` in a subprocess against the fake GitHub.

Every fault GitHub (or the network in between) is known to produce, injected into the requests of a real
pull_request run. The contract under test: the verdict and the exit code come from the gate alone; a
fault is retried when retrying is safe and GitHub's waits are honoured; what still fails is one
``::warning::`` line, never a different exit code, never a second sticky comment.

The retry knobs are turned down (``IDM_GATE_GH_*``) so the whole matrix runs in seconds; the waits a
rate limit asks for stay real and are measured between the two requests on the fake's side.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from actionrunner import OWNER, PR, REPO, TOKEN, Runner, pr_env, pr_payload, regress
from fakegithub import (
    graphql_rate_limited,
    not_found,
    primary_rate_limit,
    rate_limited_429,
    secondary_rate_limit,
    server_error,
)
from gatecase import BASE, GATE, manifest
from gitrepo import Repo, git_env, make_repo
from idm_gate.github.comment import COMMENT_LIMIT, marker

COMMENTS = rf"/issues/{PR}/comments$"
STATUSES = r"/statuses/[0-9a-f]+$"
LIST = ("GET", COMMENTS)
CREATE = ("POST", COMMENTS)
STATUS = ("POST", STATUSES)
TAG = marker("default")
FAST = {"IDM_GATE_GH_ATTEMPTS": "3", "IDM_GATE_GH_BACKOFF": "0.01", "IDM_GATE_GH_MAX_WAIT": "0.2",
        "IDM_GATE_GH_TOTAL_WAIT": "2", "IDM_GATE_GH_TIMEOUT": "5"}
SLOW = 1.0      # a slow answer ...
TIMEOUT = "0.3"  # ... against this IDM_GATE_GH_TIMEOUT

FAULTS = {
    "500": server_error(500),
    "502": server_error(502),
    "503": server_error(503),
    "timeout": dict(delay=SLOW),
    "reset": dict(reset=True),
}


class TimedLog(list):
    """The fake's request log, with the monotonic time each request arrived."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    def append(self, item) -> None:
        self.times.append(time.monotonic())
        super().append(item)


@pytest.fixture(scope="session")
def recorded(tmp_path_factory) -> Path:
    """main with its baseline recorded on origin, a PR branch checked out: built once per worker."""
    tmp = tmp_path_factory.mktemp("recorded")
    repo = make_repo(tmp, {"idm.yaml": manifest(BASE, gate=GATE),
                           ".gitignore": "idm-report.json\n.idm-report-artifact/\n"})
    p = repo.idm("record")
    assert p.returncode == 0, p.stderr
    repo.git("checkout", "-q", "-b", "pr")
    return tmp


@pytest.fixture
def pr(tmp_path, fake_github, recorded):
    """A copy of ``recorded`` whose PR makes the model 10 % bigger (density -9.1 %: fail, exit 1).

    The fake GitHub knows the Actions token and logs when each request arrived."""
    for name in ("origin.git", "work"):
        shutil.copytree(recorded / name, tmp_path / name, symlinks=True)
    repo = Repo(tmp_path / "work", tmp_path / "origin.git", git_env(tmp_path))
    repo.git("remote", "set-url", "origin", str(repo.origin))
    fake_github.add_user(TOKEN, "github-actions[bot]", app=True)
    head = regress(repo)
    fake_github.requests = TimedLog()
    return repo, Runner(repo, fake_github, tmp_path), fake_github, head


def act(repo, runner, *, env=None, inputs=None, token=TOKEN):
    """One pull_request run of the action; returns (process, warning lines)."""
    p = runner.run("pull_request", pr_payload(repo), inputs or {}, token=token,
                   extra_env={**pr_env(repo), **FAST, **(env or {})})
    warnings = [ln for ln in p.stdout.splitlines() if ln.startswith("::warning::")]
    return p, warnings


def calls(gh) -> list[tuple[str, str]]:
    """The run's requests, paths shortened to what tells them apart."""
    out = []
    for r in gh.requests:
        path = re.sub(rf"^/repos/{OWNER}/{REPO}", "", r.path)
        out.append((r.method, re.sub(r"/statuses/[0-9a-f]+$", "/statuses/SHA", path)))
    return out


def count(gh, what: tuple[str, str]) -> int:
    return gh.count(*what)


def gap(gh, what: tuple[str, str]) -> float:
    """Seconds between the first two requests matching ``what`` (the fault and its retry)."""
    method, rx = what
    times = [t for r, t in zip(gh.requests, gh.requests.times, strict=True) if r.method == method and re.search(rx, r.path)]
    assert len(times) >= 2, f"{what} was not retried"
    return times[1] - times[0]


def assert_delivered(gh, runner, head, state="failure"):
    """One sticky comment carrying the verdict, the status on the PR head, the comment-url output."""
    comments = gh.issue_comments(OWNER, REPO, PR)
    assert len(comments) == 1, [c["body"][:60] for c in comments]
    body = comments[0]["body"]
    assert body.startswith(TAG) and "idm-gate: **fail**" in body and "▼\u00a0-9.1\u00a0%" in body
    assert gh.statuses[(OWNER, REPO, head)][-1]["state"] == state
    assert runner.outputs["verdict"] == "fail"
    assert runner.outputs["comment-url"].endswith(f"#issuecomment-{comments[0]['id']}")


# the token's login (GraphQL viewer: github-actions[bot]), the comments, the create, the status
OK_RUN = [("POST", "/graphql"), ("GET", f"/issues/{PR}/comments"), ("POST", f"/issues/{PR}/comments"),
          ("POST", "/statuses/SHA")]


def test_no_fault_baseline_run(pr):
    """The reference every fault below is measured against: four requests, no warning."""
    repo, runner, gh, head = pr
    p, warnings = act(repo, runner)
    assert p.returncode == 1, p.stderr + p.stdout
    assert warnings == [] and calls(gh) == OK_RUN
    assert_delivered(gh, runner, head)


# -- a fault once, then OK: retried (or looked before re-creating), delivered, no warning ----------------

@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_once_on_each_request_is_absorbed(pr, fault):
    """The fault once on the list, once on the create and once on the status, in one run.

    The list and the status are retried after the backoff. A create is never blindly repeated: its
    answer was lost (it may have happened), so the comments are listed again before creating."""
    repo, runner, gh, head = pr
    for what in (LIST, CREATE, STATUS):
        gh.inject(*what, **FAULTS[fault])
    p, warnings = act(repo, runner, env={"IDM_GATE_GH_TIMEOUT": TIMEOUT} if fault == "timeout" else None)
    assert p.returncode == 1, p.stderr + p.stdout
    assert warnings == []
    user, lst, create, status = OK_RUN
    assert calls(gh) == [user, lst, lst, create, lst, create, status, status]
    assert p.stderr.count("retrying in 0.0s (attempt 2 of 3)") == 2  # the list and the status
    assert len(gh.statuses[(OWNER, REPO, head)]) == 1  # the faulted requests wrote nothing
    assert_delivered(gh, runner, head)


def test_a_create_whose_answer_was_lost_is_not_repeated(pr):
    """The comment was written, then the connection reset: the second look finds it; one POST only."""
    repo, runner, gh, head = pr
    gh.inject(*CREATE, drop_response=True)
    p, warnings = act(repo, runner)
    assert p.returncode == 1, p.stderr + p.stdout
    assert warnings == [] and calls(gh) == OK_RUN[:3] + [OK_RUN[1], OK_RUN[3]]
    assert_delivered(gh, runner, head)


# -- a fault that persists: bounded retries, one warning per write, the exit code unchanged -------------

@pytest.mark.parametrize("fault,factor,code", [
    ("500", 1.10, 1), ("502", 1.10, 1), ("503", 1.10, 1), ("timeout", 1.10, 1), ("reset", 1.10, 1),
    ("503", 1.01, 0),   # a passing PR stays 0 when GitHub is down
])
def test_persistent_fault_is_a_warning_and_keeps_the_exit_code(pr, fault, factor, code):
    repo, runner, gh, head = pr
    if factor != 1.10:
        head = regress(repo, factor)
    gh.inject(*LIST, times=99, **FAULTS[fault])
    gh.inject(*STATUS, times=99, **FAULTS[fault])
    p, warnings = act(repo, runner, env={"IDM_GATE_GH_TIMEOUT": TIMEOUT} if fault == "timeout" else None)
    assert p.returncode == code, p.stderr + p.stdout
    verdict = "fail" if code else "pass"
    assert runner.outputs["verdict"] == verdict and runner.outputs["comment-url"] == ""
    assert count(gh, LIST) == 3 and count(gh, STATUS) == 3  # IDM_GATE_GH_ATTEMPTS, no more
    assert count(gh, CREATE) == 0 and gh.issue_comments(OWNER, REPO, PR) == []
    what = {"timeout": "no response: ReadTimeout", "reset": "no response: "}.get(fault, f"{fault}: Server Error")
    assert len(warnings) == 2, warnings
    assert warnings[0].startswith(f"::warning::PR comment skipped: GitHub API GET /repos/{OWNER}/{REPO}/issues/{PR}"
                                  f"/comments: {what}") and warnings[0].endswith("(gave up after 3 attempts)")
    assert warnings[1].startswith(f"::warning::commit status skipped: GitHub API POST /repos/{OWNER}/{REPO}"
                                  f"/statuses/{head}: {what}") and warnings[1].endswith("(gave up after 3 attempts)")
    # the comment's content is still delivered: in the job summary
    assert f"idm-gate: **{verdict}**" in runner.summary.read_text()


def test_persistent_5xx_on_the_create_tries_twice_and_never_duplicates(pr):
    repo, runner, gh, head = pr
    gh.inject(*CREATE, times=99, **server_error(502))
    p, warnings = act(repo, runner)
    assert p.returncode == 1, p.stderr + p.stdout
    assert count(gh, CREATE) == 2 and count(gh, LIST) == 2
    assert warnings == [f"::warning::PR comment skipped: GitHub API POST /repos/{OWNER}/{REPO}/issues/{PR}/comments: "
                        "502: Server Error"]
    assert gh.statuses[(OWNER, REPO, head)][-1]["state"] == "failure"


# -- rate limits: GitHub's wait is honoured (measured), or refused at once when over the cap ------------

def test_primary_rate_limit_waits_for_the_reset(pr):
    repo, runner, gh, head = pr
    gh.inject(*LIST, **primary_rate_limit(reset_in=1))
    p, warnings = act(repo, runner, env={"IDM_GATE_GH_MAX_WAIT": "3", "IDM_GATE_GH_TOTAL_WAIT": "5"})
    assert p.returncode == 1, p.stderr + p.stdout
    assert warnings == [] and count(gh, LIST) == 2
    assert gap(gh, LIST) >= 1.0  # x-ratelimit-reset was 1 s (rounded down) away, plus 1 s of slack
    assert re.search(r"403: API rate limit exceeded for installation ID 1\.; retrying in [12]\.\ds", p.stderr)
    assert_delivered(gh, runner, head)


def test_primary_rate_limit_beyond_the_cap_fails_at_once(pr):
    repo, runner, gh, head = pr
    gh.inject(*LIST, **primary_rate_limit(reset_in=3600))
    started = time.monotonic()
    p, warnings = act(repo, runner, env={"IDM_GATE_GH_MAX_WAIT": "3"})
    assert p.returncode == 1, p.stderr + p.stdout
    assert time.monotonic() - started < 30 and count(gh, LIST) == 1
    (w,) = warnings
    assert w.startswith("::warning::PR comment skipped: GitHub API GET") and "403: rate limited" in w
    assert re.search(r"GitHub asks to wait 3[56]\d\ds, more than the 3s this run waits \(IDM_GATE_GH_MAX_WAIT\)$", w)
    assert "fork" not in w  # a rate limit is not a permissions problem
    assert gh.statuses[(OWNER, REPO, head)][-1]["state"] == "failure"  # the status still went out


@pytest.mark.parametrize("what", [LIST, CREATE, STATUS], ids=["list", "create", "status"])
def test_429_retry_after_is_honoured(pr, what):
    """A 429 is an answer, not a maybe: even the create is repeated, once, after the wait."""
    repo, runner, gh, head = pr
    gh.inject(*what, **rate_limited_429(retry_after=1))
    p, warnings = act(repo, runner, env={"IDM_GATE_GH_MAX_WAIT": "3"})
    assert p.returncode == 1, p.stderr + p.stdout
    assert warnings == [] and count(gh, what) == 2
    assert gap(gh, what) >= 1.0
    assert "429: API rate limit exceeded; retrying in 1.0s" in p.stderr
    assert_delivered(gh, runner, head)


def test_secondary_rate_limit_with_retry_after_is_honoured(pr):
    repo, runner, gh, head = pr
    gh.inject(*STATUS, **secondary_rate_limit(retry_after=1))
    p, warnings = act(repo, runner, env={"IDM_GATE_GH_MAX_WAIT": "3"})
    assert p.returncode == 1, p.stderr + p.stdout
    assert warnings == [] and count(gh, STATUS) == 2 and gap(gh, STATUS) >= 1.0
    assert "secondary rate limit" in p.stderr
    assert_delivered(gh, runner, head)


def test_secondary_rate_limit_without_retry_after_backs_off_under_the_cap(pr):
    repo, runner, gh, head = pr
    gh.inject(*LIST, times=2, **secondary_rate_limit())
    p, warnings = act(repo, runner, env={"IDM_GATE_GH_MAX_WAIT": "0.3"})
    assert p.returncode == 1, p.stderr + p.stdout
    assert warnings == [] and count(gh, LIST) == 3 and gap(gh, LIST) >= 0.3
    assert_delivered(gh, runner, head)


def test_secondary_rate_limit_that_persists_is_a_warning(pr):
    repo, runner, gh, head = pr
    gh.inject(*LIST, times=99, **secondary_rate_limit())
    p, warnings = act(repo, runner, env={"IDM_GATE_GH_MAX_WAIT": "0.05"})
    assert p.returncode == 1, p.stderr + p.stdout
    assert count(gh, LIST) == 3
    (w,) = warnings
    assert "403: You have exceeded a secondary rate limit" in w and w.endswith("(gave up after 3 attempts)")


def test_a_rate_limited_login_lookup_never_duplicates_the_comment(pr):
    """GraphQL ``viewer`` names the comment's author. Rate limited, it must not be taken for a lookup
    that cannot tell (author github-actions[bot]): that misses a personal token's comment and posts a
    second one. The comment is skipped with a warning instead; the next run updates it."""
    repo, runner, gh, head = pr
    gh.add_user("ghp_personal", "idm-bot")
    mine = gh.add_comment(OWNER, REPO, PR, f"{TAG}\nan older result", "idm-bot")
    gh.inject("POST", r"^/graphql$", times=99, **secondary_rate_limit())
    p, warnings = act(repo, runner, token="ghp_personal", env={"IDM_GATE_GH_MAX_WAIT": "0.05"})
    assert p.returncode == 1, p.stderr + p.stdout
    assert gh.issue_comments(OWNER, REPO, PR) == [mine] and count(gh, CREATE) == 0
    (w,) = warnings
    assert w.startswith("::warning::PR comment skipped: GitHub API POST /graphql: 403: You have exceeded a secondary")
    assert "fork" not in w and gh.count("GET", r"^/user$") == 0
    assert gh.statuses[(OWNER, REPO, head)][-1]["state"] == "failure"


def test_an_app_token_whose_login_lookup_is_rate_limited_skips_the_comment_never_duplicates_it(pr):
    """GraphQL says "rate limited" with HTTP 200 and an error of type RATE_LIMITED. Taking that for "no
    login" would look for github-actions[bot]'s comment, miss the App's, and post a second one."""
    repo, runner, gh, head = pr
    gh.add_user("ghs_app", "idm-app[bot]", app=True)
    mine = gh.add_comment(OWNER, REPO, PR, f"{TAG}\nan older result", "idm-app[bot]")
    gh.inject("POST", r"^/graphql$", times=99, **graphql_rate_limited())
    p, warnings = act(repo, runner, token="ghs_app")
    assert p.returncode == 1, p.stderr + p.stdout
    assert gh.issue_comments(OWNER, REPO, PR) == [mine] and count(gh, CREATE) == 0
    (w,) = warnings
    assert w == ("::warning::PR comment skipped: GitHub API POST /graphql: 200: API rate limit exceeded for "
                 "installation ID 1.")
    assert gh.statuses[(OWNER, REPO, head)][-1]["state"] == "failure"


# -- 4xx that are answers: not retried ---------------------------------------------------------------

def test_fork_token_403_is_one_warning_per_write_and_no_retry(pr):
    repo, runner, gh, head = pr
    gh.add_user("ghs_forktoken", "github-actions[bot]", app=True, read_only=True)
    p, warnings = act(repo, runner, token="ghs_forktoken")
    assert p.returncode == 1, p.stderr + p.stdout
    assert calls(gh) == OK_RUN  # each write tried once: a 403 is an answer
    hint = "(the token cannot write here: a pull request from a fork gets a read-only GITHUB_TOKEN"
    assert len(warnings) == 2
    assert warnings[0].startswith(f"::warning::PR comment skipped: GitHub API POST /repos/{OWNER}/{REPO}/issues/"
                                  f"{PR}/comments: 403: Resource not accessible by integration {hint}")
    assert warnings[1].startswith("::warning::commit status skipped:") and hint in warnings[1]
    assert gh.issue_comments(OWNER, REPO, PR) == [] and (OWNER, REPO, head) not in gh.statuses
    assert runner.outputs["verdict"] == "fail" and runner.outputs["comment-url"] == ""
    assert runner.summary.read_text().startswith("## ❌ idm-gate: **fail**")


def test_404_on_patch_of_a_deleted_comment_creates_a_new_one(pr):
    repo, runner, gh, head = pr
    p, _ = act(repo, runner)
    (old,) = gh.issue_comments(OWNER, REPO, PR)
    regress(repo, 1.20)  # a different result, so the comment is edited

    def deleted_meanwhile(_request):
        gh.comments[(OWNER, REPO, PR)].remove(old)
        return not_found()["body"]

    gh.inject("PATCH", rf"/issues/comments/{old['id']}$", status=404, body=deleted_meanwhile)
    before = len(gh.requests)
    p, warnings = act(repo, runner)
    assert p.returncode == 1, p.stderr + p.stdout
    assert warnings == [] and "idm-gate: PR comment created" in p.stdout
    assert calls(gh)[before:] == [OK_RUN[0], OK_RUN[1], ("PATCH", f"/issues/comments/{old['id']}"), OK_RUN[2],
                                  OK_RUN[3]]
    (new,) = gh.issue_comments(OWNER, REPO, PR)
    assert new["id"] != old["id"] and "▼\u00a0-16.7\u00a0%" in new["body"]
    assert runner.outputs["comment-url"].endswith(f"#issuecomment-{new['id']}")


def test_a_comment_github_counts_in_bytes_fits_at_once_with_the_verdict_intact(pr):
    """A GitHub that counts bytes: the comment is sized in UTF-8 bytes, so the first post already fits.

    The "wide" model has 900 tasks with long Japanese names (3 bytes a character): its per-task table
    alone is over 65,536 bytes. Its section is left out of the comment, with a line saying so; the
    failing model's row and section come first and are kept. (The 422 retry with a harder cut, for a
    body sized by someone else, is covered in test_github.py.)
    """
    repo, runner, gh, head = pr
    m = manifest(BASE, size_bytes=int(2 * 10**9 * 1.10), gate=GATE)
    wide = {f"評価タスク{i:04d}" + "多言語理解" * 6: 60.0 for i in range(900)}
    m["models"].append({"name": "wide", "size_bytes": 10**9, "evals": [{"scores": wide, "scale": "percent"}]})
    repo.write("idm.yaml", m)
    repo.commit("a model with 900 tasks")
    gh.comment_measure = lambda s: len(s.encode("utf-8"))
    p, warnings = act(repo, runner)
    assert p.returncode == 1, p.stderr + p.stdout
    assert warnings == [] and count(gh, CREATE) == 1
    (comment,) = gh.issue_comments(OWNER, REPO, PR)
    body = comment["body"]
    assert len(body.encode()) <= COMMENT_LIMIT
    head_md = body.split("<details>", 1)[0]
    assert head_md.startswith(f"{TAG}\n## ❌ idm-gate: **fail**") and "| ❌ | bonsai |" in head_md
    assert "| ✅ | wide |" in head_md and "▼\u00a0-9.1\u00a0%" in head_md
    assert "<summary>❌ bonsai: 2 tasks, 0 changed</summary>" in body and "<summary>✅ wide" not in body
    assert "Per-task results of 1 more model are in the JSON report" in body
    # every section closed; the charts' sections open as <details open>
    assert len(re.findall(r"<details\b", body)) == body.count("</details>") >= 2
    # the job summary's limit is 1 MiB: everything is there
    assert "評価タスク0899" in runner.summary.read_text()


def test_our_comment_on_page_two_is_updated_past_a_spoofed_marker_on_page_one(pr):
    repo, runner, gh, head = pr
    for i in range(40):
        gh.add_comment(OWNER, REPO, PR, f"chatter {i}", "someone")
    spoof = gh.add_comment(OWNER, REPO, PR, f"{TAG}\n## ✅ idm-gate: **pass**, all good, merge it", "mallory")
    for i in range(80):
        gh.add_comment(OWNER, REPO, PR, f"more chatter {i}", "someone")
    mine = gh.add_comment(OWNER, REPO, PR, f"{TAG}\nan older result", "github-actions[bot]")  # #122: page 2
    p, warnings = act(repo, runner)
    assert p.returncode == 1, p.stderr + p.stdout
    assert warnings == [] and "idm-gate: PR comment updated" in p.stdout
    assert [(r.method, r.query.get("page")) for r in gh.requests if r.path.endswith(f"/issues/{PR}/comments")] == \
        [("GET", None), ("GET", "2")]
    assert [(r.method, r.path) for r in gh.writes()][:1] == [("PATCH", f"/repos/{OWNER}/{REPO}/issues/comments/"
                                                                      f"{mine['id']}")]
    assert count(gh, CREATE) == 0 and len(gh.issue_comments(OWNER, REPO, PR)) == 122
    assert spoof["body"].endswith("all good, merge it") and "idm-gate: **fail**" in mine["body"]
    assert runner.outputs["comment-url"].endswith(f"#issuecomment-{mine['id']}")
