"""idm-gate history: the CLI in a subprocess over a real git repository whose origin holds several records."""

from __future__ import annotations

import csv
import io
import json

import pytest

from gitrepo import make_repo


def manifest(bonsai_scores: dict, bonsai_bytes: int = 2 * 10**9) -> dict:
    return {"version": 1, "models": [
        {"name": "bonsai", "size_bytes": bonsai_bytes, "evals": [{"scores": bonsai_scores, "scale": "percent"}]},
        {"name": "sprout", "size_bytes": 500_000_000, "evals": [{"scores": {"arc": 50.0}, "scale": "percent"}]},
    ]}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """main: c1 (recorded), c2 (not recorded), c3 (recorded), merge of a feature branch whose own commit
    was recorded (not on main's first-parent line), c4 (recorded)."""
    r = make_repo(tmp_path_factory.mktemp("history"), {"idm.yaml": manifest({"arc": 70.0, "gsm8k": 60.0})})
    shas = {"c1": r.git("rev-parse", "HEAD")}
    assert r.idm("record").returncode == 0
    r.write("README", "docs only")
    shas["c2"] = r.commit("docs")
    r.write("idm.yaml", manifest({"arc": 80.0, "gsm8k": 70.0}))
    shas["c3"] = r.commit("better evals")
    assert r.idm("record").returncode == 0
    r.git("checkout", "-q", "-b", "feature")
    r.write("idm.yaml", manifest({"arc": 10.0, "gsm8k": 10.0}))
    shas["feature"] = r.commit("feature")
    assert r.idm("record").returncode == 0
    r.git("checkout", "-q", "main")
    r.git("merge", "-q", "--no-ff", "-s", "ours", "-m", "merge feature (keeping main's manifest)", "feature")
    r.write("idm.yaml", manifest({"arc": 80.0, "gsm8k": 70.0}, bonsai_bytes=10**9))
    shas["c4"] = r.commit("quantised")
    res = r.idm("record")
    assert res.returncode == 0, res.stderr
    return r, shas


# By hand: bonsai c1: Pe = (0.30 + 0.40) / 2 = 0.35 over 2 GB -> -ln 0.35 / 2 = 1.0498221 / 2 = 0.5249111.
# c3: Pe = (0.20 + 0.30) / 2 = 0.25 over 2 GB -> ln 4 / 2 = 1.3862944 / 2 = 0.6931472.
# c4: Pe = 0.25 over 1 GB -> 1.3862944. sprout always: Pe = 0.5 over 0.5 GB -> ln 2 / 0.5 = 1.3862944.
BONSAI = {"c1": 0.5249110622493389, "c3": 0.6931471805599453, "c4": 1.3862943611198906}
SPROUT = 1.3862943611198906


def test_json_lists_recorded_commits_oldest_first_along_the_first_parent_line(repo):
    r, shas = repo
    res = r.idm("history", "--format", "json")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)["rows"]
    # c2 has no record and the feature commit is not on main's first-parent line: three commits, two models each
    assert [(x["commit"], x["model"]) for x in rows] == [
        (shas[c], m) for c in ("c1", "c3", "c4") for m in ("bonsai", "sprout")]
    assert [x["density"] for x in rows if x["model"] == "bonsai"] == pytest.approx(
        [BONSAI["c1"], BONSAI["c3"], BONSAI["c4"]], rel=1e-12)
    assert [x["density"] for x in rows if x["model"] == "sprout"] == pytest.approx([SPROUT] * 3, rel=1e-12)
    assert rows[-2]["size_bytes"] == 10**9 and rows[-2]["error_rate"] == pytest.approx(0.25)
    assert {x["unit"] for x in rows} == {"nats/GB"}
    assert all(x["date"] and x["date"][:4].isdigit() for x in rows)


