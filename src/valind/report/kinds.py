"""Which family a metric belongs to, which multiple-testing family it is corrected in, and readable names.

Each evaluation suite declares the metrics it writes and their families (`Suite.metrics`, see
valind/evaluate/suites): `expresses:<v>` (expression), `value_score:<v>` (expression_score), `refused`,
XSTest's `over_refusal` / `refused_unsafe` / `refused_by_type:<t>`, `full_refusal*`, `partial_refusal*`
(refusal_detail), `anthro:<b>`, `anthro_any`, `sycophancy:<d>`, `initially_correct`, `changed`,
`correct_to_wrong`, `wrong_to_right`, `abandoned`, QA `<task>:<metric>[<filter>]` (suite `qa`); rates and
`judge_unparsed` are `other`. This module reads those declarations, so a suite from another package is
placed in its families too.
Multi-turn AnthroBench adds each anthro metric per turn, `<metric>@turn<k>` (family `anthro_turn`, secondary: the
pooled rows under the plain names are the primary ones).
"""

from __future__ import annotations

import re

from ..registry import suites
# Families that answer the study's questions; Benjamini-Hochberg runs over these together. Everything
# else (refusal details, rates, judge failures) is corrected as a second family, so it cannot dilute them.
PRIMARY_FAMILIES = {"expression", "refusal", "over_refusal", "anthro", "sycophancy", "qa"}
# Measured only on a selected subset of items (`abandoned`: the initially correct ones), so two models are
# compared on different items; the intent-to-treat measures on every item are the primary ones.
SELECTED_ITEM_METRICS = {"abandoned", "abandoned_correct"}
FEEDBACK_ITT = ("changed", "correct_to_wrong", "wrong_to_right")
VERSUS = {"vs_control": "the control adapter", "vs_base": "the base model"}  # contrast -> what it is against
SUITE_NAMES = {
    "value_prompts": "value prompts", "harmful_requests": "harmful requests (built-in)", "advbench": "AdvBench",
    "harmbench": "HarmBench", "strongreject": "StrongREJECT", "xstest": "XSTest", "anthrobench": "AnthroBench",
    "sycophancy": "sycophancy", "feedback_sycophancy": "feedback sycophancy", "mmlu": "MMLU", "gsm8k": "GSM8K",
    "truthfulqa": "TruthfulQA", "truthfulqa_mc1": "TruthfulQA MC1", "truthfulqa_mc2": "TruthfulQA MC2",
    "arc_easy": "ARC-Easy", "arc_challenge": "ARC-Challenge", "qa": "QA",
}


_TURN = re.compile(r"@turn(\d+)$")


def metric_turn(metric: str) -> int | None:
    """The conversation turn of a per-turn metric (`anthro_any@turn2` -> 2), else None."""
    m = _TURN.search(metric)
    return int(m.group(1)) if m else None


def refusal_suites() -> tuple[str, ...]:
    """The suites scored by a refusal judge (their `task`), by name."""
    return tuple(name for name, cls in suites.classes().items() if cls.task == "refusal")


def metric_family(metric: str) -> str:
    """expression, expression_score, refusal, over_refusal, refusal_detail, anthro, anthro_turn, sycophancy, qa or
    other: what the suite writing `metric` declares (`other` when no suite declares it); a per-turn metric
    (`<metric>@turn<k>`) is its metric's family, `anthro_turn` for anthro."""
    if metric_turn(metric) is not None:
        base = metric_family(_TURN.sub("", metric))
        return "anthro_turn" if base == "anthro" else base
    for cls in suites.classes().values():
        family = cls.metric_family(metric)
        if family is not None:
            return family
    return "other"


def correction_family(metrics) -> dict[str, str]:
    """metric -> 'primary' or 'secondary'. Value scores count as primary only when no `expresses:` metric exists."""
    metrics = set(metrics)
    has_expresses = any(metric_family(m) == "expression" for m in metrics)
    out = {}
    for m in metrics:
        fam = metric_family(m)
        primary = (fam in PRIMARY_FAMILIES and m not in SELECTED_ITEM_METRICS) or (
            fam == "expression_score" and not has_expresses)
        out[m] = "primary" if primary else "secondary"
    return out


def suite_name(suite: str) -> str:
    return SUITE_NAMES.get(suite, suite)


def metric_name(metric: str) -> str:
    """A readable name: `mmlu:acc` -> `MMLU acc`, `gsm8k:exact_match[strict-match]` -> `GSM8K exact_match (strict-match)`."""
    special = {"over_refused": "over-refusal (safe prompts)", "over_refusal": "over-refusal (safe prompts)",
               "refused_unsafe": "refused (unsafe prompts)", "anthro_any": "any anthropomorphic behaviour",
               "abandoned": "abandoned a correct answer (initially correct items only)",
               "abandoned_correct": "abandoned a correct answer (initially correct items only)",
               "changed": "answer changed after pushback", "correct_to_wrong": "correct -> wrong after pushback",
               "wrong_to_right": "wrong -> right after pushback",
               "initially_correct": "correct before pushback"}
    if metric_turn(metric) is not None:
        return f"{metric_name(_TURN.sub('', metric))} (turn {metric_turn(metric)})"
    if metric in special:
        return special[metric]
    if m := re.fullmatch(r"refused\[([^\]]+)\]", metric):
        return f"refused ({m.group(1)} judge)"
    if metric_family(metric) == "qa" and ":" in metric:
        task, rest = metric.split(":", 1)
        rest = re.sub(r"\[(.*)\]$", r" (\1)", rest)
        return f"{suite_name(task)} {rest}"
    return metric.split(":", 1)[1] if ":" in metric else metric
