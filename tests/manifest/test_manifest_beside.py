"""``parse_manifest(..., beside=pr)``: the base commit's manifest in ``check`` skips the schema for the
``models:`` entries the PR's version already passed, and reports exactly what a full validation
reports (the same lines, the same ``models[i]`` indexes) for the rest.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from idm_gate.errors import InputErrors
from idm_gate.manifest import parse_manifest

PATH = Path("/repo/idm.yaml")


def model(i: int, **extra) -> dict:
    return {"name": f"m{i}", "size_bytes": 1_000_000 + i, "evals": [{"scores": {"mmlu": 0.5}}], **extra}


def doc(models: list[dict], **top) -> bytes:
    return yaml.safe_dump({"version": 1, **top, "models": models}, sort_keys=False).encode()


def problems(data: bytes, beside=None) -> list[str]:
    with pytest.raises(InputErrors) as e:
        parse_manifest(data, PATH, "idm.yaml@base", beside=beside)
    return e.value.problems


@pytest.fixture
def validated(monkeypatch):
    """The number of models: entries each schema validation saw."""
    seen: list[int] = []
    real = jsonschema.Draft202012Validator.iter_errors

    def count(self, instance, *a, **k):
        if isinstance(instance, dict) and isinstance(instance.get("models"), list):
            seen.append(len(instance["models"]))
        return real(self, instance, *a, **k)

    monkeypatch.setattr(jsonschema.Draft202012Validator, "iter_errors", count)
    return seen


def test_entries_the_pr_passed_are_not_validated_again(validated):
    pr = parse_manifest(doc([model(i) for i in range(5)], gate={"max_drop": "5%"}), PATH, "idm.yaml")
    base_bytes = doc([model(i) for i in range(4)] + [model(4, size_bytes=7)], gate={"max_drop": "3%"})
    base = parse_manifest(base_bytes, PATH, "idm.yaml@base", beside=pr)
    # the PR's five entries, then only the base's changed one (its gate: is validated as part of the document)
    assert validated == [5, 1]
    assert base == parse_manifest(base_bytes, PATH, "idm.yaml@base")  # the same manifest as a full parse
    assert base.gate.max_drop == 0.03 and base.models[4].size_bytes == 7


def test_when_every_entry_is_known_one_is_kept_for_the_schema_s_min_items(validated):
    models = [model(i) for i in range(3)]
    pr = parse_manifest(doc(models), PATH, "idm.yaml")
    parse_manifest(doc(models, min_error=0.001), PATH, "idm.yaml@base", beside=pr)
    assert validated == [3, 1]


@pytest.mark.parametrize("broken", [
    model(3, colour="red"),                                  # an unknown field
    model(3, size_bytes="big"),                              # a wrong type
    {"name": "m3", "size_bytes": 5, "evals": []},            # an empty list
    {"name": "m3", "evals": [{"scores": {"mmlu": 0.5}}], "size_gb": -1},  # out of range
])
def test_a_broken_entry_is_reported_at_its_index_as_a_full_validation_does(broken, validated):
    models = [model(i) for i in range(6)]
    pr = parse_manifest(doc(models), PATH, "idm.yaml")
    base_bytes = doc(models[:3] + [broken] + models[4:] + [model(9, weights="x")])
    full = problems(base_bytes)
    assert any("models[3]" in p for p in full) and any("models[6]" in p for p in full)
    assert problems(base_bytes, beside=pr) == full
    assert validated[-2:] == [7, 2]  # (the full parse saw 7 entries; the one beside the PR's only the 2 new ones)


def test_a_pr_manifest_that_failed_vouches_for_nothing(validated):
    with pytest.raises(InputErrors):
        parse_manifest(doc([model(0), model(1, colour="red")]), PATH, "idm.yaml")
    # a manifest that does not parse gives no Manifest to pass as beside; an empty vouch re-validates all
    base = parse_manifest(doc([model(0), model(1)]), PATH, "idm.yaml@base",
                          beside=parse_manifest(doc([model(5)]), PATH, "idm.yaml"))
    assert [m.name for m in base.models] == ["m0", "m1"]
    assert validated[-1] == 2


@pytest.mark.parametrize("pr_entry,base_entry", [
    # equal in Python (True == 1), different in JSON: the base's `true` is no integer
    ({"name": "m1", "size_bytes": 1, "evals": [{"scores": {"mmlu": 0.5}}]},
     "{name: m1, size_bytes: true, evals: [{scores: {mmlu: 0.5}}]}"),
    # the PR quotes the name, the base does not: YAML reads a date, which orjson would write as the same text
    ({"name": "2024-01-01", "size_bytes": 1, "evals": [{"scores": {"mmlu": 0.5}}]},
     "{name: 2024-01-01, size_bytes: 1, evals: [{scores: {mmlu: 0.5}}]}"),
])
def test_an_entry_that_only_looks_like_the_prs_is_validated_and_refused(pr_entry, base_entry, validated):
    # models[0] is the same on both sides, so it is not validated again; models[1] must be
    pr = parse_manifest(doc([model(0), pr_entry]), PATH, "idm.yaml")
    base_text = ("version: 1\nmodels:\n  - {name: m0, size_bytes: 1000000, evals: [{scores: {mmlu: 0.5}}]}\n"
                 f"  - {base_entry}\n").encode()
    full = problems(base_text)
    assert len(full) == 1 and full[0].startswith("idm.yaml@base: models[1].")
    assert problems(base_text, beside=pr) == full
    assert validated[-1] == 1  # models[1] validated again, not taken for the PR's


def test_an_entry_the_pr_has_at_the_same_index_becomes_the_same_model_spec():
    # the PR's specs are frozen: the base's manifest shares them where the entry and its index are the same;
    # a changed entry, and an identical one at another index (its fields name models[i]), are built anew
    pr = parse_manifest(doc([model(i) for i in range(4)]), PATH, "idm.yaml")
    base_bytes = doc([model(0), model(1, size_bytes=9), model(3), model(2)], gate={"max_drop": "3%"})
    base = parse_manifest(base_bytes, PATH, "idm.yaml@base", beside=pr)
    assert base.models[0] is pr.models[0]
    assert base.models[1] is not pr.models[1] and base.models[1].size_bytes == 9
    assert base.models[2].name == "m3" and base.models[2].index == 2 and base.models[2] is not pr.models[3]
    assert base.models[3].evals[0].field == "models[3].evals[0]"
    assert base == parse_manifest(base_bytes, PATH, "idm.yaml@base")  # the same manifest as a full parse
    assert [m.name for m in base.models] == ["m0", "m1", "m3", "m2"]
