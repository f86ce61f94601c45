"""idm_gate.github against the runner's conventions and a fake GitHub REST server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import replace

import pytest

from fakegithub import (
    FakeGitHub,
    body_too_long,
    forbidden_for_fork,
    graphql_rate_limited,
    not_found,
    primary_rate_limit,
    rate_limited_429,
    secondary_rate_limit,
    serve,
    server_error,
)
from gitrepo import make_repo
from idm_gate.data import Verdict
from idm_gate.errors import InputError, RemoteError
from idm_gate.github import commands
from idm_gate.github.client import GITHUB_RETRY, ClientPolicy, GitHubAPIError, make_client, try_write
from idm_gate.github.comment import ACTIONS_BOT, COMMENT_LIMIT, fit_body, marker, sanitize_key, upsert_comment
from idm_gate.github.runner import get_bool_input, get_input, read_context
from idm_gate.github.status import set_status
from idm_gate.retry import RetryPolicy

OWNER, REPO, PR = "octo", "models", 7
TOKEN = "ghp_SeCrEt0123456789abcdefTOKEN"
SHA = "a" * 40
FAST = ClientPolicy(retry=RetryPolicy(attempts=4, base_delay_s=0.001, max_delay_s=60, budget_s=120), timeout=2)


class Sleeps(list):
    """A ``sleep`` that records what it was asked to wait and returns at once."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(gh: FakeGitHub, token: str | None = TOKEN, policy: ClientPolicy = FAST, sleep=None):
    return make_client(token, gh.url, policy=policy, sleep=Sleeps() if sleep is None else sleep)


@pytest.fixture
def gh(fake_github):
    fake_github.add_user(TOKEN, "idm-bot")
    return fake_github


# -- runner ------------------------------------------------------------------------------------------

def _env(tmp_path, event_name, payload, **extra):
    path = tmp_path / "event.json"
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    env = {"GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(path),
           "GITHUB_REPOSITORY": "octo/models", "GITHUB_SHA": "m" * 40, "GITHUB_REF": "refs/pull/7/merge",
           "GITHUB_WORKSPACE": "/github/workspace"}
    env.update(extra)
    return env


def _pr_payload(head_repo="octo/models"):
    return {"number": 7, "repository": {"default_branch": "main", "full_name": "octo/models"},
            "pull_request": {"number": 7,
                             "head": {"sha": "h" * 40, "repo": {"full_name": head_repo}},
                             "base": {"sha": "b" * 40, "repo": {"full_name": "octo/models"}}}}


def test_pull_request_event_on_ghes(tmp_path):
    ctx = read_context(_env(tmp_path, "pull_request", _pr_payload(), GITHUB_BASE_REF="main",
                            GITHUB_API_URL="https://ghe.example.com/api/v3/"))
    assert (ctx.owner, ctx.repo, ctx.pr_number) == ("octo", "models", 7)
    assert ctx.api_url == "https://ghe.example.com/api/v3"
    assert (ctx.head_sha, ctx.base_sha, ctx.base_ref) == ("h" * 40, "b" * 40, "main")
    assert ctx.commit_sha == "h" * 40  # the status goes on the head, not the merge commit
    assert ctx.is_fork is False and ctx.default_branch == "main"
    assert ctx.workspace == "/github/workspace" and ctx.ref == "refs/pull/7/merge"


def test_pull_request_target_from_a_fork(tmp_path):
    ctx = read_context(_env(tmp_path, "pull_request_target", _pr_payload(head_repo="mallory/models")))
    assert ctx.is_fork is True and ctx.head_repository == "mallory/models"
    assert ctx.api_url == "https://api.github.com"


def test_push_event(tmp_path):
    payload = {"ref": "refs/heads/main", "repository": {"default_branch": "trunk"}}
    ctx = read_context(_env(tmp_path, "push", payload, GITHUB_REF="refs/heads/main"))
    assert ctx.pr_number is None
    assert ctx.default_branch == "trunk" and ctx.commit_sha == "m" * 40 and ctx.is_fork is False


def test_workflow_run_event_from_a_fork(tmp_path):
    payload = {"repository": {"default_branch": "main", "full_name": "octo/models"},
               "workflow_run": {"head_sha": "r" * 40, "event": "pull_request", "pull_requests": [],
                                "head_repository": {"full_name": "mallory/models"},
                                "repository": {"full_name": "octo/models"}}}
    ctx = read_context(_env(tmp_path, "workflow_run", payload))
    assert (ctx.head_sha, ctx.triggering_event, ctx.head_repository) == ("r" * 40, "pull_request", "mallory/models")
    assert ctx.is_fork is True and ctx.pr_number is None  # forks list no PRs: ask commits/{sha}/pulls


def test_workflow_run_event_same_repo_lists_its_pr(tmp_path):
    payload = {"workflow_run": {"head_sha": "r" * 40, "event": "pull_request",
                                "head_repository": {"full_name": "octo/models"},
                                "repository": {"full_name": "octo/models"},
                                "pull_requests": [{"number": 9, "base": {"sha": "b" * 40}}]}}
    ctx = read_context(_env(tmp_path, "workflow_run", payload))
    assert ctx.pr_number == 9 and ctx.base_sha == "b" * 40 and ctx.is_fork is False


