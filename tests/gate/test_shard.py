"""measure --shard K/N, merge, and check/record --report: end to end with the CLI in N processes,
real git repositories and weight files written by safetensors."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from gitrepo import make_repo
from idm_gate.errors import InputError
from idm_gate.manifest import parse_manifest
from idm_gate.shard import parse_shard, part_of, select

# part_of(name, 3) for these names (SHA-256 of the name, first 8 bytes, mod 3, plus 1):
# edge-classifier and gemma-2b -> 1; qwen3-8b, student-distilled and phi-mini -> 2; bonsai-8b and llama-3b -> 3.
NAMES = ["bonsai-8b", "qwen3-8b", "edge-classifier", "student-distilled", "llama-3b", "phi-mini", "gemma-2b"]
PARTS = {1: ["edge-classifier", "gemma-2b"], 2: ["qwen3-8b", "student-distilled", "phi-mini"],
         3: ["bonsai-8b", "llama-3b"]}


def manifest(names=NAMES, gate=None) -> dict:
    m = {"version": 1, "models": [
        {"name": n, "artifacts": [f"weights/{n}/*.safetensors"],
         "evals": [{"scores": {"arc": 0.5 + i / 100, "gsm8k": 0.4 + i / 200}}]} for i, n in enumerate(names)]}
    if gate:
        m["gate"] = gate
    return m


def weights(repo_path: Path, names=NAMES, rows: int = 64) -> None:
    for i, n in enumerate(names):
        folder = repo_path / "weights" / n
        folder.mkdir(parents=True, exist_ok=True)
        save_file({"w": np.zeros((rows + i, 32), dtype=np.float16)}, str(folder / "model.safetensors"))


@pytest.fixture
def repo(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": manifest(), ".gitattributes": ""})
    weights(r.path)
    r.commit("weights")
    return r


def run_parts(r, count: int, *extra) -> list[Path]:
    """Measure every part at once, one process each, as the jobs of a matrix would."""
    procs = [subprocess.Popen([sys.executable, "-m", "idm_gate", "measure", "--shard", f"{k}/{count}",
                               "-o", f"part-{k}.json", *extra], cwd=r.path, env=r.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for k in range(1, count + 1)]
    for k, p in enumerate(procs, 1):
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert f"wrote part {k} of {count}" in err
    return [r.path / f"part-{k}.json" for k in range(1, count + 1)]


def load(p: Path) -> dict:
    return json.loads(p.read_text())


def test_a_models_part_depends_only_on_its_name_and_the_count():
    # sha256(b"bonsai-8b") starts eb5bbea24dbf6c70: its last byte 0x70 = 112 is 0 mod 4 and 0 mod 2,
    # so bonsai-8b is in part 1 of 4 and part 1 of 2.
    assert hashlib.sha256(b"bonsai-8b").hexdigest()[:16] == "eb5bbea24dbf6c70"
    assert part_of("bonsai-8b", 4) == 1 and part_of("bonsai-8b", 2) == 1 and part_of("bonsai-8b", 1) == 1
    assert {k: [n for n in NAMES if part_of(n, 3) == k] for k in (1, 2, 3)} == PARTS
    # adding models (at the front, too) moves no existing model to another part
    before = parse_manifest(json.dumps(manifest()).encode(), Path("/r/idm.yaml"), "idm.yaml")
    after = parse_manifest(json.dumps(manifest(["new-a", *NAMES, "new-b"])).encode(), Path("/r/idm.yaml"), "idm.yaml")
    for k in (1, 2, 3):
        old = [s.name for s in select(before, k, 3).models]
        assert [s.name for s in select(after, k, 3).models if s.name in NAMES] == old == PARTS[k]
    # each model keeps its place in the manifest (for messages and the merged order)
    assert [s.index for s in select(after, 1, 3).models if s.name in NAMES] == [3, 7]  # edge-classifier, gemma-2b


@pytest.mark.parametrize("text", ["0/3", "4/3", "3", "a/b", "1/0", "1/1001", "-1/3", ""])
def test_a_bad_shard_is_refused(text):
    with pytest.raises(InputError, match=r"^--shard: .* is not valid; write K/N with 1 <= K <= N <= 1000"):
        parse_shard(text)
    assert parse_shard(" 2 / 8 ") == (2, 8)


def test_parts_from_n_processes_merge_into_the_report_of_one_process(repo):
    parts = run_parts(repo, 3)
    head = repo.git("rev-parse", "HEAD")
    for k, p in enumerate(parts, 1):
        doc = load(p)
        assert [m["name"] for m in doc["models"]] == PARTS[k]
        assert doc["shard"] == {"index": k, "count": 3, "models": 7,
                                "positions": [NAMES.index(n) for n in PARTS[k]]}
        assert doc["commit"] == head
    res = repo.idm("merge", *[p.name for p in parts], "-o", "report.json")
    assert res.returncode == 0, res.stderr
    assert "merged 3 part(s), 7 model(s), into report.json" in res.stderr
    merged = load(repo.path / "report.json")
    whole = json.loads(repo.idm("measure", "--format", "json").stdout)
    assert [m["name"] for m in merged["models"]] == NAMES  # manifest order
    assert merged["models"] == whole["models"]  # every figure as one process measures it
    assert {k: v for k, v in merged.items() if k not in ("models", "commit")} == \
        {k: v for k, v in whole.items() if k != "models"}
    assert merged["commit"] == head and "shard" not in merged
    # the part order on the command line does not matter
    res = repo.idm("merge", parts[2].name, parts[0].name, parts[1].name)
    assert res.returncode == 0 and json.loads(res.stdout) == merged


def test_an_empty_part_is_still_a_part(repo):
    # with 8 parts some of the 7 models' parts are empty; merge needs all 8 and gets all 7 models
    parts = run_parts(repo, 8)
    sizes = [len(load(p)["models"]) for p in parts]
    assert sum(sizes) == 7 and 0 in sizes
    res = repo.idm("merge", *[p.name for p in parts])
    assert res.returncode == 0, res.stderr
    assert [m["name"] for m in json.loads(res.stdout)["models"]] == NAMES


def one_line_error(res) -> str:
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("idm-gate: error: "), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


def test_merge_refuses_gaps_overlaps_and_parts_of_other_runs(repo):
    p1, p2, p3 = (p.name for p in run_parts(repo, 3))
    assert "part 2 of 3 is missing (a gap: 2 of 3 given)" in one_line_error(repo.idm("merge", p1, p3))
    assert "part-1.json: part 1 of 3 is also given as part-1.json (an overlap)" in \
        one_line_error(repo.idm("merge", p1, p1, p2, p3))
    # a model moved into another part's file
    doc = load(repo.path / p2)
    moved = load(repo.path / p1)
    moved["models"].append(doc["models"][0])
    moved["shard"]["positions"].append(doc["shard"]["positions"][0])
    (repo.path / "moved.json").write_text(json.dumps(moved))
    assert "moved.json: models[2] 'qwen3-8b' belongs to part 2 of 3, not 1" in \
        one_line_error(repo.idm("merge", "moved.json", p2, p3))
    # parts of 2 and of 3
    assert run_parts(repo, 2)  # overwrites part-1.json and part-2.json with parts of 2
    assert "shard count 3, but part-1.json has 2: parts of a different part count" in \
        one_line_error(repo.idm("merge", "part-1.json", "part-2.json", p3))
    # a part of another commit, and of another manifest
    run_parts(repo, 3)
    repo.commit("another commit")
    (repo.path / "old-3.json").write_text((repo.path / p3).read_text())
    run_parts(repo, 3)
    assert "old-3.json: a part of different commits (commit" in \
        one_line_error(repo.idm("merge", p1, p2, "old-3.json"))
    repo.write("idm.yaml", manifest(gate={"max_drop": "3%"}))
    subprocess.run([sys.executable, "-m", "idm_gate", "measure", "--shard", "3/3", "-o", "new-3.json"],
                   cwd=repo.path, env=repo.env, check=True, capture_output=True)
    assert "new-3.json: a part of different manifests (manifest_digest" in \
        one_line_error(repo.idm("merge", p1, p2, "new-3.json"))
    # a whole report is not a part; a part is not a whole report
    res = repo.idm("measure", "-f", "json", "-o", "whole.json")
    assert res.returncode == 0, res.stderr
    assert "whole.json: a whole report, not a part (no 'shard')" in one_line_error(repo.idm("merge", "whole.json"))
    assert "--shard writes a JSON part for idm-gate merge; drop --format text" in \
        one_line_error(repo.idm("measure", "--shard", "1/2", "--format", "text"))


def test_check_and_record_take_the_merged_report_instead_of_measuring(repo):
    repo.write("idm.yaml", manifest(gate={"max_drop": "5%"}))
    main = repo.commit("gate")
    repo.git("push", "-q", "origin", "main")
    parts = run_parts(repo, 3)
    assert repo.idm("merge", *[p.name for p in parts], "-o", "report.json").returncode == 0
    res = repo.idm("record", "--report", "report.json")
    assert res.returncode == 0, res.stderr
    assert f"recorded 7 model(s) for {main[:12]}" in res.stdout
    measured = json.loads(repo.idm("measure", "-f", "json").stdout)
    assert repo.records_on_origin()[main]["report"]["models"] == measured["models"]

    # a PR that makes qwen3-8b (index 1) bigger: 65 -> 97 rows of 32 F16 values, 4,160 -> 6,208 bytes of
    # tensor data, with the same scores: its density drops by about a third, past max_drop 5 %
    repo.git("checkout", "-q", "-b", "pr")
    weights(repo.path, ["qwen3-8b"], rows=96)
    repo.commit("bigger qwen")
    for p in repo.path.glob("part-*.json"):
        p.unlink()
    parts = run_parts(repo, 3)
    assert repo.idm("merge", *[p.name for p in parts], "-o", "report.json").returncode == 0
    gated = repo.idm("check", "--base-ref", "origin/main", "--report", "report.json", "--format", "json")
    measuring = repo.idm("check", "--base-ref", "origin/main", "--format", "json")
    assert gated.returncode == measuring.returncode == 1, gated.stderr
    a, b = json.loads(gated.stdout), json.loads(measuring.stdout)
    assert a == b and a["verdict"] == "fail"
    failed = [m["name"] for m in a["models"] if m["verdict"] == "fail"]
    assert failed == ["qwen3-8b"]


def test_a_report_of_another_commit_or_manifest_or_a_part_is_refused(repo):
    parts = run_parts(repo, 3)
    assert repo.idm("merge", *[p.name for p in parts], "-o", "report.json").returncode == 0
    base = repo.git("rev-parse", "HEAD")
    assert "--report part-1.json: part 1 of 3, not a whole report; join the parts first" in \
        one_line_error(repo.idm("record", "--report", "part-1.json"))
    repo.commit("later")
    msg = one_line_error(repo.idm("record", "--report", "report.json"))
    assert f"--report report.json: measured at commit {base[:12]}, but HEAD is" in msg
    repo.write("idm.yaml", manifest(gate={"max_drop": "3%"}))
    repo.commit("policy")
    res = repo.idm("measure", "-f", "json", "-o", "old-manifest.json")
    assert res.returncode == 0
    repo.write("idm.yaml", manifest(gate={"max_drop": "4%"}))
    repo.commit("policy again")
    msg = one_line_error(repo.idm("check", "--base-ref", "HEAD~1", "--report", "old-manifest.json"))
    assert "--report old-manifest.json: measured from another manifest (digest" in msg
    assert repo.records_on_origin() == {}  # nothing was stored
