"""Which metrics are error rates in [0, 1], which way they point, and which one a task counts by.

Intelligence density needs an *error fraction* per task. Only two kinds of metric give one:

* accuracy-like rates in [0, 1] where higher is better (``acc``, ``acc_norm``, ``exact_match``,
  ``mc2``, ``pass@1``, ``prompt_level_strict_acc``, ``f1``, ...): error = 1 - value;
* error rates in [0, 1] where the value is the error (``error``, ``error_rate``, ``top1_error``):
  error = value.

Word and character error rates (``wer``, ``cer``) are counted only when the manifest names them for
the task: insertions let them exceed 1, so they are not picked on their own. Everything else is not
a rate: perplexities and bits per byte are unbounded, BLEU/chrF/TER live on their own scales, ROUGE
and BERTScore are overlap scores whose complement is not an error rate, correlations can be negative.
A name we do not know is "unknown" (its direction cannot be trusted) and is never picked on its own.

Names are compared after :func:`normalize` (lower case, runs of spaces and hyphens become ``_``), so
model cards' ``"exact match"``, ``"Normalized Accuracy"`` and ``"strict accuracy"`` are understood.

The primary-metric rule (one rule for every reader, overridable per task in the manifest):

1. only metrics of kind ``higher`` or ``lower`` are candidates;
2. candidates are ranked by :data:`PRIMARY_ORDER` (``acc_norm`` first, then ``acc``, ``accuracy``,
   ``mc2``, ``exact_match``, ...), then any other accuracy-like rate in alphabetical order, then
   error rates in alphabetical order;
3. lm-eval only: among keys of the same metric name, the filter ``none`` wins, then
   ``strict-match``, then the other filters in alphabetical order.

Why ``acc_norm`` before ``acc``: lm-eval reports the length-normalised accuracy only for multiple
choice tasks whose answers differ in length, where it is the fairer number; with this order the rule
reproduces the Open LLM Leaderboard v1 choices (arc_challenge acc_norm, hellaswag acc_norm, mmlu acc,
winogrande acc, truthfulqa mc2, gsm8k exact_match with the strict-match filter). Why ``strict-match``
before ``flexible-extract``: the strict filter grades the answer in the format the task asked for;
the flexible one forgives formatting and reads higher than what a user of the model gets.
"""

from __future__ import annotations

import functools
import re
from typing import Any

HIGHER = "higher"        # accuracy-like rate in [0, 1]: error = 1 - value
LOWER = "lower"          # error rate in [0, 1]: error = value
DECLARED_ONLY = "declared-only"  # an error rate that can exceed 1: counted only when named
NOT_RATE = "not-rate"
UNKNOWN = "unknown"

# The order in which a task's primary metric is chosen (normalised names).
PRIMARY_ORDER: tuple[str, ...] = (
    "acc_norm",
    "acc",
    "accuracy",
    "mc2",
    "truthfulqa_mc2",
    "exact_match",
    "em",
    "prompt_level_strict_acc",
    "inst_level_strict_acc",
    "pass@1",
    "f1",
    "mc1",
    "truthfulqa_mc1",
)

# Filters of lm-eval metric keys ("exact_match,strict-match"), in order of preference.
FILTER_ORDER: tuple[str, ...] = ("none", "strict-match")

# Keys of an lm-eval result entry that describe the entry, not a metric.
BOOKKEEPING = frozenset({"alias", "name", "sample_len", "sample_count", "samples", "n", "num_samples",
                         "task", "group", "n-samples", "n_samples"})

_HIGHER_EXACT = frozenset({
    "acc", "acc_norm", "acc_mutual_info", "accuracy", "exact_match", "em", "f1", "mc1", "mc2", "mc3",
    "truthfulqa_mc1", "truthfulqa_mc2",  # lighteval's names for TruthfulQA's mc1/mc2
    "prompt_level_strict_acc", "prompt_level_loose_acc", "inst_level_strict_acc",
    "inst_level_loose_acc", "macro_f1", "micro_f1", "f1_macro", "f1_micro", "f1_score",
    "top1_acc", "top5_acc", "top1_accuracy", "top5_accuracy", "quasi_exact_match",
})
# Patterns are kept as text and compiled on the first classify (_compiled): compiling them at import
# cost about 1 ms of every start-up, and measure of inline scores never classifies a name.
_HIGHER_PATTERNS = (
    r"(^|_)pass(@|_at_)\d+$",  # pass@1, OpenCompass's humaneval_pass@1
    r"^maj@\d+$",
    # lighteval's exact-match family: em, qem (quasi), pem (prefix), pqem, and their variants
    # ("em_with_normalize_gold&normalize_pred"), and extractive_match.
    r"^(q|p|pq)?em(_|$)",
    r"^extractive_match",
    r"(^|_)acc(_|$)",
    r"accuracy",
    r"exact_match",
)
_LOWER_EXACT = frozenset({
    "error", "error_rate", "err", "test_error", "classification_error", "misclassification_rate",
})
_LOWER_PATTERNS = (r"^top_?\d+_err(or)?(_rate)?$",)
_DECLARED_EXACT = frozenset({"wer", "cer", "word_error_rate", "character_error_rate", "char_error_rate"})
_DECLARED_PATTERNS = (r"(^|_)(wer|cer)$",)

