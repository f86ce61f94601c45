"""The PR comment through `idm-gate action` with real git and the fake GitHub: many models, links.

Issue: with 600 models the comment cut its table and dropped the failing rows; with 1,000 the head
alone went over GitHub's 65,536 characters. Here 1,000 models, the failing ones last in the manifest.
"""

from __future__ import annotations

import checkcases as cc
import webhooks
from actionrunner import OWNER, PR, REPO, recorded_main
from gitrepo import make_repo

FULL = f"{OWNER}/{REPO}"
N = 1000
FAILING = range(N - 3, N)       # 10 % bigger: density -9.1 %, over max_drop 5 %
WARNING = range(N - 8, N - 3)   # 3 % bigger: -2.9 %, over warn_drop 2 %
IGNORE = "idm-report.json\nidm-report-check.json\n"


def manifest(grown: bool) -> dict:
    models = []
    for i in range(N):
        factor = 1.10 if grown and i in FAILING else 1.03 if grown and i in WARNING else 1.0
        models.append({"name": f"m{i:04d}", "size_bytes": round(10**9 * factor),
                       "evals": [{"scores": {"arc": 0.7}}]})
    return {"version": 1, "gate": {"max_drop": "5%", "warn_drop": "2%"}, "models": models}


def test_a_thousand_models_pr_comment_names_the_failing_ones_and_fits(tmp_path, fake_github):
    repo = make_repo(tmp_path, {"idm.yaml": manifest(False), ".gitignore": IGNORE})
    runner = recorded_main(repo, fake_github, tmp_path)
    repo.git("checkout", "-q", "-b", "pr")
    repo.write("idm.yaml", manifest(True))
    head = repo.commit("eight models bigger")
    event = webhooks.pull_request("synchronize", repository=FULL, number=PR, head_sha=head,
                                  base_sha=repo.git("rev-parse", "origin/main"))
    repo.git("checkout", "-q", "--detach", "main")  # actions/checkout's default: refs/pull/N/merge
    repo.git("merge", "-q", "--no-ff", "-m", f"Merge {head} into main", head)
    merge = repo.git("rev-parse", "HEAD")
    env = {"GITHUB_BASE_REF": "main", "GITHUB_REF": f"refs/pull/{PR}/merge", "GITHUB_SHA": merge,
           "GITHUB_SERVER_URL": "https://github.com"}
    p = runner.run("pull_request", event, {}, extra_env=env)
    assert p.returncode == 1, p.stderr + p.stdout
    (comment,) = fake_github.issue_comments(OWNER, REPO, PR)
    body = comment["body"]
    assert len(body) <= 65_536 and "shortened" not in body
    seen = cc.Seen(cc.to_html(body))
    head_text = seen.all_text.split(seen.summaries[0])[0]
    assert "3 failing · 5 warning · 992 unchanged." in head_text
    # failing first, then warning, each with its row, although they are last in the manifest
    assert [r[1] for r in seen.cells[1:9]] == [f"m{i:04d}" for i in [*FAILING, *WARNING]]
    assert "992 models unchanged." in head_text and seen.summaries[-1] == "992 models unchanged"
    # the measured merge commit and the PR's head, linked; the baseline is the base tip, dated
    hrefs = {t: h for h, t in seen.links}
    assert hrefs[merge[:7]] == f"https://github.com/{FULL}/commit/{merge}"
    assert hrefs[head[:7]] == f"https://github.com/{FULL}/commit/{head}"
    base = repo.git("rev-parse", "main")
    assert hrefs[base[:7]] == f"https://github.com/{FULL}/commit/{base}"
    assert f"committed {repo.git('show', '-s', '--format=%cs', base)}" in head_text
    # the job summary carries the same, under the runner's 1 MiB
    summary = runner.summary.read_text()
    assert len(summary.encode()) < 1024 * 1024 and "| ❌ | m0997 |" in summary
