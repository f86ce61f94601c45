"""Model and eval files for the init and quick-start tests, written by the formats' own libraries or
copied from real outputs (sharded checkpoints and GGUF files: tests/support/weightfiles.py).

- safetensors: ``safetensors.numpy.save_file``; ONNX: ``onnx.save_model`` (optionally with external
  data, as ``onnx`` writes it); Git LFS pointers as ``git lfs`` leaves them;
- lm-evaluation-harness results: the real 0.4 results file in ``tests/data/evals/lm-eval/`` with only
  the fields that name the model changed (``config.model_args``, ``model_name``,
  ``model_name_sanitized``, ``date``), as lm-eval writes them for another ``--model_args``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "data"
LMEVAL_FIXTURE = DATA / "evals" / "lm-eval" / "results_2025-03-14T09-26-53.118402.json"
LFS_OID = "sha256:" + "ab" * 32


def safetensors_file(path: Path, n: int = 256, seed: int = 0) -> Path:
    """A float32 safetensors file with ``n`` parameters in two tensors."""
    from safetensors.numpy import save_file

    rng = np.random.RandomState(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    half = n // 2
    save_file({"a.weight": rng.standard_normal(half).astype(np.float32),
               "b.weight": rng.standard_normal(n - half).astype(np.float32)}, str(path),
              metadata={"format": "pt"})
    return path


def onnx_file(path: Path, external: str | None = None) -> Path:
    """A one-MatMul ONNX model; with ``external``, its initializer saved to that file beside it."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    path.parent.mkdir(parents=True, exist_ok=True)
    w = numpy_helper.from_array(np.random.RandomState(1).standard_normal((64, 32)).astype(np.float32), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 32])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    if external:
        onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=external, size_threshold=0)
    else:
        onnx.save_model(model, str(path))
    return path


def lfs_pointer(path: Path, size: int) -> Path:
    """A Git LFS pointer as ``git lfs`` leaves it in a checkout without the objects."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"version https://git-lfs.github.com/spec/v1\noid {LFS_OID}\nsize {size}\n")
    return path


def lmeval_results(path: Path, model_args: str, model_name: str, date: float = 1741944213.5147243,
                   drop_tasks: tuple[str, ...] = ()) -> Path:
    """The real lm-eval 0.4 results file, for a run with ``--model_args model_args``."""
    doc = json.loads(LMEVAL_FIXTURE.read_text())
    doc["config"]["model_args"] = model_args
    doc["model_name"] = model_name
    doc["model_name_sanitized"] = re.sub(r"[\"<>:/|\\?*\[\]]+", "__", model_name)
    doc["date"] = date
    for t in drop_tasks:
        doc["results"].pop(t, None)
        doc.get("configs", {}).pop(t, None)
        doc.get("versions", {}).pop(t, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, default=str))
    return path
