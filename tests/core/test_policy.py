"""Unit tests of the pure policy rules (idm_gate/policy.py): a pull request cannot loosen its own gate.

The end-to-end tests (test_gate_e2e.py, test_store_gates.py) run the same rules through git; here each
rule is one call, and every expected policy is worked out by hand in a comment.
"""

from __future__ import annotations

import math

import pytest

from idm_gate.data import EvalSource, LogBase, Policy
from idm_gate.policy import DEFAULTS, at_base, costs_at_base, introduced, policy_text, setting_text

UNSET = Policy()  # a layer that sets nothing


def gate(models, base, *, cli=UNSET, terms=None, pr=None, renames=None, base_gate=UNSET, bases=(LogBase.E, LogBase.E)):
    return at_base(models, renames or {}, base, base_gate, bases[0], bases[1], pr, cli, terms or {})


def test_the_base_gate_applies_with_the_defaults_filled_in():
    g = gate(["m"], {"m": Policy(max_drop=0.02)})
    # max_drop from the base; significance and z from DEFAULTS
    assert g.policies == {"m": Policy(max_drop=0.02, significance=True, z=1.96)}
    assert (g.pr_only, g.notices, g.warnings) == ({}, (), ())


def test_a_flag_cannot_loosen_the_base_gate_and_says_so():
    g = gate(["m"], {"m": Policy(max_drop=0.05)}, cli=Policy(max_drop=0.10),
             terms={"max_drop": "--max-drop 10%"})
    assert g.policies["m"].max_drop == 0.05  # min(0.05, 0.10)
    assert g.warnings == ("--max-drop 10% was ignored for every model: it is looser than the base commit's gate "
                          "(max_drop 5%), and a pull request cannot relax its own gate; change gate: in the base "
                          "branch's manifest instead",)


def test_the_defaults_count_as_set_at_the_base():
    # the base sets nothing: max_drop 5 % and z 1.96 are its gate, so neither flag may loosen them
    g = gate(["a", "b"], {"a": Policy(), "b": Policy()}, cli=Policy(max_drop=0.2, z=3.0, significance=False))
    assert g.policies["a"] == Policy(max_drop=0.05, significance=False, z=1.96)  # significance off is stricter
    assert [w.split(" was ignored")[0] for w in g.warnings] == ["max_drop 20%", "z 3"]
    assert all("for every model:" in w for w in g.warnings)


def test_equal_gates_of_different_number_types_each_keep_their_own_values():
    # 1 == 1.0, but the second model's gate is written 1.0: its policy (and the check JSON) must say 1.0
    g = gate(["a", "b"], {"a": Policy(min_density=1), "b": Policy(min_density=1.0)})
    assert [type(g.policies[m].min_density) for m in ("a", "b")] == [int, float]


def test_models_sharing_one_gate_object_get_the_same_policy():
    shared = Policy(max_drop=0.02)
    g = gate(["a", "b", "c"], {"a": shared, "b": shared, "c": shared}, cli=Policy(max_drop=0.5))
    # min(0.02, 0.5) for each, and the ignored flag is named once for every model
    assert [g.policies[m] for m in "abc"] == [Policy(max_drop=0.02, significance=True, z=1.96)] * 3
    assert len(g.warnings) == 1 and "for every model:" in g.warnings[0]


def test_a_flag_may_tighten_and_is_not_warned_about():
    g = gate(["m"], {"m": Policy(max_drop=0.05, min_density=1.0)}, cli=Policy(max_drop=0.02, min_density=1.5))
    assert g.policies["m"] == Policy(max_drop=0.02, min_density=1.5, significance=True, z=1.96)
    assert g.warnings == ()


def test_a_warning_names_only_the_models_it_was_ignored_for():
    g = gate(["strict", "lax"], {"strict": Policy(max_drop=0.01), "lax": Policy(max_drop=0.20)},
             cli=Policy(max_drop=0.10), terms={"max_drop": "input max-drop: 10%"})
    assert g.policies["strict"].max_drop == 0.01 and g.policies["lax"].max_drop == 0.10
    assert g.warnings[0].startswith("input max-drop: 10% was ignored for strict: it is looser than the base "
                                    "commit's gate (max_drop 1%)")


def test_a_new_models_own_gate_counts_only_where_stricter_than_the_base_global_gate():
    pr = {"new": Policy(max_size_gb=20.0, min_density=3.0)}
    g = gate(["new"], {}, pr=pr, base_gate=Policy(max_size_gb=10.0))
    # size: min(10 at the base, 20 in the PR) = 10; min_density: only the PR sets it, 3.0
    assert g.policies["new"] == Policy(max_drop=0.05, min_density=3.0, max_size_gb=10.0, significance=True, z=1.96)
    assert g.notices == ()  # a new model has no base policy to change


def test_a_pr_changing_a_models_gate_is_told_and_the_new_gate_is_kept_for_later():
    g = gate(["m"], {"m": Policy(max_drop=0.05)}, pr={"m": Policy(max_drop=0.10)})
    assert g.policies["m"].max_drop == 0.05
    assert g.pr_only == {"m": Policy(max_drop=0.10, significance=True, z=1.96)}
    assert g.notices == ("this PR changes the gate policy of m (max_drop 5.0 % -> max_drop 10.0 %); the new "
                         "policy applies after merge",)


