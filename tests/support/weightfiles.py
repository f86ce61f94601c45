"""Weight-file layouts as the real tools write them, for the sizing tests.

- Hugging Face sharded checkpoints: huggingface_hub's own splitter
  (``split_state_dict_into_shards_factory``, the code behind ``save_torch_state_dict``) decides the
  shards and their names (``model-00001-of-00003.safetensors``); safetensors writes each shard; the
  index has the shape ``save_torch_state_dict`` writes (``{"metadata": {"total_size"}, "weight_map"}``).
- GGUF: gguf-py's ``GGUFWriter`` (the writer behind llama.cpp's convert scripts), split with its
  ``split_max_tensors`` as ``convert_hf_to_gguf.py --split-max-tensors`` does: llama.cpp's
  ``-00001-of-00002.gguf`` names and ``split.no``/``split.count``/``split.tensors.count`` metadata.
- ONNX: onnx's own ``save_model(..., save_as_external_data=True, location=...)``.
- a command-line run of ``idm-gate`` in a subprocess, on a manifest with inline scores.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np


def hf_shards(folder: Path, tensors: dict[str, np.ndarray], max_shard_size: int,
              pattern: str = "model{suffix}.safetensors") -> dict:
    """Save ``tensors`` as transformers does; returns the index dict (also written beside them)."""
    from huggingface_hub.serialization import split_state_dict_into_shards_factory
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    split = split_state_dict_into_shards_factory(
        tensors, get_storage_size=lambda t: t.nbytes, filename_pattern=pattern, max_shard_size=max_shard_size)
    assert split.is_sharded, "pick max_shard_size below the tensors' total"
    for filename, names in split.filename_to_tensors.items():
        save_file({n: tensors[n] for n in names}, str(folder / filename), metadata={"format": "pt"})
    index = {"metadata": dict(split.metadata), "weight_map": split.tensor_to_filename}
    (folder / (pattern.format(suffix="") + ".index.json")).write_text(json.dumps(index, indent=2))
    return index


def safetensors_header_bytes(path: Path) -> int:
    """8 + the header length a safetensors file starts with: its bytes that are not tensor data."""
    return 8 + int.from_bytes(path.read_bytes()[:8], "little")


def gguf_model(path: Path, tensors: dict[str, np.ndarray], arch: str = "llama",
               split_max_tensors: int = 0, small_first_shard: bool = False) -> list[Path]:
    """Write a GGUF (split when ``split_max_tensors``); returns the files written."""
    import gguf

    path.parent.mkdir(parents=True, exist_ok=True)
    w = gguf.GGUFWriter(str(path), arch, split_max_tensors=split_max_tensors,
                        small_first_shard=small_first_shard)
    w.add_block_count(1)
    w.add_string("general.name", path.stem)
    for name, t in tensors.items():
        w.add_tensor(name, t)
    files = w.format_shard_names(path)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return files


def run_measure(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "idm_gate", "measure", *args], check=False, cwd=folder,
                          capture_output=True, text=True, timeout=60)


def manifest(folder: Path, artifacts: list[str], name: str = "m") -> Path:
    """``idm.yaml`` with one model, the given artifacts and one inline score (error 0.25)."""
    import yaml

    doc = {"version": 1, "models": [{"name": name, "artifacts": artifacts,
                                     "evals": [{"scores": {"arc": 0.75}}]}]}
    p = folder / "idm.yaml"
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return p