def test_model_and_limit_keep_the_newest_records_of_one_model(repo):
    r, shas = repo
    res = r.idm("history", "--model", "bonsai", "--limit", "2", "--format", "csv")
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [(x["commit"], x["model"]) for x in rows] == [(shas["c3"], "bonsai"), (shas["c4"], "bonsai")]
    assert [float(x["density"]) for x in rows] == pytest.approx([BONSAI["c3"], BONSAI["c4"]], rel=1e-12)
    assert rows[0]["params"] == ""  # a declared size gives no parameter count
    # -o rows.csv without --format: the extension picks csv, the same rows
    out = r.path.parent / "rows.csv"
    res2 = r.idm("history", "--model", "bonsai", "--limit", "2", "-o", str(out))
    assert res2.returncode == 0, res2.stderr
    assert out.read_text() == res.stdout


def test_text_and_markdown_tables(repo):
    r, shas = repo
    text = r.idm("history", "--model", "bonsai").stdout.splitlines()
    assert text[0].split() == ["commit", "date", "model", "density", "unit", "size", "error", "rate", "params"]
    assert [line.split()[0] for line in text[1:]] == [shas[c][:7] for c in ("c1", "c3", "c4")]
    assert text[1].split()[3:5] == ["0.5249", "nats/GB"] and text[3].split()[3] == "1.386"
    assert "1.00 GB" in text[3] and "2.00 GB" in text[1]
    md = r.idm("history", "--format", "markdown", "--rev", shas["c3"]).stdout.splitlines()
    assert md[0] == "| commit | date | model | density | unit | size | error rate | params |"
    assert len(md) == 2 + 4  # c1 and c3, two models each; nothing newer than --rev
    assert md[2].startswith(f"| `{shas['c1'][:7]}` |") and "| bonsai | 0.5249 | nats/GB | 2.00 GB | 0.35 |" in md[2]


def test_unknown_model_is_a_one_line_usage_error(repo):
    r, _ = repo
    res = r.idm("history", "--model", "oak")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "idm-gate: error: --model 'oak': no record along HEAD has this model; recorded models: bonsai, sprout"]


def test_bad_limit_and_no_records(tmp_path):
    r = make_repo(tmp_path, {"idm.yaml": manifest({"arc": 70.0})})
    res = r.idm("history", "--limit", "0")
    assert res.returncode == 2 and res.stderr.strip() == "idm-gate: error: --limit 0: must be at least 1"
    res = r.idm("history", "--format", "json")
    assert res.returncode == 0 and json.loads(res.stdout) == {"rows": []}
    assert "no baseline records along HEAD" in res.stderr


def test_a_record_the_caller_already_validated_is_taken_as_given(repo, monkeypatch):
    # check reads its baseline record (and validates it with jsonschema) before the history charts read the
    # same record again; read_history takes it from ``parsed`` instead of validating it a second time
    from idm_gate import serialize
    from idm_gate.history import read_history

    r, shas = repo
    rp, store = _store(r, monkeypatch)
    validated: list[str] = []
    real = serialize.validate_report
    monkeypatch.setattr(serialize, "validate_report",
                        lambda doc, shown, *a: (validated.append(shown), real(doc, shown, *a)))
    full = read_history(store, rp.git, "HEAD", limit=10, max_walk=50, warn=lambda m: None)
    assert [e.commit for e in full] == [shas["c1"], shas["c3"], shas["c4"]]
    assert len(validated) == 3
    validated.clear()
    given = full[-1].measurement
    again = read_history(store, rp.git, "HEAD", limit=10, max_walk=50, warn=lambda m: None,
                         parsed={shas["c4"]: given})
    assert [e.commit for e in again] == [shas["c1"], shas["c3"], shas["c4"]]
    assert again[-1].measurement is given
    assert validated == [f"baseline record {shas[c][:12]}" for c in ("c3", "c1")]  # nearest first, c4 skipped


def _store(r, monkeypatch):
    from idm_gate.gate import open_repo
    from idm_gate.store import open_store

    monkeypatch.chdir(r.path)
    for k, v in r.env.items():  # git as the CLI runs it (HOME, author, no system config)
        monkeypatch.setenv(k, v)
    rp = open_repo(r.path / "idm.yaml", "idm.yaml")
    return rp, open_store("branch", rp.git, key=rp.gate_key(None), remote="origin", branch="idm-baselines",
                          warn=lambda m: None)


