"""Manifest -> measurement: size every model, read its evals, compute its density.

This is the only stage that touches the file system for a measurement (through the sizing and eval
readers); ``metric`` stays pure.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from . import metric
from .data import BYTES_PER_GB, ArtifactSize, BenchResult, GroupMeasurement, Measurement, ModelMeasurement, TaskScore
from .errors import GitError, InputError
from .jsonsafe import collector_paused
from .manifest import Manifest, ModelSpec

SIZE_TOLERANCE = 0.005  # declared sizes and artifacts must agree within 0.5 %
MAX_NAME = 512  # task and metric names: the report schema's limit
MAX_SIZE_BYTES = 10**14  # 100 TB: the report schema's limit, as for declared sizes in the manifest


def repo_root(start: Path) -> Path:
    """The git top level holding ``start``, or ``start`` itself outside a repository (or without git)."""
    from .gitutil import Git

    try:
        return Git(start).toplevel() or start
    except GitError:  # no git on PATH: measure works without it
        return start


def _fmt_gb(b: float) -> str:
    return f"{b / 1e9:.6g} GB"


def _size(spec: ModelSpec, man: Manifest, root: Path) -> tuple[
        int, str, int | None, float | None, tuple[ArtifactSize, ...], list[str]]:
    from .sizing import size_artifacts

    where = f"{man.shown}: {spec.field}"
    declared: list[tuple[str, float]] = []
    if spec.size_bytes is not None:
        declared.append(("size_bytes", float(spec.size_bytes)))
    if spec.size_gb is not None:
        declared.append(("size_gb", spec.size_gb * BYTES_PER_GB))
    for (_, b1), (_, b2) in itertools.pairwise(declared):
        if abs(b1 - b2) > SIZE_TOLERANCE * max(b1, b2):
            raise InputError(f"{where}: size_bytes ({_fmt_gb(b1)}) and size_gb ({_fmt_gb(b2)}) disagree by more "
                             f"than 0.5 %; keep one of them")
    if spec.artifacts:
        res = size_artifacts(list(spec.artifacts), man.base_dir, root, f"{where}.artifacts")
        if res.size_bytes > MAX_SIZE_BYTES:
            raise InputError(
                f"{where}.artifacts: the artifacts add up to {_fmt_gb(res.size_bytes)}, over the 100 TB limit "
                f"({', '.join(spec.artifacts)}); check the sizes in LFS pointers, .dvc files or remote answers"
            )
        for name, b in declared:
            if abs(res.size_bytes - b) > SIZE_TOLERANCE * max(res.size_bytes, b):
                globs = ", ".join(spec.artifacts)
                raise InputError(
                    f"{where}.{name}: {_fmt_gb(b)} declared, but the artifacts add up to {_fmt_gb(res.size_bytes)} "
                    f"({globs}, {len(res.files)} file{'s' if len(res.files) != 1 else ''}); fix {name} or the artifacts"
                )
        return res.size_bytes, res.source, res.params, res.bits_per_param, tuple(res.files), list(res.notices)
    b = int(round(declared[0][1]))
    return b, "declared", None, None, (), []


def _tasks(spec: ModelSpec, man: Manifest, root: Path) -> tuple[list[TaskScore], list[str]]:
    from .evals import read_eval, skipped_tasks

    where = f"{man.shown}: {spec.field}"
    found: dict[str, TaskScore] = {}
    skipped: dict[str, str] = {}
    origin: dict[str, str] = {}  # task -> "evals[j] (source)" for messages
    twice: dict[str, str] = {}   # task -> "evals[i] (a) and evals[j] (b)": an error only if it counts
    notices: list[str] = []
    for src in spec.evals:
        res = read_eval(src, man.base_dir, root, man.shown, spec.metrics or {})
        notices.extend(res.notices)
        skipped.update(skipped_tasks(res))
        inferred = {t.scale for t in res.tasks if t.scale_inferred}
        # lm-eval, lighteval, mteb and OpenCompass fix their scale: nothing was guessed, nothing to declare
        if inferred and res.scale_convention is None and not any("inferred" in n for n in res.notices):
            notices.append(f"{src.path or 'inline scores'}: scores read as {'/'.join(sorted(inferred))} "
                           "(inferred: no scale: in the manifest); set scale: to declare it")
        here = f"{src.field.rsplit('.', 1)[-1]} ({src.path or 'inline'})"
        for t in res.tasks:
            if len(t.task) > MAX_NAME or len(t.metric) > MAX_NAME:
                raise InputError(f"{where}: {src.path or 'inline'}: a task or metric name is over {MAX_NAME} "
                                 f"characters ({t.task[:40]!r}...); use a shorter name")
            if t.task in found:
                twice.setdefault(t.task, f"{origin[t.task]} and {here}")
                continue
            found[t.task] = t
            origin[t.task] = here
    if spec.tasks is not None:
        missing = [t for t in spec.tasks if t not in found]
        if missing and missing[0] in skipped:
            raise InputError(f"{where}.tasks: {missing[0]!r} cannot count: {skipped[missing[0]]}; "
                             "remove it from tasks: or give it a rate metric")
        if missing:
            have = ", ".join(sorted(found)) or "none"
            raise InputError(f"{where}.tasks: {missing[0]!r} has no usable score in the evals; tasks found: {have}")
        chosen = [found[t] for t in spec.tasks]
    else:
        chosen = list(found.values())
    if not chosen:
        raise InputError(f"{where}.evals: no task with a usable score; add a results file or inline scores")
    for t in chosen:
        if t.task in twice:
            raise InputError(f"{where}: task {t.task!r} comes from both {twice[t.task]}; keep it in one source, "
                             "or leave it out of tasks:")
    if spec.metrics:
        for name in spec.metrics:
            if name not in found:
                raise InputError(f"{where}.metrics: {name!r} is not a task in the evals; tasks found: "
                                 f"{', '.join(sorted(found))}")
    return chosen, notices


# llama-bench's model_size counts tensor data only; a GGUF file adds its header, metadata (the tokenizer's
# vocabulary and merges, a few MB) and alignment padding. Where the tensor bytes are unknown (an LFS
# pointer, a Hub listing), the file may exceed model_size by this much and no more.
GGUF_OVERHEAD_REL = 0.02
GGUF_OVERHEAD_ABS = 64 * 1024 * 1024


def _bench(spec: ModelSpec, man: Manifest, root: Path, size_bytes: int, params: int | None,
           files: tuple[ArtifactSize, ...]) -> tuple[tuple[BenchResult, ...], list[str]]:
    """Read the model's ``bench:`` files; a llama-bench file must have run the measured weights."""
    if not spec.bench:
        return (), []  # and the bench readers stay unimported
    from .bench import read_bench

    results: list[BenchResult] = []
    notices: list[str] = []
    seen: dict[str, str] = {}
    gguf = [a for a in files if a.format == "gguf"]
    tensor_bytes = sum(a.tensor_bytes or 0 for a in gguf) if gguf and all(
        a.tensor_bytes is not None for a in gguf) else None
    gguf_params = sum(a.params or 0 for a in gguf) if gguf and all(a.params is not None for a in gguf) else None
    for src in spec.bench:
        read = read_bench(src, man.base_dir, root, man.shown)
        where = f"{man.shown}: {src.field}: {src.path}"
        ran = f"llama-bench ran {read.model_filename!r}"
        if read.model_n_params is not None:
            have = gguf_params if gguf_params is not None else params
            if have is not None and have != read.model_n_params:
                raise InputError(f"{where}: {ran} with model_n_params {read.model_n_params:,}, but the artifacts "
                                 f"hold {have:,} parameters; the benchmark ran another file: rerun it on this "
                                 "model's weights")
        if read.model_size is not None:
            if tensor_bytes is not None:
                if tensor_bytes != read.model_size:
                    raise InputError(f"{where}: {ran} with model_size {read.model_size:,} bytes of tensor data, but "
                                     f"the GGUF artifacts hold {tensor_bytes:,}; the benchmark ran another file: "
                                     "rerun it on this model's weights")
            else:
                gap = size_bytes - read.model_size
                if not 0 <= gap <= max(GGUF_OVERHEAD_REL * size_bytes, GGUF_OVERHEAD_ABS):
                    raise InputError(f"{where}: {ran} with model_size {read.model_size:,} bytes of tensor data, but "
                                     f"the model measures {size_bytes:,} bytes, more than a GGUF header can explain "
                                     "(at most 2 % or 64 MiB); the benchmark ran another file: rerun it on this "
                                     "model's weights")
        notices.extend(read.notices)
        for r in read.results:
            if r.key in seen:
                raise InputError(f"{where}: {r.key} is also in {seen[r.key]}; keep each figure in one bench file")
            seen[r.key] = src.path
            results.append(r)
    return tuple(results), notices