# (pattern, why it is not a rate); the first match wins.
_NOT_RATE: tuple[tuple[str, str], ...] = (
    (r"perplexity|(^|_)ppl($|_)", "a perplexity, unbounded"),
    (r"bits_per|(^|_)bpb($|_)|(^|_)bpc($|_)", "bits per byte/character, unbounded"),
    (r"bleu|chrf|(^|_)ter($|_)|meteor", "a translation score on its own scale"),
    (r"rouge|bertscore|bleurt", "an overlap score whose complement is not an error rate"),
    (r"likelihood|logprob|log_prob|(^|_)nll($|_)|(^|_)loss($|_)", "a log-likelihood or loss"),
    (r"(^|_)(mse|mae|rmse)($|_)|squared|absolute", "a regression error, unbounded"),
    (r"(^|_)mcc($|_)|pearson|spearman|kendall|corr", "a correlation in [-1, 1]"),
    (r"brier|(^|_)ece($|_)|calibration", "a calibration score, not an error rate"),
    (r"(^|_)(stderr|std|stdev|var|count|len|length|time|seconds|tokens)($|_)",
     "a statistic, not a score"),
)
_HIGHER_BLOCK = _NOT_RATE[-1][0]  # "acc_stderr" must not count as "acc"

_Rx = tuple[re.Pattern[str], ...]


@functools.cache
def _compiled() -> tuple[_Rx, _Rx, _Rx, tuple[tuple[re.Pattern[str], str], ...], re.Pattern[str]]:
    """The patterns above, compiled: higher, lower, declared, not-a-rate (with why), the higher block."""
    return (tuple(map(re.compile, _HIGHER_PATTERNS)), tuple(map(re.compile, _LOWER_PATTERNS)),
            tuple(map(re.compile, _DECLARED_PATTERNS)), tuple((re.compile(p), w) for p, w in _NOT_RATE),
            re.compile(_HIGHER_BLOCK))


# lm-eval writes a metric's standard error under "<metric>_stderr,<filter>".
STDERR_SUFFIX = "_stderr"


def normalize(name: str) -> str:
    """Lower case, trimmed, with runs of spaces and hyphens turned into ``_``."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def classify(name: str) -> str:
    """Return HIGHER, LOWER, DECLARED_ONLY, NOT_RATE or UNKNOWN for a metric name."""
    n = normalize(name)
    if not n:
        return UNKNOWN
    if n in _HIGHER_EXACT:
        return HIGHER
    higher, lower, declared, not_rate, higher_block = _compiled()
    if n in _LOWER_EXACT or any(p.search(n) for p in lower):
        return LOWER
    if n in _DECLARED_EXACT or any(p.search(n) for p in declared):
        return DECLARED_ONLY
    for pattern, _why in not_rate:
        if pattern.search(n):
            return NOT_RATE
    if any(p.search(n) for p in higher) and not higher_block.search(n):
        return HIGHER
    return UNKNOWN


def why_not(name: str) -> str:
    """A short phrase saying why ``name`` is not picked on its own (for notices and errors)."""
    kind = classify(name)
    n = normalize(name)
    if kind == DECLARED_ONLY:
        return "a word/character error rate, which can exceed 1; name it for the task to count it"
    if kind == NOT_RATE:
        _, _, _, not_rate, _ = _compiled()
        for pattern, why in not_rate:
            if pattern.search(n):
                return why
    if kind == UNKNOWN:
        return "not a metric idm-gate knows, so its range and direction are unknown"
    return "a rate"


def default_direction(name: str) -> str | None:
    """HIGHER or LOWER from the name alone; None when the name does not say."""
    kind = classify(name)
    if kind == HIGHER:
        return HIGHER
    if kind in (LOWER, DECLARED_ONLY):
        return LOWER
    return None


def is_candidate(name: str) -> bool:
    """True when the primary-metric rule may pick ``name`` without being told to."""
    return classify(name) in (HIGHER, LOWER)


def rank(name: str, filter_: str | None = None) -> tuple[Any, ...]:
    """Sort key implementing the primary-metric rule; smaller is preferred."""
    n = normalize(name)
    kind = classify(n)
    if n in PRIMARY_ORDER:
        first = (0, PRIMARY_ORDER.index(n), "")
    elif kind == HIGHER:
        first = (1, 0, n)
    else:
        first = (2, 0, n)
    return first + filter_rank(filter_)


def filter_rank(filter_: str | None) -> tuple[Any, ...]:
    """Sort key for lm-eval filters: none, strict-match, then alphabetical."""
    if filter_ is None:
        return (0, 0, "")
    if filter_ in FILTER_ORDER:
        return (0, FILTER_ORDER.index(filter_), "")
    return (1, 0, filter_)
