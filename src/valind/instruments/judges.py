"""The one interface every judge implements, and a registry per task.

A judge reads (prompt, response) pairs and returns `Verdicts`: one verdict per item, in order, with the
task and judge that gave them. Refusal judges give a `RefusalVerdict` (refusal/verdict.py), the
anthropomorphism judges an `AnthroVerdict` (anthro/judges.py), each with `to_record()` giving its flat
fields; sycophancy judges a dict of the fields they add. A judge that holds a model or an engine frees
it in `close()`; use it as a context manager (`with make_judge(...) as judge:`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Iterable

from ..errors import ConfigError
from ..registry import judges  # noqa: F401 - a registry per task, re-exported


@dataclass(frozen=True)
class Verdicts(Sequence):
    """One judge's verdicts on a batch, one per item in order (indexing and iterating give the verdicts)."""

    task: str
    judge: str
    items: tuple[Any, ...] = ()

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self) -> int:
        return len(self.items)

    def records(self) -> list[dict]:
        """Each verdict's flat fields (what `valind score` writes per record)."""
        return [v.to_record() if hasattr(v, "to_record") else dict(v) for v in self.items]


class Judge(ABC):
    registry_name: str = "?"
    task: str = "?"
    offline: bool = True  # False: an LLM behind options.backend, which must be reachable to measure it

    def __init__(self, **options):
        self.options = options

    @abstractmethod
    def judge(self, prompts: Sequence[str | None], responses: Sequence[str]) -> Verdicts:
        """One verdict per item, in order (built with `self.verdicts`)."""

    def verdicts(self, items: Iterable) -> Verdicts:
        return Verdicts(self.task, self.registry_name, tuple(items))

    def close(self) -> None:
        """Free what the judge holds (a model, an engine lease); nothing by default."""

    def __enter__(self) -> "Judge":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# The best judge per task that runs offline (what `valind score` and suites use by default).
DEFAULT_JUDGES = {"refusal": "learned", "anthro": "detector", "sycophancy": "detector"}


def make_judge(task: str, name: str | None = None, **options) -> Judge:
    if task not in judges:
        raise ConfigError(f"unknown judge task '{task}'; available: {', '.join(judges)}")
    return judges[task].get(name or DEFAULT_JUDGES[task])(**options)
