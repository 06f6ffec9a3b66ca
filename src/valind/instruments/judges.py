"""The one interface every judge implements, and a registry per task.

A judge reads (prompt, response) pairs and returns one verdict per item: refusal judges a
`RefusalVerdict` (refusal/verdict.py), the anthropomorphism judges an `AnthroVerdict`
(anthro/judges.py), each with `to_record()` giving its flat fields; sycophancy judges a dict of the
fields they add.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

from ..registry import Registry


class Judge(ABC):
    registry_name: str = "?"
    task: str = "?"

    def __init__(self, **options):
        self.options = options

    @abstractmethod
    def judge(self, prompts: Sequence[str | None], responses: Sequence[str]) -> list:
        """One verdict per item, in order."""


judges: dict[str, Registry[Judge]] = {
    "refusal": Registry("refusal judge", {
        "learned": "valind.instruments.refusal.learned",
        "prefix": "valind.instruments.refusal.rules",
        "xstest-strmatch": "valind.instruments.refusal.rules",
        "llm": "valind.instruments.llm_judges",
        "hf-classifier": "valind.instruments.refusal.hf_classifier",
    }),
    "anthro": Registry("anthropomorphism judge", {
        "detector": "valind.instruments.anthro.judges",
        "rules": "valind.instruments.anthro.judges",
        "learned": "valind.instruments.anthro.judges",
        "llm": "valind.instruments.llm_judges",
    }),
    "sycophancy": Registry("sycophancy judge", {
        "detector": "valind.instruments.sycophancy.rules",
        "llm": "valind.instruments.llm_judges",
    }),
}

# The best judge per task that runs offline (what `valind score` and suites use by default).
DEFAULT_JUDGES = {"refusal": "learned", "anthro": "detector", "sycophancy": "detector"}


def make_judge(task: str, name: str | None = None, **options) -> Judge:
    from ..errors import ConfigError

    if task not in judges:
        raise ConfigError(f"unknown judge task '{task}'; available: {', '.join(judges)}")
    return judges[task].get(name or DEFAULT_JUDGES[task])(**options)