def test_malformed_event_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"event\.json: the event payload is not valid JSON \(line 1 column 2: "
                                         r"Expecting property name enclosed in double quotes\); GITHUB_EVENT_PATH"):
        read_context(_env(tmp_path, "pull_request", "{not json"))
    with pytest.raises(InputError, match="pull_request: missing"):
        read_context(_env(tmp_path, "pull_request", {"action": "opened"}))
    with pytest.raises(InputError, match="GITHUB_REPOSITORY"):
        read_context({"GITHUB_EVENT_NAME": "push"})


def test_inputs_keep_hyphens_and_strip_whitespace():
    env = {"INPUT_MAX-DROP": "  0.05 \n", "INPUT_MAX_DROP": "wrong", "INPUT_EMPTY": "  "}
    assert get_input("max-drop", environ=env) == "0.05"
    assert get_input("empty", "dflt", environ=env) == "dflt"
    assert get_input("missing", "dflt", environ=env) == "dflt"


@pytest.mark.parametrize("raw,value", [("true", True), ("True", True), ("TRUE", True),
                                       ("false", False), ("False", False), (" FALSE ", False)])
def test_bool_inputs_accept_the_yaml_core_spellings(raw, value):
    assert get_bool_input("fail-on-warn", environ={"INPUT_FAIL-ON-WARN": raw}) is value


@pytest.mark.parametrize("raw", ["yes", "1", "tRue", "on"])
def test_bool_inputs_refuse_anything_else(raw):
    with pytest.raises(InputError) as err:
        get_bool_input("fail-on-warn", environ={"INPUT_FAIL-ON-WARN": raw})
    assert "fail-on-warn" in str(err.value) and "true | True | TRUE | false | False | FALSE" in str(err.value)


# -- workflow commands -------------------------------------------------------------------------------

def test_annotation_escapes_data_and_properties_like_the_toolkit():
    line = commands.annotation("error", "drop 100%\r\nsee below", file="models/a:b,c.yaml", line=3,
                               title="density, 7B")
    assert line == "::error file=models/a%3Ab%2Cc.yaml,line=3,title=density%2C 7B::drop 100%25%0D%0Asee below"
    assert commands.annotation("notice", "ok") == "::notice::ok"
    with pytest.raises(ValueError):
        commands.annotation("fatal", "x")
    assert commands.add_mask("a\nb%") == "::add-mask::a%0Ab%25"


def test_outputs_writer_multiline_value(tmp_path):
    out = tmp_path / "output"
    writer = commands.OutputsWriter(out)
    writer.set("verdict", "fail")
    writer.set("report-md", "line 1\nline 2\n::warning::not a command")
    writer.set("passed", False)
    text = out.read_text()
    blocks = text.split("\n")
    assert blocks[0].startswith("verdict<<ghadelimiter_") and blocks[1] == "fail"
    delim = blocks[0].split("<<", 1)[1]
    assert blocks[2] == delim and uuid.UUID(delim.removeprefix("ghadelimiter_"))
    # a reader that follows the runner's heredoc rule gets every value back intact
    parsed, lines = {}, text.split("\n")
    i = 0
    while i < len(lines) - 1:
        name, d = lines[i].split("<<", 1)
        end = lines.index(d, i + 1)
        parsed[name] = "\n".join(lines[i + 1:end])
        i = end + 1
    assert parsed == {"verdict": "fail", "report-md": "line 1\nline 2\n::warning::not a command",
                      "passed": "false"}
    assert writer.values == parsed


def test_outputs_writer_refuses_a_delimiter_collision_and_bad_names(tmp_path, monkeypatch):
    fixed = uuid.UUID("12345678-1234-5678-1234-567812345678")
    monkeypatch.setattr(commands.uuid, "uuid4", lambda: fixed)
    writer = commands.OutputsWriter(tmp_path / "output")
    with pytest.raises(commands.OutputsError, match="delimiter"):
        writer.set("report", f"x\nghadelimiter_{fixed}\nevil<<y")
    for bad in ("", "1st", "a b", "a<<b", "näme"):
        with pytest.raises(commands.OutputsError, match="output name"):
            writer.set(bad, "v")
    assert not (tmp_path / "output").exists()


def test_neutralize_stops_untrusted_text_from_issuing_commands():
    evil = "gpt-2\n::add-mask::x\r::set-env name=A::B\n  ::error::boom\n##[group]x\nfine: a::b"
    safe = commands.neutralize(evil)
    for line in safe.replace("\r", "\n").split("\n"):
        assert not line.lstrip().startswith(("::", "##["))
    assert "| ::add-mask::x" in safe and safe.endswith("fine: a::b")
    assert commands.neutralize("llama-3-8b") == "llama-3-8b"


def test_append_summary(tmp_path):
    path = tmp_path / "summary.md"
    assert commands.append_summary(path, "# one") and commands.append_summary(path, "two\n")
    assert path.read_text() == "# one\ntwo\n"
    assert commands.append_summary(None, "x") is False


# -- client: construction and secrets ----------------------------------------------------------------