def measure_model(spec: ModelSpec, man: Manifest, root: Path) -> ModelMeasurement:
    where = f"{man.shown}: {spec.field}"
    size_bytes, source, params, bpp, files, size_notices = _size(spec, man, root)
    tasks, notices = _tasks(spec, man, root)
    bench, bench_notices = _bench(spec, man, root, size_bytes, params, files)
    notices = size_notices + notices + bench_notices
    weights = None
    if spec.weights:
        names = {t.task for t in tasks}
        for t in spec.weights:
            if t not in names:
                raise InputError(f"{where}.weights: {t!r} is not a task that counts; tasks: {', '.join(sorted(names))}")
        weights = [float(spec.weights.get(t.task, 1.0)) for t in tasks]
        notices.append("weighted mean error (weights:), a departure from the published unweighted definition")
    min_error = spec.min_error if spec.min_error is not None else man.min_error
    try:
        agg = metric.aggregate_error([t.counted_error for t in tasks], [t.stderr for t in tasks], weights, min_error)
        d = metric.density(agg.error_rate, size_bytes, man.log_base)
        sd = metric.density_stderr(agg.error_rate, agg.error_stderr, size_bytes, man.log_base)
        plain_pe = plain_d = None
        if any(t.cost_error is not None for t in tasks):  # costs: both figures, the cost-weighted one counts
            plain = metric.aggregate_error([t.error for t in tasks], [None] * len(tasks), weights, min_error)
            plain_pe, plain_d = plain.error_rate, metric.density(plain.error_rate, size_bytes, man.log_base)
    except metric.MetricError as e:
        raise InputError(f"{where} ({spec.name}): {e}") from None
    if agg.clamped:
        notices.append(f"mean error {agg.raw_error_rate:.6g} clamped to min_error {agg.error_rate:g}")
    if agg.error_rate >= 1.0:
        notices.append("warning: mean error rate is 1 (every answer wrong), so the density is 0")
    groups = _groups(spec, man, tasks, min_error, size_bytes)
    return ModelMeasurement(
        name=spec.name, size_bytes=size_bytes, size_source=source, params=params, bits_per_param=bpp,
        error_rate=agg.error_rate, raw_error_rate=agg.raw_error_rate, error_stderr=agg.error_stderr,
        tasks_with_stderr=agg.tasks_with_stderr, density=d, density_stderr=sd, log_base=man.log_base,
        tasks=tuple(tasks), artifacts=files, min_error_applied=agg.clamped,
        weights=dict(spec.weights) if spec.weights else None, notices=tuple(notices), bench=bench,
        plain_error_rate=plain_pe, plain_density=plain_d, groups=groups,
    )


