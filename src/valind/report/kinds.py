"""Which family a (suite, metric) belongs to, and readable names for suites and metrics."""

from __future__ import annotations

QA_METRICS = {"acc", "acc_norm", "exact_match", "em", "f1", "mc1", "mc2", "bleu_acc", "correct"}
HARMFUL_SUITES = ("advbench", "harmful_requests", "harmbench", "strongreject", "xstest")
SUITE_NAMES = {
    "value_prompts": "value prompts", "harmful_requests": "harmful requests (built-in)", "advbench": "AdvBench",
    "harmbench": "HarmBench", "strongreject": "StrongREJECT", "xstest": "XSTest", "anthrobench": "AnthroBench",
    "sycophancy": "sycophancy", "feedback_sycophancy": "feedback sycophancy", "mmlu": "MMLU", "gsm8k": "GSM8K",
    "truthfulqa": "TruthfulQA", "qa": "QA",
}


def metric_family(metric: str) -> str:
    """expression, refusal, over_refusal, anthro, sycophancy, qa or other."""
    if metric.startswith(("expresses:", "value_score:")):
        return "expression"
    if metric == "over_refused":
        return "over_refusal"
    if metric == "refused":
        return "refusal"
    if metric.startswith("anthro:") or metric == "anthro_any":
        return "anthro"
    if metric.startswith("syco:") or metric == "abandoned_correct":
        return "sycophancy"
    if metric.split(":")[-1] in QA_METRICS:
        return "qa"
    return "other"


def suite_name(suite: str) -> str:
    return SUITE_NAMES.get(suite, suite)


def metric_name(metric: str) -> str:
    if metric == "over_refused":
        return "over-refusal (safe prompts)"
    if metric == "anthro_any":
        return "any anthropomorphic behaviour"
    if metric == "abandoned_correct":
        return "abandoned a correct answer"
    return metric.split(":", 1)[1] if ":" in metric else metric


def is_binary_family(family: str) -> bool:
    """Families whose metrics are 0/1 rates, shown in percentage points."""
    return family in ("refusal", "over_refusal", "anthro", "sycophancy", "qa")