def test_make_client_reads_no_token_and_leaves_the_environment_alone(gh, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "env-token-must-not-be-used")
    monkeypatch.setenv("GITHUB_JWT_TOKEN", "env-jwt-must-not-be-used")
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    before = dict(os.environ)
    anonymous = client_for(gh, token=None)
    explicit = client_for(gh)
    assert dict(os.environ) == before  # ghapi.all would have set GITHUB_REPOSITORY=octocat/Hello-World
    assert anonymous.get_authenticated_login() is None and gh.requests == []
    anonymous.list_issue_comments(OWNER, REPO, PR)
    assert explicit.get_authenticated_login() == "idm-bot"
    assert [r.auth for r in gh.requests] == ["anonymous", "idm-bot"]


def _fresh_python(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_REPOSITORY", "CONTEXT_GITHUB")}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True, timeout=60).stdout.strip()


def test_ghapi_all_would_change_the_environment_and_we_never_import_it():
    # The hazard, so an upgrade that removes it (or adds more) is noticed:
    assert _fresh_python("import os, ghapi.all; print(os.environ.get('GITHUB_REPOSITORY'))") == "octocat/Hello-World"
    out = _fresh_python(
        "import os, sys\n"
        "import idm_gate.github.client, idm_gate.github.comment, idm_gate.github.status\n"
        "import idm_gate.github.runner, idm_gate.github.commands\n"
        "print('ghapi' in sys.modules)\n"          # lazy: importing our modules costs nothing
        "before = dict(os.environ)\n"
        "idm_gate.github.client.make_client(None, 'http://127.0.0.1:9')\n"
        "print('ghapi.core' in sys.modules, 'ghapi.actions' in sys.modules, dict(os.environ) == before)\n")
    assert out.splitlines() == ["False", "True False True"]


def test_the_token_never_reaches_errors_or_logs(gh, caplog):
    echo = {"message": f"Bad credentials: token {TOKEN} (Authorization: Bearer {TOKEN})"}
    gh.inject("GET", "/comments$", status=502, body=echo)
    gh.inject("GET", "/pulls/1$", status=401, body=echo)
    client = client_for(gh)
    with caplog.at_level(logging.DEBUG):
        client.list_issue_comments(OWNER, REPO, PR)
        with pytest.raises(GitHubAPIError) as err:
            client.get_pull(OWNER, REPO, 1)
    exc = err.value
    assert isinstance(exc, RemoteError) and exc.status == 401
    for text in (str(exc), repr(exc), exc.message, caplog.text):
        assert TOKEN not in text
    assert "\n" not in str(exc) and str(exc).startswith("GitHub API GET /repos/octo/models/pulls/1: 401")
    assert exc.__context__ is None and exc.__cause__ is None  # no raw ghapi error in a traceback


# -- client: retry policy ----------------------------------------------------------------------------

@pytest.mark.parametrize("fault", [server_error(502), server_error(500), server_error(503),
                                   dict(reset=True), dict(delay=1.5)],
                         ids=["502", "500", "503", "connection-reset", "timeout"])
def test_transient_faults_are_retried_with_backoff(gh, fault):
    gh.add_comment(OWNER, REPO, PR, "hello", "someone")
    gh.inject("GET", "/comments$", **fault)
    sleeps = Sleeps()
    client = client_for(gh, policy=ClientPolicy(retry=replace(GITHUB_RETRY, base_delay_s=0.5), timeout=0.5), sleep=sleeps)
    assert [c["body"] for c in client.list_issue_comments(OWNER, REPO, PR)] == ["hello"]
    assert client.requests == 2 and gh.count("GET", "/comments$") == 2 and sleeps == [0.5]


def test_retries_are_bounded_and_back_off_exponentially(gh):
    gh.inject("GET", "/pulls/3$", times=10, **server_error(502))
    sleeps = Sleeps()
    client = client_for(gh, policy=ClientPolicy(retry=GITHUB_RETRY), sleep=sleeps)
    with pytest.raises(GitHubAPIError, match=r"502: Server Error \(gave up after 4 attempts\)") as err:
        client.get_pull(OWNER, REPO, 3)
    assert err.value.status == 502 and client.requests == 4 and sleeps == [1.0, 2.0, 4.0]


def test_total_wait_caps_the_retries(gh):
    gh.inject("GET", "/pulls/3$", times=10, **server_error(503))
    sleeps = Sleeps()
    client = client_for(gh, policy=ClientPolicy(retry=replace(GITHUB_RETRY, attempts=10, budget_s=5)), sleep=sleeps)
    with pytest.raises(GitHubAPIError, match="gave up after 3 attempts"):
        client.get_pull(OWNER, REPO, 3)
    assert sleeps == [1.0, 2.0]


def test_429_honours_retry_after(gh):
    gh.add_pull(OWNER, REPO, 3, head_sha=SHA)
    gh.inject("GET", "/pulls/3$", **rate_limited_429(retry_after=7))
    sleeps = Sleeps()
    assert client_for(gh, sleep=sleeps).get_pull(OWNER, REPO, 3)["number"] == 3
    assert sleeps == [7.0] and gh.count("GET", "/pulls/3$") == 2


def test_primary_rate_limit_waits_for_the_reset(gh):
    gh.add_pull(OWNER, REPO, 3, head_sha=SHA)
    gh.inject("GET", "/pulls/3$", **primary_rate_limit(reset_in=5))
    sleeps = Sleeps()
    assert client_for(gh, sleep=sleeps).get_pull(OWNER, REPO, 3)["number"] == 3
    assert len(sleeps) == 1 and 4 <= sleeps[0] <= 7


def test_a_rate_limit_longer_than_the_cap_fails_at_once(gh, monkeypatch):
    monkeypatch.setenv("IDM_GATE_GH_MAX_WAIT", "2")
    gh.inject("GET", "/pulls/3$", **primary_rate_limit(reset_in=3600))
    sleeps = Sleeps()
    client = make_client(TOKEN, gh.url, sleep=sleeps)
    with pytest.raises(GitHubAPIError, match="IDM_GATE_GH_MAX_WAIT") as err:
        client.get_pull(OWNER, REPO, 3)
    assert err.value.status == 403 and err.value.reset_in > 3000
    assert sleeps == [] and client.requests == 1


def test_secondary_rate_limit_backs_off_under_the_cap_from_env(gh, monkeypatch):
    monkeypatch.setenv("IDM_GATE_GH_MAX_WAIT", "0.05")
    gh.add_pull(OWNER, REPO, 3, head_sha=SHA)
    gh.inject("GET", "/pulls/3$", times=2, **secondary_rate_limit())
    started = time.monotonic()
    client = make_client(TOKEN, gh.url)  # real sleep: the env cap keeps it short
    assert client.get_pull(OWNER, REPO, 3)["number"] == 3
    assert client.requests == 3 and time.monotonic() - started < 5


def test_secondary_rate_limit_with_retry_after(gh):
    gh.add_pull(OWNER, REPO, 3, head_sha=SHA)
    gh.inject("GET", "/pulls/3$", **secondary_rate_limit(retry_after=3))
    sleeps = Sleeps()
    client_for(gh, sleep=sleeps).get_pull(OWNER, REPO, 3)
    assert sleeps == [3.0]


@pytest.mark.parametrize("fault,status", [
    (dict(status=400, body={"message": "Problems parsing JSON"}), 400),
    (dict(status=401, body={"message": "Bad credentials"}), 401),
    (forbidden_for_fork(), 403),
    (not_found(), 404),
    (dict(status=422, body={"message": "Validation Failed"}), 422),
], ids=["400", "401", "403-fork", "404", "422"])
def test_other_client_errors_are_not_retried(gh, fault, status):
    gh.inject("GET", "/pulls/3$", **fault)
    sleeps = Sleeps()
    client = client_for(gh, sleep=sleeps)
    with pytest.raises(GitHubAPIError) as err:
        client.get_pull(OWNER, REPO, 3)
    assert err.value.status == status and client.requests == 1 and sleeps == []
    assert fault["body"]["message"] in str(err.value)


def test_a_create_is_not_blindly_repeated_after_an_ambiguous_failure(gh):
    gh.inject("POST", "/comments$", **server_error(502))
    client = client_for(gh)
    with pytest.raises(GitHubAPIError) as err:
        client.create_comment(OWNER, REPO, PR, "hi")
    assert err.value.ambiguous and client.requests == 1


def test_pagination_follows_link_next(gh):
    for i in range(250):
        gh.add_comment(OWNER, REPO, PR, f"c{i}", "someone")
    client = client_for(gh)
    assert [c["body"] for c in client.list_issue_comments(OWNER, REPO, PR)] == [f"c{i}" for i in range(250)]
    pages = [r.query for r in gh.requests]
    assert pages == [{"per_page": "100"}, {"per_page": "100", "page": "2"}, {"per_page": "100", "page": "3"}]


def test_pagination_refuses_a_link_to_another_host(gh):
    gh.inject("GET", "/comments$", status=200, body=[],
              headers={"Link": '<https://evil.example/steal?page=2>; rel="next"'})
    with pytest.raises(GitHubAPIError, match="refusing to follow a pagination link to https://evil.example"):
        client_for(gh).list_issue_comments(OWNER, REPO, PR)


def test_an_answer_that_is_not_json_is_a_clear_error(gh):
    gh.inject("GET", "/pulls/3$", status=200, body="<html>proxy login</html>",
              headers={"Content-Type": "text/html"})
    with pytest.raises(GitHubAPIError, match=r"not JSON \(text/html\); is the API URL right"):
        client_for(gh).get_pull(OWNER, REPO, 3)


def test_a_deeply_nested_answer_is_a_one_line_remote_error(gh):
    # valid JSON nested 100,000 deep, as a broken proxy could send it; Python's json alone raises
    # RecursionError near 1,000 levels
    deep = b"[" * 100_000 + b"]" * 100_000
    gh.inject("GET", "/pulls/3$", status=200, body=deep)
    with pytest.raises(GitHubAPIError) as ei:
        client_for(gh).get_pull(OWNER, REPO, 3)
    assert str(ei.value) == (f"GitHub API GET /repos/{OWNER}/{REPO}/pulls/3: 200: the answer is not JSON "
                             "(application/json; charset=utf-8); is the API URL right (GHES: https://HOST/api/v3)?")
    assert ei.value.exit_code == 3  # a RemoteError: the server's fault, not the user's input
    # the same body on an error answer: the message falls back to the body's text, cut to 300 characters
    gh.inject("GET", "/pulls/4$", status=404, body=deep)
    with pytest.raises(GitHubAPIError) as ei:
        client_for(gh).get_pull(OWNER, REPO, 4)
    assert ei.value.status == 404 and str(ei.value).endswith(": 404: " + "[" * 300)


def test_pulls_for_commit_finds_same_repository_prs_but_not_a_forks_open_pr(gh):
    """As on GitHub: a fork's head commit is not in the base repository, so ``commits/{sha}/pulls``
    answers [] for it until the PR is merged (public reports: jwalton/gh-find-current-pr#119,
    TooTallNate/nx.js#410); same-repository PRs are found by their head."""
    fork_sha, own_sha = SHA, "c" * 40
    gh.add_pull(OWNER, REPO, 12, head_sha=fork_sha, head_repo="mallory/models")
    gh.add_pull(OWNER, REPO, 13, head_sha=own_sha, head_ref="topic")
    client = client_for(gh)
    assert client.pulls_for_commit(OWNER, REPO, fork_sha) == []
    assert [p["number"] for p in client.pulls_for_commit(OWNER, REPO, own_sha)] == [13]
    assert client.get_pull(OWNER, REPO, 12)["head"]["repo"]["full_name"] == "mallory/models"
    gh.close_pull(OWNER, REPO, 12, merge_sha="d" * 40)
    assert [p["number"] for p in client.pulls_for_commit(OWNER, REPO, fork_sha)] == [12]


def test_list_pulls_filters_by_owner_and_branch_as_github_does(gh):
    """``head=owner:branch`` keeps one fork's PR out of another's with the same branch name; GitHub
    ignores a bare branch name, so the client refuses to send one."""
    gh.add_pull(OWNER, REPO, 7, head_sha=SHA, head_repo="alice/models", head_ref="patch-1")
    gh.add_pull(OWNER, REPO, 8, head_sha=SHA, head_repo="bob/models", head_ref="patch-1")
    gh.add_pull(OWNER, REPO, 9, head_sha="c" * 40, head_repo="alice/models", head_ref="other", state="closed")
    client = client_for(gh)
    assert [p["number"] for p in client.list_pulls(OWNER, REPO, head="alice:patch-1")] == [7]
    assert [p["number"] for p in client.list_pulls(OWNER, REPO, head="bob:patch-1")] == [8]
    assert [p["number"] for p in client.list_pulls(OWNER, REPO)] == [8, 7]  # open only, newest first
    assert [p["number"] for p in client.list_pulls(OWNER, REPO, state="all")] == [9, 8, 7]
    with pytest.raises(ValueError, match="owner>:<branch"):
        client.list_pulls(OWNER, REPO, head="patch-1")
    # the fake, like GitHub, ignores a bare branch name: every open PR comes back
    with urllib.request.urlopen(f"{gh.url}/repos/{OWNER}/{REPO}/pulls?head=patch-1") as resp:
        raw = json.loads(resp.read())
    assert [p["number"] for p in raw] == [8, 7]


@pytest.mark.parametrize("token,login,app", [
    ("ghs_actions", "github-actions[bot]", True),     # GITHUB_TOKEN: GET /user is 403, viewer answers
    ("ghs_app", "idm-app[bot]", True),                # a GitHub App installation token: the same
    ("ghp_personal", "idm-bot", False),               # a personal token: both answer
])
def test_the_token_login_comes_from_graphql_viewer_for_every_kind_of_token(gh, token, login, app):
    gh.add_user(token, login, app=app)
    client = client_for(gh, token=token)
    assert client.token_login() == login
    assert [(r.method, r.path, r.body) for r in gh.requests] == [
        ("POST", "/graphql", {"query": "query { viewer { login } }"})]
    # GET /user: 403 "Resource not accessible by integration" for installation tokens, hence None
    assert client.get_authenticated_login() == (None if app else login)


def test_without_a_graphql_endpoint_the_login_comes_from_get_user(gh):
    gh.add_user("ghp_personal", "idm-bot")
    gh.inject("POST", r"^/graphql$", **not_found())
    client = client_for(gh, token="ghp_personal")
    assert client.token_login() == "idm-bot"
    assert gh.count("GET", r"^/user$") == 1


@pytest.mark.parametrize("fault,rate_limited", [
    (graphql_rate_limited(), True),                                   # 200 with errors: RATE_LIMITED
    (dict(status=502, body={"message": "Server Error"}), False),      # an outage past the retries
])
def test_a_failing_login_lookup_raises_rather_than_guess_an_author(gh, fault, rate_limited):
    """Guessing github-actions[bot] for an App token would miss its comment and post a second one."""
    gh.add_user("ghs_app", "idm-app[bot]", app=True)
    gh.inject("POST", r"^/graphql$", times=99, **fault)
    with pytest.raises(GitHubAPIError) as err:
        client_for(gh, token="ghs_app").token_login()
    assert err.value.rate_limited is rate_limited and gh.count("GET", r"^/user$") == 0
    if rate_limited:
        assert str(err.value) == "GitHub API POST /graphql: 200: API rate limit exceeded for installation ID 1."


def test_client_works_under_a_ghes_prefix():
    with serve(FakeGitHub(prefix="/api/v3")) as ghes:
        ghes.add_user(TOKEN, "idm-bot")
        for i in range(101):
            ghes.add_comment(OWNER, REPO, PR, f"c{i}", "someone")
        client = client_for(ghes)
        assert ghes.url.endswith("/api/v3") and client.get_authenticated_login() == "idm-bot"
        assert client.graphql_url().endswith("/api/graphql") and client.token_login() == "idm-bot"
        assert [r.path for r in ghes.requests[-1:]] == ["/api/graphql"]
        assert len(client.list_issue_comments(OWNER, REPO, PR)) == 101
        assert upsert_comment(client, OWNER, REPO, PR, "k", "hi").action == "created"
    assert not ghes.failures


# -- sticky comment ----------------------------------------------------------------------------------

def ours(gh, key="idm"):
    return [c for c in gh.issue_comments(OWNER, REPO, PR) if marker(key) in c["body"]]


def test_three_upserts_leave_one_comment(gh):
    client = client_for(gh)
    results = [upsert_comment(client, OWNER, REPO, PR, "idm", body) for body in ("v1", "v1", "v2")]
    assert [r.action for r in results] == ["created", "unchanged", "updated"]
    assert len({r.url for r in results}) == 1 and results[0].url.endswith(f"#issuecomment-{results[0].comment_id}")
    (comment,) = ours(gh)
    assert comment["body"] == f"{marker('idm')}\nv2" and comment["user"]["login"] == "idm-bot"


def test_update_finds_our_comment_on_page_two_past_a_spoofed_marker(gh):
    for i in range(60):
        gh.add_comment(OWNER, REPO, PR, f"chatter {i}", "someone")
    spoof = gh.add_comment(OWNER, REPO, PR, f"{marker('idm')}\nall good, merge it", "mallory")
    for i in range(60):
        gh.add_comment(OWNER, REPO, PR, f"more {i}", "someone")
    mine = gh.add_comment(OWNER, REPO, PR, f"{marker('idm')}\nold", "idm-bot")  # index 121: page 2
    result = upsert_comment(client_for(gh), OWNER, REPO, PR, "idm", "new")
    assert (result.action, result.comment_id) == ("updated", mine["id"])
    assert mine["body"] == f"{marker('idm')}\nnew" and spoof["body"].endswith("all good, merge it")
    assert [(w.method, w.path) for w in gh.writes()] == [("PATCH", f"/repos/{OWNER}/{REPO}/issues/comments/{mine['id']}")]


def test_a_rerun_with_an_unchanged_body_only_reads(gh):
    for i in range(150):
        gh.add_comment(OWNER, REPO, PR, f"chatter {i}", "someone")
    client = client_for(gh)
    upsert_comment(client, OWNER, REPO, PR, "idm", "same")
    before = len(gh.requests)
    rerun = client_for(gh)
    assert upsert_comment(rerun, OWNER, REPO, PR, "idm", "same").action == "unchanged"
    new = gh.requests[before:]
    assert [(r.method, r.path) for r in new] == [("POST", "/graphql")] + [
        ("GET", f"/repos/{OWNER}/{REPO}/issues/{PR}/comments")] * 2
    assert rerun.requests == 3 and not [r for r in new if r in gh.writes()]  # the GraphQL query only reads


def test_github_token_comments_are_found_by_the_actions_bot(fake_github):
    gh = fake_github
    gh.add_user("ghs_actions", ACTIONS_BOT, app=True)
    gh.add_comment(OWNER, REPO, PR, f"{marker('idm')}\nold", "someone-else")
    client = client_for(gh, token="ghs_actions")
    first = upsert_comment(client, OWNER, REPO, PR, "idm", "v1")
    second = upsert_comment(client, OWNER, REPO, PR, "idm", "v2")
    assert (first.action, second.action) == ("created", "updated") and first.url == second.url
    assert [c["user"]["login"] for c in ours(gh)] == ["someone-else", ACTIONS_BOT]


def test_a_comment_deleted_meanwhile_is_created_again(gh):
    old = gh.add_comment(OWNER, REPO, PR, f"{marker('idm')}\nold", "idm-bot")

    def delete_then_404(_request):
        gh.comments[(OWNER, REPO, PR)].remove(old)
        return not_found()["body"]

    gh.inject("PATCH", rf"/comments/{old['id']}$", status=404, body=delete_then_404)
    result = upsert_comment(client_for(gh), OWNER, REPO, PR, "idm", "new")
    assert result.action == "created" and result.comment_id != old["id"]
    assert [c["body"] for c in ours(gh)] == [f"{marker('idm')}\nnew"]


def test_a_lost_answer_to_a_create_does_not_duplicate_the_comment(gh):
    gh.inject("POST", "/comments$", drop_response=True)
    result = upsert_comment(client_for(gh), OWNER, REPO, PR, "idm", "v1")
    assert result.action == "created" and len(ours(gh)) == 1
    assert gh.count("POST", "^/repos/") == 1


def test_a_5xx_on_create_looks_before_creating_again(gh):
    gh.inject("POST", "/comments$", **server_error(502))
    result = upsert_comment(client_for(gh), OWNER, REPO, PR, "idm", "v1")
    assert result.action == "created" and len(ours(gh)) == 1 and gh.count("POST", "^/repos/") == 2


def test_422_body_too_long_is_retried_once_with_a_harder_cut(gh):
    gh.comment_measure = lambda s: len(s.encode("utf-8"))  # a GitHub that counts bytes
    verdict = "## idm-gate: FAIL\n\n| model | density |\n|---|---|\n| tiny-7b | 0.31 |"
    details = "<details><summary>tasks</summary>\n\n```\n" + "".join(f"task {i} ✅ 😀😀\n" for i in range(5000))
    result = upsert_comment(client_for(gh), OWNER, REPO, PR, "idm", verdict, details=details)
    assert result.action == "created"
    (comment,) = ours(gh)
    body = comment["body"]
    assert len(body.encode("utf-8")) <= COMMENT_LIMIT and body.startswith(f"{marker('idm')}\n{verdict}\n\n")
    assert "details were shortened" in body and body.count("```") % 2 == 0 and "</details>" in body
    assert gh.count("POST", "^/repos/") == 2  # 422 once, then the cut that fits


def test_422_too_long_that_persists_surfaces(gh):
    gh.inject("POST", "/comments$", times=2, **body_too_long())
    with pytest.raises(GitHubAPIError, match="422.*too long"):
        upsert_comment(client_for(gh), OWNER, REPO, PR, "idm", "x")
    assert gh.count("POST", "^/repos/") == 2


def test_fit_body_keeps_the_verdict_and_says_it_cut():
    verdict, details = "VERDICT: fail\n" * 3, "".join(f"row {i}\n" for i in range(20000))
    body = fit_body(verdict, details)
    assert len(body) < COMMENT_LIMIT and body.startswith(verdict)
    assert "details were shortened" in body and "of 188,890 characters are shown" in body
    assert fit_body("v", "d") == "v\n\nd"
    tiny = fit_body("v" * 100, "d" * 1000, limit=700)
    assert tiny.startswith("v" * 100) and len(tiny) <= 700 - 200


def test_keys_are_sanitised_in_the_marker():
    assert marker("a --> b <!--") == "<!-- idm-gate:comment-key=a-b -->"
    assert sanitize_key("") == "default" and sanitize_key("models/7b.yaml") == "models-7b.yaml"


# -- status and failure isolation --------------------------------------------------------------------

@pytest.mark.parametrize("verdict,state,prefix", [(Verdict.FAIL, "failure", "density"),
                                                  (Verdict.PASS, "success", "density"),
                                                  (Verdict.WARN, "success", "warning: density")])
def test_set_status_maps_the_verdict(gh, verdict, state, prefix):
    gh.add_commit(OWNER, REPO, SHA)
    set_status(client_for(gh), OWNER, REPO, SHA, verdict, "idm-gate", "density " + "x" * 300)
    (status,) = gh.statuses[(OWNER, REPO, SHA)]
    assert status["state"] == state and status["context"] == "idm-gate"
    assert status["description"].startswith(prefix) and len(status["description"]) == 140


def test_a_fork_token_write_becomes_a_warning(fake_github):
    gh = fake_github
    gh.add_user("ghs_fork", ACTIONS_BOT, app=True, read_only=True)
    client = client_for(gh, token="ghs_fork")
    warnings: list[str] = []
    assert try_write(lambda: set_status(client, OWNER, REPO, SHA, Verdict.FAIL, "idm-gate", "d"),
                     warnings.append, "commit status") is None
    assert try_write(lambda: upsert_comment(client, OWNER, REPO, PR, "idm", "b"), warnings.append,
                     "PR comment") is None
    assert len(warnings) == 2 and all("403" in w and "fork" in w for w in warnings)
    assert warnings[0].startswith("commit status skipped: GitHub API POST")
    assert gh.statuses == {} and gh.count("POST", "^/repos/") == 2  # one try each: a 403 is not retried


def test_try_write_lets_programming_errors_through():
    with pytest.raises(ZeroDivisionError):
        try_write(lambda: 1 / 0, print)


def test_a_status_on_a_commit_github_lacks_is_one_warning_naming_the_sha_and_the_likely_causes(gh):
    sha = "c" * 40
    warnings: list[str] = []
    client = client_for(gh)
    assert try_write(lambda: set_status(client, OWNER, REPO, sha, Verdict.FAIL, "idm-gate", "d"),
                     warnings.append, "commit status") is None
    assert warnings == [
        f"commit status skipped: GitHub API POST /repos/{OWNER}/{REPO}/statuses/{sha}: 422: No commit found for "
        f"SHA: {sha} (GitHub has no such commit in {OWNER}/{REPO}: push it first if it is only local, and check "
        "that the repository and API URL are the ones it was pushed to; a head that was force-pushed away gets "
        "no status, the run for the new head sets one)"]
    assert client.requests == 1   # a 422 is GitHub's last word: not retried
    gh.failures.clear()   # provoked on purpose
    gh.add_commit(OWNER, REPO, sha)
    assert try_write(lambda: set_status(client, OWNER, REPO, sha, Verdict.FAIL, "idm-gate", "d"),
                     warnings.append, "commit status")["state"] == "failure"
    assert len(warnings) == 1


def test_a_422_whose_errors_is_one_string_reads_as_that_string(gh):
    """GitHub now answers some statuses 422s with ``errors`` as one string, not a list (r-lib/gh#229, 2026:
    the 1000-statuses limit; the same shape reported for a bad state or sha). The warning quotes it whole,
    not one letter at a time."""
    limit = "Validation failed: This SHA and context has reached the maximum number of statuses."
    gh.add_commit(OWNER, REPO, SHA)
    gh.inject("POST", r"/statuses/", status=422, body={
        "message": "Validation Failed", "errors": limit,
        "documentation_url": "https://docs.github.com/rest/commits/statuses#create-a-commit-status", "status": "422"})
    warnings: list[str] = []
    client = client_for(gh)
    assert try_write(lambda: set_status(client, OWNER, REPO, SHA, Verdict.FAIL, "idm-gate", "d"),
                     warnings.append, "commit status") is None
    assert warnings == [f"commit status skipped: GitHub API POST /repos/{OWNER}/{REPO}/statuses/{SHA}: 422: "
                        f"Validation Failed; {limit}"]
    assert client.requests == 1


def test_the_fake_refuses_a_body_github_would_refuse(gh):
    client = client_for(gh)
    with pytest.raises(GitHubAPIError) as err:
        client._op("/repos/{owner}/{repo}/statuses/{sha}:POST", "POST", "/x", owner=OWNER, repo=REPO,
                   sha=SHA, state="great")
    assert err.value.status == 422 and len(gh.failures) == 1 and "state" in gh.failures[0]
    gh.failures.clear()


# -- the fake's commit statuses: only on commits the repository has, as on GitHub ----------------------

def post_status(gh: FakeGitHub, sha: str, owner: str = OWNER, repo: str = REPO) -> tuple[int, dict]:
    """``POST /repos/{owner}/{repo}/statuses/{sha}`` over plain HTTP: (status code, decoded JSON body)."""
    req = urllib.request.Request(f"{gh.url}/repos/{owner}/{repo}/statuses/{sha}", method="POST",
                                 data=json.dumps({"state": "success", "context": "idm-gate"}).encode(),
                                 headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_fake_answers_a_status_on_a_commit_the_repository_lacks_as_github_does(gh, tmp_path):
    """GitHub's 422 for a commit it does not have (rust-lang/homu#141, kubernetes/test-infra#21987) and its
    validation error for a SHA that is not 40 hex digits (FundingCircle/shipment_tracker#29 for a 7-digit
    one, alphagov/govuk-content-schemas#970 for the whole body); both carry ``"status": "422"`` as GitHub's
    error bodies now do (r-lib/gh#229, this endpoint, 2026). Both are test failures unless provoked."""
    repo = make_repo(tmp_path, {"idm.yaml": "version: 1\n"})
    gh.add_repository(OWNER, REPO, repo.origin)
    pushed = repo.git("rev-parse", "HEAD")
    assert post_status(gh, pushed)[0] == 201
    assert post_status(gh, pushed, owner="Octo", repo="Models")[0] == 201   # names compare as on GitHub

    local = repo.commit("never pushed")
    blob = repo.git("rev-parse", "HEAD:idm.yaml")   # in origin, but a file, not a commit
    for sha in (local, blob, "0" * 40):
        assert post_status(gh, sha) == (422, {
            "message": f"No commit found for SHA: {sha}",
            "documentation_url": "https://docs.github.com/rest/commits/statuses#create-a-commit-status",
            "status": "422"})
    assert post_status(gh, pushed, repo="other")[0] == 422   # another repository has none of these
    assert len(gh.failures) == 4 and all("No commit found for SHA" in f for f in gh.failures)
    gh.failures.clear()

    # GitHub does not expand an abbreviated SHA for a status: it is a validation error, not a lookup
    # (uppercase too: whether GitHub takes it is not on record; the fake refuses, so the product lowercases)
    for sha in (pushed[:7], pushed.upper(), "HEAD"):
        assert post_status(gh, sha) == (422, {
            "message": "Validation Failed",
            "errors": [{"resource": "Status", "code": "custom", "field": "sha",
                        "message": "sha must be a 40 character SHA1"}],
            "documentation_url": "https://docs.github.com/rest/commits/statuses#create-a-commit-status",
            "status": "422"}), sha
    # a short SHA reaching GitHub is a bug of the product or the test, as an unpushed commit is
    assert gh.failures == [f"POST /repos/{OWNER}/{REPO}/statuses/{sha}: 422 sha must be a 40 character SHA1 "
                           "(a full lowercase SHA: git rev-parse prints one)" for sha in (pushed[:7], pushed.upper(),
                                                                                          "HEAD")]
    gh.failures.clear()

    repo.git("push", "-q", "origin", "HEAD:refs/heads/topic")
    assert post_status(gh, local)[0] == 201   # pushed now
    assert [s["state"] for s in gh.statuses[(OWNER, REPO, local)]] == ["success"]


def test_the_fake_has_the_commits_of_its_pull_requests_a_forks_head_included(gh):
    """Without a git repository: a PR's head (kept as refs/pull/N/head, from a fork too), its base, its test
    merge commit (refs/pull/N/merge), a later push to it, the merge, and what add_commit names."""
    gh.add_pull(OWNER, REPO, 3, head_sha="1" * 40, base_sha="2" * 40, merge_sha="3" * 40,
                head_repo="alice/models", head_ref="patch-1")
    gh.push_to_pull(OWNER, REPO, 3, "4" * 40)
    gh.close_pull(OWNER, REPO, 3, merge_sha="5" * 40)
    gh.add_commit(OWNER, REPO, "6" * 40)
    for digit in "123456":
        assert post_status(gh, digit * 40)[0] == 201, digit
    assert post_status(gh, "7" * 40)[0] == 422
    gh.failures.clear()
    with pytest.raises(ValueError, match="not a full lowercase 40-hex SHA"):
        gh.add_commit(OWNER, REPO, "abc1234")
