"""Gate runs a reviewer would see, built from real files, and GitHub's own Markdown renderer.

Each case writes two model folders (the baseline's and the PR's) with a manifest, safetensors weights
written by the ``safetensors`` library and CSV eval files, measures both with the product's own
``measure`` and compares them with ``compare``: the same path ``idm-gate check`` takes, minus git,
so the commits and the baseline's date can be fixed and the rendered Markdown kept as a golden file.

``to_html`` renders with cmark-gfm (``cmarkgfm``: GitHub's fork of cmark with its table, autolink,
strikethrough and tagfilter extensions) and raw HTML kept, as GitHub renders comments before it
sanitises them; ``Seen`` reads the result as a reviewer sees it: text, summaries, table cells, links.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import yaml
from safetensors.numpy import save_file

from idm_gate.compare import compare
from idm_gate.data import LogBase, Measurement
from idm_gate.gate import model_policies
from idm_gate.manifest import load_manifest
from idm_gate.measure import measure
from idm_gate.verdicts import CheckResult

HEAD_SHA = "4f0c2b9e8d7a6c5b4a3928171615141312111009"
PR_HEAD_SHA = "9a8b7c6d5e4f30211203948576a6b5c4d3e2f100"
BASE_SHA = "0123456789abcdef0123456789abcdef01234567"
MERGE_BASE_SHA = "fedcba9876543210fedcba9876543210fedcba98"
BASE_DATE = "2026-11-28T09:15:00+00:00"
GATE = {"max_drop": "5%", "warn_drop": "2%"}


def write_weights(path: Path, params: int, dtype) -> None:
    """One tensor of ``params`` parameters in ``dtype``: bits/param follows from the dtype."""
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"w": np.zeros(params, dtype=dtype)}, str(path))


def write_csv(path: Path, scores: dict[str, float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("task,score\n" + "".join(f"{t},{s}\n" for t, s in scores.items()))


@dataclass
class Side:
    """One side's models: name -> (weights (params, dtype) or size_bytes, {task: score})."""

    folder: Path
    models: list[dict] = field(default_factory=list)

    def add(self, name: str, scores: dict[str, float], *, params: int | None = None, dtype=np.float16,
            size_bytes: int | None = None, gate: dict | None = None) -> None:
        slug = name.lower().replace(" ", "-")
        spec: dict = {"name": name}
        if params is not None:
            write_weights(self.folder / "weights" / f"{slug}.safetensors", params, dtype)
            spec["artifacts"] = [f"weights/{slug}.safetensors"]
        else:
            spec["size_bytes"] = size_bytes
        write_csv(self.folder / "evals" / f"{slug}.csv", scores)
        spec["evals"] = [{"path": f"evals/{slug}.csv"}]
        if gate:
            spec["gate"] = gate
        self.models.append(spec)

    def measure(self, gate: dict | None = None) -> tuple[Measurement, dict]:
        doc = {"version": 1, "gate": gate or GATE, "models": self.models}
        (self.folder / "idm.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        man = load_manifest(self.folder / "idm.yaml", "idm.yaml")
        return measure(man, self.folder), model_policies(man)


def sides(tmp: Path) -> tuple[Side, Side]:
    return Side(tmp / "base"), Side(tmp / "pr")


def run(base: Side, pr: Side, *, distance: int = 0, base_gate: dict | None = None) -> CheckResult:
    """Compare as ``check`` does: the policy from the base side's manifest."""
    b, base_pol = base.measure(base_gate)
    c, _ = pr.measure(base_gate)
    pol = {m.name: base_pol.get(m.name, next(iter(base_pol.values()))) for m in c.models}
    return compare(c, b, pol, merge_base=MERGE_BASE_SHA if distance else BASE_SHA, head_commit=HEAD_SHA,
                   baseline_commit=BASE_SHA, baseline_distance=distance, baseline_date=BASE_DATE)


def failing_case(tmp: Path) -> CheckResult:
    """The issue's example: acme-lm-60m-Q8_0 upcast from fp16 to fp32 (size ×2) at the same accuracy;
    a second model a little bigger (a 3 % drop: warns); three unchanged models."""
    base, pr = sides(tmp)
    base.add("acme-lm-60m-Q8_0", {"arc_easy": 0.3337, "hellaswag": 0.3337, "piqa": 0.3337}, params=30_000)
    pr.add("acme-lm-60m-Q8_0", {"arc_easy": 0.3342, "hellaswag": 0.3337, "piqa": 0.3347}, params=30_000,
           dtype=np.float32)
    base.add("acme-lm-350m", {"arc_easy": 0.61, "piqa": 0.72}, size_bytes=700_000_000)
    pr.add("acme-lm-350m", {"arc_easy": 0.61, "piqa": 0.72}, size_bytes=721_000_000)
    for i in range(3):
        for s in (base, pr):
            s.add(f"acme-lm-{i + 1}b", {"arc_easy": 0.7 + i / 100}, size_bytes=(i + 1) * 2_000_000_000)
    return run(base, pr)


def passing_case(tmp: Path) -> CheckResult:
    """One model gains 14.6 % (the largest change); one is unchanged; one drops 1 % (passes)."""
    base, pr = sides(tmp)
    # density ∝ -ln(Pe): from Pe 0.40 to Pe 0.40^1.146 = 0.34979 is +14.6 %
    base.add("acme-lm-60m", {"arc_easy": 0.60}, size_bytes=120_000_000)
    pr.add("acme-lm-60m", {"arc_easy": 0.65021}, size_bytes=120_000_000)
    for s in (base, pr):
        s.add("acme-lm-1b", {"arc_easy": 0.72}, size_bytes=2_000_000_000)
    base.add("acme-lm-350m", {"arc_easy": 0.61, "piqa": 0.72}, size_bytes=700_000_000)
    pr.add("acme-lm-350m", {"arc_easy": 0.61, "piqa": 0.72}, size_bytes=707_000_000)
    return run(base, pr, distance=2)


def renamed_case(tmp: Path) -> CheckResult:
    """bonsai renamed to bonsai-v2 with nothing else changed."""
    base, pr = sides(tmp)
    base.add("bonsai", {"arc_easy": 0.70, "gsm8k": 0.60}, size_bytes=2_000_000_000)
    pr.add("bonsai-v2", {"arc_easy": 0.70, "gsm8k": 0.60}, size_bytes=2_000_000_000)
    return run(base, pr)


def synthetic(n: int, kinds: dict[str, int], name_len: int = 16) -> CheckResult:
    """``n`` models built in memory (a manifest of thousands of models takes seconds to parse, and the
    readers are not what is tested here), ``kinds`` = how many of them fail (10 % bigger), warn (3 %
    bigger) or shrink (10 % smaller); the rest are unchanged. The failing and warning ones come *last*,
    so that a report that keeps the manifest's order and cuts would lose them. Names are padded with
    "x" to ``name_len`` characters."""
    from idm_gate import metric
    from idm_gate.data import ModelMeasurement, Policy, TaskScore

    def model(name: str, size_bytes: int) -> ModelMeasurement:
        t = TaskScore("arc_easy", "acc,none", 0.7, 0.3, None, "evals/all.csv")
        return ModelMeasurement(name, size_bytes, "stat", None, None, 0.3, 0.3, None, 0, metric.density(0.3, size_bytes),
                                None, LogBase.E, (t,))

    order = ["same"] * (n - sum(kinds.values())) + [k for k in ("smaller", "warn", "fail") for _ in range(kinds.get(k, 0))]
    grow = {"same": 1.0, "smaller": 0.9, "warn": 1.03, "fail": 1.1}
    base, cur = [], []
    for i, kind in enumerate(order):
        name = f"model-{i:05d}-{kind}-".ljust(name_len, "x")
        base.append(model(name, 1_000_000_000))
        cur.append(model(name, round(1_000_000_000 * grow[kind])))
    pol = {m.name: Policy(max_drop=0.05, warn_drop=0.02) for m in cur}
    b = Measurement("idm.yaml", "0" * 64, LogBase.E, tuple(base))
    c = Measurement("idm.yaml", "0" * 64, LogBase.E, tuple(cur))
    return compare(c, b, pol, merge_base=BASE_SHA, head_commit=HEAD_SHA, baseline_commit=BASE_SHA,
                   baseline_distance=0, baseline_date=BASE_DATE)


# -- what a reviewer sees ---------------------------------------------------------------------------

def to_html(markdown: str) -> str:
    import cmarkgfm
    from cmarkgfm.cmark import Options

    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


class Seen(HTMLParser):
    """The rendered comment as text: all of it, the ``<summary>`` titles, table cells and links."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.summaries: list[str] = []
        self.cells: list[list[str]] = []   # rows of cell texts, header rows included
        self.links: list[tuple[str, str]] = []  # (href, text)
        self._stack: list[str] = []
        self._buf: dict[str, list[str]] = {}
        self._href: str | None = None
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        self._stack.append(tag)
        if tag in ("summary", "td", "th", "a"):
            self._buf[tag] = []
        if tag == "tr":
            self.cells.append([])
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_endtag(self, tag):
        if self._stack and self._stack[-1] == tag:
            self._stack.pop()
        text = "".join(self._buf.pop(tag, []))
        if tag == "summary":
            self.summaries.append(text)
        elif tag in ("td", "th") and self.cells:
            self.cells[-1].append(text)
        elif tag == "a":
            self.links.append((self._href or "", text))
        if tag in ("p", "li", "tr", "summary", "h2", "blockquote"):
            self.text.append("\n")

    def handle_data(self, data):
        self.text.append(data)
        for buf in self._buf.values():
            buf.append(data)

    @property
    def all_text(self) -> str:
        return html.unescape("".join(self.text))

    def rows_with(self, name: str) -> list[list[str]]:
        return [r for r in self.cells if len(r) > 1 and r[1] == name]
