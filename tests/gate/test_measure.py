"""measure(): sizes, evals and the formula put together, with the manifest rules the schema cannot express."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from idm_gate.errors import InputError
from idm_gate.manifest import load_manifest
from idm_gate.measure import measure

LMEVAL = next((Path(__file__).parents[1] / "data/evals/lm-eval").glob("results_*.json"))


def run(tmp_path: Path, yaml_text: str):
    (tmp_path / "idm.yaml").write_text(yaml_text)
    return measure(load_manifest(tmp_path / "idm.yaml", "idm.yaml"), tmp_path)


@pytest.fixture
def weights(tmp_path):
    (tmp_path / "w").mkdir()
    save_file({"a": np.zeros((256, 256), np.float16), "b": np.zeros((256,), np.float32)}, str(tmp_path / "w/m.safetensors"))
    return tmp_path / "w/m.safetensors"


def test_artifacts_size_and_params(tmp_path, weights):
    m = run(tmp_path, "version: 1\nmodels:\n - name: a\n   artifacts: [w/*.safetensors]\n"
                      "   evals: [{scores: {x: 0.7, y: 0.5}}]\n").models[0]
    assert m.size_bytes == weights.stat().st_size and m.params == 256 * 256 + 256
    assert m.error_rate == pytest.approx(0.4)
    assert m.density == pytest.approx(-math.log(0.4) / (m.size_bytes / 1e9))


def test_the_garbage_collector_is_back_on_after_measuring_or_refusing(tmp_path, weights):
    # measure runs with the cyclic collector paused (what it builds holds no cycles); the process gets
    # it back whatever the outcome, and a caller that had paused it keeps it paused
    import gc

    good = "version: 1\nmodels:\n - name: a\n   artifacts: [w/*.safetensors]\n   evals: [{scores: {x: 0.7}}]\n"
    bad = good.replace("w/*.safetensors", "w/*.gguf")  # matches no file: refused
    for text in (good, bad, good, bad):
        assert gc.isenabled()
        try:
            run(tmp_path, text)
        except InputError:
            assert text == bad
    gc.disable()
    try:
        run(tmp_path, good)
        with pytest.raises(InputError):
            run(tmp_path, bad)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_declared_size_must_agree_with_artifacts(tmp_path, weights):
    with pytest.raises(InputError) as e:
        run(tmp_path, "version: 1\nmodels:\n - name: a\n   artifacts: [w/*.safetensors]\n   size_gb: 0.001\n"
                      "   evals: [{scores: {x: 0.7}}]\n")
    msg = str(e.value)
    assert msg.startswith("idm.yaml: models[0].size_gb: 0.001 GB declared, but the artifacts add up to")
    assert "w/*.safetensors, 1 file" in msg and "fix size_gb or the artifacts" in msg


def test_declared_sizes_within_half_a_percent_pass(tmp_path, weights):
    size = weights.stat().st_size
    m = run(tmp_path, f"version: 1\nmodels:\n - name: a\n   artifacts: [w/*.safetensors]\n   size_bytes: {int(size * 1.004)}\n"
                      "   evals: [{scores: {x: 0.7}}]\n").models[0]
    assert m.size_bytes == size  # the measured size wins


def test_size_gb_and_size_bytes_must_agree(tmp_path):
    with pytest.raises(InputError, match="size_bytes .* and size_gb .* disagree"):
        run(tmp_path, "version: 1\nmodels:\n - name: a\n   size_gb: 1\n   size_bytes: 2000000000\n"
                      "   evals: [{scores: {x: 0.7}}]\n")


def test_task_in_two_sources_is_an_error(tmp_path):
    with pytest.raises(InputError, match=r"task 'x' comes from both evals\[0\] \(inline\) and evals\[1\] \(inline\)"):
        run(tmp_path, "version: 1\nmodels:\n - name: a\n   size_gb: 1\n"
                      "   evals: [{scores: {x: 0.7}}, {scores: {x: 0.6}}]\n")
    with pytest.raises(InputError, match=r"task 'x' comes from both .*leave it out of tasks:"):
        run(tmp_path, "version: 1\nmodels:\n - name: a\n   size_gb: 1\n   tasks: [x, y]\n"
                      "   evals: [{scores: {x: 0.7, y: 0.5}}, {scores: {x: 0.6}}]\n")
    # the README's way out: a tasks: list that leaves the duplicate out
    m = run(tmp_path, "version: 1\nmodels:\n - name: a\n   size_gb: 1\n   tasks: [y]\n"
                      "   evals: [{scores: {x: 0.7, y: 0.5}}, {scores: {x: 0.6}}]\n").models[0]
    assert [t.task for t in m.tasks] == ["y"] and m.error_rate == 0.5


def test_tasks_filter_weights_and_unknown_task(tmp_path):
    m = run(tmp_path, "version: 1\nmodels:\n - name: a\n   size_gb: 1\n   tasks: [x, y]\n   weights: {x: 3}\n"
                      "   evals: [{scores: {x: 0.9, y: 0.5, z: 0.1}}]\n").models[0]
    assert [t.task for t in m.tasks] == ["x", "y"]
    assert m.error_rate == pytest.approx((3 * 0.1 + 0.5) / 4)
    assert any("departure from the published" in n for n in m.notices)
    with pytest.raises(InputError, match=r"models\[0\]\.tasks: 'q' has no usable score in the evals; tasks found: x"):
        run(tmp_path, "version: 1\nmodels:\n - name: a\n   size_gb: 1\n   tasks: [q]\n   evals: [{scores: {x: 0.9}}]\n")


def test_task_without_a_rate_metric_says_why(tmp_path):
    shutil.copy(LMEVAL, tmp_path / "r.json")
    with pytest.raises(InputError, match="'wikitext' cannot count: no rate metric .*perplexity"):
        run(tmp_path, "version: 1\nmodels:\n - name: a\n   size_gb: 1\n   tasks: [wikitext]\n   evals: [{path: r.json}]\n")


def test_zero_error_needs_min_error_and_clamp_is_reported(tmp_path):
    with pytest.raises(InputError, match=r"models\[0\] \(a\): the mean error rate is 0.*set min_error"):
        run(tmp_path, "version: 1\nmodels:\n - name: a\n   size_gb: 1\n   evals: [{scores: {x: 1.0}}]\n")
    m = run(tmp_path, "version: 1\nmin_error: 0.5\nmodels:\n - name: a\n   size_gb: 1\n   min_error: 0.01\n"
                      "   evals: [{scores: {x: 1.0}}]\n").models[0]
    assert m.error_rate == 0.01 and m.min_error_applied and any("clamped to min_error 0.01" in n for n in m.notices)


def test_all_wrong_is_zero_density_with_warning(tmp_path):
    m = run(tmp_path, "version: 1\nmodels:\n - name: a\n   size_gb: 1\n   evals: [{scores: {x: 0.0}}]\n").models[0]
    assert m.density == 0.0 and any(n.startswith("warning: mean error rate is 1") for n in m.notices)


def test_artifacts_over_100_tb_are_refused_like_declared_sizes(tmp_path):
    # An LFS pointer may claim any size; the report schema (and every reader of a stored baseline) stops
    # at 100 TB, so a larger sum is the user's input error, not a report nobody can read back.
    (tmp_path / "w.safetensors").write_text(
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{'a' * 64}\nsize {2 * 10**14}\n")
    with pytest.raises(InputError, match=r"models\[0\]\.artifacts: the artifacts add up to 200000 GB, over the 100 TB"):
        run(tmp_path, "version: 1\nmodels:\n - name: a\n   artifacts: [w.safetensors]\n   evals: [{scores: {x: 0.5}}]\n")
    (tmp_path / "w.safetensors").write_text(
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{'a' * 64}\nsize {10**14}\n")
    m = run(tmp_path, "version: 1\nmodels:\n - name: a\n   artifacts: [w.safetensors]\n   evals: [{scores: {x: 0.5}}]\n")
    from idm_gate.serialize import measurement_from_dict, measurement_to_dict
    assert measurement_from_dict(measurement_to_dict(m), "r.json").models[0].size_bytes == 10**14


def test_global_min_error_applies_when_the_model_sets_none(tmp_path):
    m = run(tmp_path, "version: 1\nmin_error: 0.02\nmodels:\n - name: a\n   size_gb: 1\n"
                      "   evals: [{scores: {x: 1.0}}]\n").models[0]
    assert m.error_rate == 0.02 and m.min_error_applied


def test_declared_size_just_over_half_a_percent_fails(tmp_path, weights):
    size = weights.stat().st_size
    with pytest.raises(InputError, match=r"models\[0\]\.size_bytes: .* declared, but the artifacts add up to"):
        run(tmp_path, f"version: 1\nmodels:\n - name: a\n   artifacts: [w/*.safetensors]\n   size_bytes: {int(size * 1.006)}\n"
                      "   evals: [{scores: {x: 0.7}}]\n")
    with pytest.raises(InputError, match="disagree by more than 0.5 %"):
        run(tmp_path, "version: 1\nmodels:\n - name: a\n   size_gb: 1\n   size_bytes: 1006000000\n"
                      "   evals: [{scores: {x: 0.7}}]\n")


def test_paths_may_leave_the_manifest_folder_only_inside_a_git_repository(tmp_path):
    # measure() finds the root itself: the git top level, or the manifest's folder without a repository
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared/s.csv").write_text("task,score\nx,0.5\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub/idm.yaml").write_text("version: 1\nmodels:\n - name: a\n   size_gb: 1\n"
                                           "   evals: [{path: ../shared/s.csv}]\n")
    man = load_manifest(tmp_path / "sub/idm.yaml", "sub/idm.yaml")
    with pytest.raises(InputError, match=r"evals\[0\]\.path: '\.\./shared/s\.csv' resolves outside"):
        measure(man)
    import subprocess
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert measure(man).models[0].tasks[0].source == "../shared/s.csv"


def test_report_stays_within_its_own_schema(tmp_path):
    """measure never writes a report that the report schema (used to read baselines back) rejects."""
    from idm_gate.serialize import measurement_from_dict, measurement_to_dict

    with pytest.raises(InputError, match="over 512 characters"):
        run(tmp_path, "version: 1\nmodels:\n - name: a\n   size_gb: 1\n"
                      f"   evals: [{{scores: {{{'t' * 600}: 0.5}}}}]\n")
    m = run(tmp_path, "version: 1\nmodels:\n - name: a\n   size_gb: 1\n   weights: {x: 2}\n"
                      "   evals: [{scores: {x: 0.5}}]\n")
    long = m.models[0].__class__(**{**m.models[0].__dict__, "notices": ("n" * 10000,)})
    doc = measurement_to_dict(m.__class__(**{**m.__dict__, "models": (long,)}))
    assert len(doc["models"][0]["notices"][0]) == 4096
    measurement_from_dict(doc, "report")  # validates


def test_an_inferred_scale_is_reported(tmp_path):
    m = run(tmp_path, "version: 1\nmodels:\n - name: a\n   size_gb: 1\n   evals: [{scores: {x: 0.5}}]\n").models[0]
    assert "inline scores: scores read as fraction (inferred: no scale: in the manifest)" in m.notices[0]
    m = run(tmp_path, "version: 1\nmodels:\n - name: a\n   size_gb: 1\n   evals: [{scores: {x: 50}, scale: percent}]\n").models[0]
    assert not any("inferred" in n for n in m.notices)


@pytest.mark.parametrize("files", [
    ["lm-eval/" + LMEVAL.name],
    ["lighteval/results_2024-08-20T10-02-41.536718.json"],
    ["opencompass/summary_20240801_143012.csv"],
    ["lighteval/results_2024-01-04T13-27-32.660899.json", "lighteval/results_2024-08-20T10-02-41.536718.json"],
])
def test_a_format_that_fixes_its_scale_draws_no_inferred_scale_notice(tmp_path, files):
    # lm-eval, lighteval and mteb write fractions, OpenCompass percent: leaving scale: out guesses nothing.
    # The last case reads two lighteval runs through a glob.
    for f in files:
        shutil.copy(LMEVAL.parents[1] / f, tmp_path / Path(f).name)
    path = Path(files[0]).name if len(files) == 1 else "results_*.json"
    m = run(tmp_path, f"version: 1\nmodels:\n - name: a\n   size_gb: 1\n   evals: [{{path: '{path}'}}]\n").models[0]
    assert m.tasks and all(t.scale_inferred for t in m.tasks)  # still recorded as not declared
    assert not any("scores read as" in n for n in m.notices), m.notices
    # a CSV has no convention: its scale is a guess from the values, and the notice says so
    shutil.copy(LMEVAL.parents[1] / "scores.csv", tmp_path / "scores.csv")
    m = run(tmp_path, "version: 1\nmodels:\n - name: a\n   size_gb: 1\n   evals: [{path: scores.csv}]\n").models[0]
    assert any(n.startswith("scores.csv: scores read as fraction (inferred") for n in m.notices), m.notices