def test_older_records_validate_only_the_models_that_changed(repo, monkeypatch):
    # sprout is the same in every record; bonsai changes at c3 (scores) and c4 (size). Nearest first: c4 is
    # validated whole (2 models), then c3 and c1 only their bonsai, each different from every record read so far
    import jsonschema

    from idm_gate.history import read_history

    r, shas = repo
    rp, store = _store(r, monkeypatch)
    plain = read_history(store, rp.git, "HEAD", limit=10, max_walk=50, warn=lambda m: None)
    seen: list[list[str]] = []
    real = jsonschema.Draft202012Validator.iter_errors

    def count(self, instance, *a, **k):
        if isinstance(instance, dict) and instance.get("kind") == "measurement":
            seen.append([m["name"] for m in instance["models"]])
        return real(self, instance, *a, **k)

    monkeypatch.setattr(jsonschema.Draft202012Validator, "iter_errors", count)
    fast = read_history(store, rp.git, "HEAD", limit=10, max_walk=50, warn=lambda m: None)
    assert seen == [["bonsai", "sprout"], ["bonsai"], ["bonsai"]]
    assert [(e.commit, e.measurement) for e in fast] == [(e.commit, e.measurement) for e in plain]


def test_a_broken_model_in_an_older_record_is_refused_as_a_full_validation_refuses_it(repo, monkeypatch):
    from idm_gate.errors import InputError
    from idm_gate.manifest import model_entries
    from idm_gate.serialize import measurement_from_dict

    r, shas = repo
    rp, store = _store(r, monkeypatch)
    report = store.get_many([shas["c4"]])[shas["c4"]]["report"]
    measurement_from_dict(report, "c4")
    valid = frozenset(e for e in model_entries(report["models"]) if e is not None)
    broken = json.loads(json.dumps(report))
    broken["models"][1]["size_bytes"] = "big"  # sprout, after bonsai: its index must survive the skipping

    def refusal(**kw) -> str:
        with pytest.raises(InputError) as e:
            measurement_from_dict(broken, "record c1", **kw)
        return str(e.value)

    full = refusal()
    assert "models[1].size_bytes" in full
    assert refusal(valid=valid) == full


def test_a_walk_the_caller_already_made_is_taken_instead_of_asking_git_and_the_store_again(repo, monkeypatch):
    # check walks its merge base's first-parent line (with dates) and asks the store about it; when its
    # baseline is that merge base, the charts' walk from there is the same walk
    from idm_gate.history import read_history

    r, shas = repo
    rp, store = _store(r, monkeypatch)
    head = r.git("rev-parse", "HEAD")
    walk = rp.git.first_parent_log(head, 50)
    assert [c for c, _ in walk] == r.git("rev-list", "--first-parent", "HEAD").split()
    assert walk[0] == (head, r.git("show", "-s", "--format=%cI", head))
    answer = store.get_many([c for c, _ in walk])
    plain = read_history(store, rp.git, head, limit=10, max_walk=50, warn=lambda m: None)
    ran: list[tuple[str, ...]] = []
    real_exec, real_get = rp.git.exec, store.get_many
    monkeypatch.setattr(rp.git, "exec", lambda *a, **k: (ran.append(a), real_exec(*a, **k))[1])
    monkeypatch.setattr(store, "get_many", lambda s: (ran.append(("get_many",)), real_get(s))[1])
    same = read_history(store, rp.git, head, limit=10, max_walk=50, warn=lambda m: None, walked=(walk, answer))
    assert ran == []
    assert [(e.commit, e.date, e.measurement) for e in same] == [(e.commit, e.date, e.measurement) for e in plain]
    assert [e.commit for e in same] == [shas["c1"], shas["c3"], shas["c4"]]
    # a walk that does not start at this commit is not taken for it: git and the store are asked as always
    again = read_history(store, rp.git, shas["c3"], limit=10, max_walk=50, warn=lambda m: None, walked=(walk, answer))
    assert [a[0] for a in ran] == ["rev-parse", "log", "get_many", "cat-file"]
    assert [e.commit for e in again] == [shas["c1"], shas["c3"]]