def test_a_renamed_model_is_held_to_its_old_names_gate():
    g = gate(["llama-q4"], {"llama-4bit": Policy(max_drop=0.01)}, renames={"llama-q4": "llama-4bit"},
             pr={"llama-q4": Policy(max_drop=0.5)}, base_gate=Policy(max_drop=0.3))
    assert g.policies["llama-q4"].max_drop == 0.01  # the old name's gate, not the PR's nor the global one


def test_min_density_follows_a_switch_of_log_base():
    g = gate(["m"], {"m": Policy(min_density=2.0)}, bases=(LogBase.E, LogBase.TWO))
    # 2 nats/GB = 2 / ln 2 bits/GB = 2.885 bits/GB
    assert g.policies["m"].min_density == pytest.approx(2.0 / math.log(2))


def test_a_pr_introducing_the_gate_gets_its_own_gate_tightened_by_the_flags():
    pr = {"m": Policy(max_drop=0.10, max_size_gb=5.0)}
    assert introduced(["m"], pr, Policy(max_drop=0.03)) == {"m": Policy(max_drop=0.03, max_size_gb=5.0)}
    # publish mode reads no PR manifest: only what the workflow sets applies, to every measured model
    assert introduced(["a", "b"], None, Policy(max_drop=0.03)) == {"a": Policy(max_drop=0.03),
                                                                   "b": Policy(max_drop=0.03)}


def test_settings_are_written_as_the_manifest_writes_them():
    assert [setting_text(k, v) for k, v in DEFAULTS.as_dict().items()] == ["max_drop 5%", "significance on",
                                                                           "z 1.96"]
    assert setting_text("min_density", None) == "min_density unset"
    assert policy_text(Policy()) == "defaults"
    assert policy_text(Policy(warn_drop=0.025, significance=False)) == "warn_drop 2.5 %, significance off"


# -- costs are policy --------------------------------------------------------------------------------

BASE_COSTS = {"fraud": {"legit": 20}, "legit": {"fraud": 1}}
PR_COSTS = {"fraud": {"legit": 19}, "legit": {"fraud": 1}}


def ev(path: str | None = "evals/fraud.csv", costs=None, task: str | None = None, i: int = 0) -> EvalSource:
    return EvalSource(path=path, scores=None if path else {"x": 0.5}, task=task, costs=costs,
                      field=f"models[0].evals[{i}]")


def test_changed_costs_are_replaced_by_the_base_commits_with_a_notice():
    pr = [("m", (ev(costs=PR_COSTS), ev("evals/other.csv", BASE_COSTS, i=1)))]
    got = costs_at_base(pr, {"m": (ev(costs=BASE_COSTS), ev("evals/other.csv", BASE_COSTS))}, {}, "idm.yaml")
    assert got.evals == {"m": (ev(costs=BASE_COSTS), ev("evals/other.csv", BASE_COSTS, i=1))}
    assert got.notices == (
        "idm.yaml: models[0].evals[0].costs: this PR changes the costs of task fraud (matrix fraud>legit=20, "
        "legit>fraud=1 -> matrix fraud>legit=19, legit>fraud=1); costs are policy, so the gate weighs the PR's "
        "counts with the base commit's costs; the new costs take effect once merged",)


def test_removing_costs_is_a_change_too():
    got = costs_at_base([("m", (ev(costs=None),))], {"m": (ev(costs={"fraud": 10, "legit": 1}),)}, {}, "idm.yaml")
    assert got.evals["m"][0].costs == {"fraud": 10, "legit": 1}
    assert "(per-class fraud=10 -> no costs)" in got.notices[0]


def test_entries_are_matched_by_task_not_by_position_or_file():
    # the task name is the file's stem unless task: names it; the PR moved the file and reordered the list
    pr = [("m", (ev("evals/new.csv", BASE_COSTS, i=0), ev("results/fraud_v2.csv", PR_COSTS, task="fraud", i=1)))]
    base = {"m": (ev("evals/fraud.csv", BASE_COSTS), ev("evals/new.csv", BASE_COSTS))}
    got = costs_at_base(pr, base, {}, "idm.yaml")
    assert [e.costs for e in got.evals["m"]] == [BASE_COSTS, BASE_COSTS]
    assert len(got.notices) == 1 and "models[0].evals[1].costs" in got.notices[0]


def test_a_renamed_model_is_held_to_its_old_names_costs():
    got = costs_at_base([("fraud-v2", (ev(costs=PR_COSTS),))], {"fraud-v1": (ev(costs=BASE_COSTS),)},
                        {"fraud-v2": "fraud-v1"}, "idm.yaml")
    assert got.evals["fraud-v2"][0].costs == BASE_COSTS and len(got.notices) == 1


def test_nothing_at_the_base_to_loosen_keeps_the_prs_costs():
    pr = [("new", (ev(costs=PR_COSTS),)), ("m", (ev("evals/added.csv", PR_COSTS), ev(None, i=1)))]
    base = {"m": (ev(costs=BASE_COSTS), ev(None))}  # no model 'new'; no task 'added'; inline scores have no task
    got = costs_at_base(pr, base, {}, "idm.yaml")
    assert got.notices == ()
    assert got.evals == {"new": pr[0][1], "m": pr[1][1]}