def _groups(spec: ModelSpec, man: Manifest, tasks: list[TaskScore], min_error: float | None,
            size_bytes: int) -> tuple[GroupMeasurement, ...]:
    """The model's domains (its own ``groups:``, else the top-level ones), each measured."""
    from .groups import GroupError, measure_group, resolve

    defined, top_level = man.groups_of(spec)
    if not defined:
        return ()
    at = "groups" if top_level else f"{spec.field}.groups"
    whose = f" ({spec.field}, model {spec.name!r})" if top_level else f" (model {spec.name!r})"
    try:
        members = resolve(defined, [t.task for t in tasks], top_level=top_level)
    except GroupError as e:
        raise InputError(f"{man.shown}: {at}.{e.group}: {e}{whose}") from None
    by = {t.task: t for t in tasks}
    out = []
    for name, names in members.items():
        try:
            out.append(measure_group(name, [by[t] for t in names], spec.weights, min_error, size_bytes,
                                     man.log_base))
        except metric.MetricError as e:
            raise InputError(f"{man.shown}: {at}.{name}: {e}{whose}") from None
    return tuple(out)


def measure(man: Manifest, root: Path | None = None, *, every_model: bool = True) -> Measurement:
    """Measure every model of ``man``. ``every_model`` False: ``man`` holds one shard's models only
    (``measure --shard``), so a check over all models (top-level groups) is left out."""
    root = root or repo_root(man.base_dir)
    # Tens of thousands of shards leave as many small objects (their sizes, the models), and no
    # reference cycles: with the cyclic collector running, each few hundred of them set off a
    # collection, and every full one walks all that is built so far again (at 100,000 shards about
    # 4 us per shard, an eighth of measuring). Paused, it meets them once, on its next pass.
    with collector_paused():
        models = tuple(measure_model(spec, man, root) for spec in man.models)
    if every_model:
        _top_level_groups_apply(man, models)
    return Measurement(manifest=man.shown, manifest_digest=man.digest, log_base=man.log_base, models=models)


def _top_level_groups_apply(man: Manifest, models: tuple[ModelMeasurement, ...]) -> None:
    """A top-level group that no model counts a task of is a typo (``gsm8kk``), not a domain: without this,
    it would vanish from every report without a word, since a model that counts none of a top-level group's
    tasks leaves it out (a classifier has no "math")."""
    from .groups import suggest

    users = [m for spec, m in zip(man.models, models, strict=True) if man.groups_of(spec)[1]]
    if not man.groups or not users:
        return
    used = {g.name for m in users for g in m.groups}
    tasks = list(dict.fromkeys(t.task for m in users for t in m.tasks))
    for name, entries in man.groups.items():
        if name not in used:
            raise InputError(f"{man.shown}: groups.{name}: no model counts any of its tasks "
                             f"({', '.join(entries[:5])}{' ...' if len(entries) > 5 else ''}); "
                             f"{suggest(tasks, entries[0])}")
