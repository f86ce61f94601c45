"""The report document (idm_gate.serialize): written, read back, and refused in one line when edited."""

from __future__ import annotations

import copy
import json

import pytest

from idm_gate.data import LogBase, Measurement, ModelMeasurement, Scale, TaskScore
from idm_gate.errors import InputError
from idm_gate.serialize import dumps, loads_strict, measurement_from_dict, measurement_to_dict

# Two tasks, errors 0.25 and 0.35 (stderr 0.01 on the first), 10^9 bytes:
# Pe = (0.25 + 0.35) / 2 = 0.3, D = -ln(0.3) / 1 GB = 1.2039728 nats/GB;
# stderr of Pe = sqrt((1/2)^2 * 0.01^2) = 0.005, of D = 0.005 / (0.3 * 1 GB) = 0.0166667.
TASKS = (TaskScore(task="arc", metric="acc", score=0.75, error=0.25, stderr=0.01, source="r.json", scale=Scale.FRACTION,
                   scale_inferred=False),
         TaskScore(task="gsm8k", metric="acc", score=0.65, error=0.35, stderr=None, source="r.json", scale=Scale.FRACTION,
                   scale_inferred=False))
MODEL = ModelMeasurement(name="m", size_bytes=10**9, size_source="declared", params=None, bits_per_param=None,
                         error_rate=0.3, raw_error_rate=0.3, error_stderr=0.005, tasks_with_stderr=1,
                         density=1.2039728043259361, density_stderr=0.005 / 0.3, log_base=LogBase.E, tasks=TASKS,
                         artifacts=(), min_error_applied=False, weights=None, notices=())
DOC = measurement_to_dict(Measurement(manifest="idm.yaml", manifest_digest="0" * 64, log_base=LogBase.E, models=(MODEL,)))


def test_the_document_reads_back_as_written():
    text = dumps(DOC)
    back = measurement_from_dict(loads_strict(text.encode(), "r.json"), "r.json")
    assert measurement_to_dict(back) == DOC and json.loads(text) == DOC


def test_an_integer_past_64_bits_but_within_float_range_is_read_as_json_wrote_it():
    # the range check asks orjson first, which refuses integers past 64 bits: such a one must still be
    # accepted (10**20 < 1.8e308), exactly, as before
    doc = copy.deepcopy(DOC)
    x = doc["models"][0]
    x["params"], x["bits_per_param"] = 10**20, 8 * x["size_bytes"] / 10**20  # 8e9 bits over 1e20 params: 8e-11
    back = measurement_from_dict(doc, "r.json")
    assert back.models[0].params == 10**20 and type(back.models[0].params) is int


@pytest.mark.parametrize(("path", "shown"), [
    (("tasks", 0, "stderr"), "models[0].tasks[0].stderr"),
    (("density",), "models[0].density"),            # Hypothesis found these three in
    (("density_stderr",), "models[0].density_stderr"),  # test_measurement_from_any_edited_report
    (("error_stderr",), "models[0].error_stderr"),
])
def test_a_figure_too_large_for_a_float_is_refused_in_one_line_not_a_crash(path, shown):
    doc = copy.deepcopy(DOC)
    x = doc["models"][0]
    for k in path[:-1]:
        x = x[k]
    x[path[-1]] = 10**400  # JSON integers have no bound; float() of it overflows
    with pytest.raises(InputError) as ei:
        measurement_from_dict(doc, "r.json")
    assert str(ei.value) == f"r.json: {shown}: a number of 401 digits, beyond what a report holds; the report was edited"
