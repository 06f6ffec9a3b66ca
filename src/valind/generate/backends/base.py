"""The one interface every generation backend implements.

A backend turns chat conversations into completions. It is created for one
base model; `adapter` selects a LoRA adapter (a directory) per call, so a
backend that can serve adapters without reloading the base (vLLM LoRA
requests, PEFT adapter switching) does so.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Sequence

from ...registry import Registry

Messages = list[dict]  # [{"role": "user"|"assistant"|"system", "content": str}, ...]


@dataclass
class Completion:
    text: str
    # For each generated position, the top alternatives {token_text: logprob}; None when not asked
    # for or not supported by the backend.
    top_logprobs: list[dict[str, float]] | None = None
    meta: dict = field(default_factory=dict)


@dataclass
class SamplingSettings:
    max_new_tokens: int = 128
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0
    seed: int = 0
    logprobs: int = 0  # how many top alternatives to return per position (0 = none)


class GenerationBackend(ABC):
    registry_name: str = "?"

    def __init__(self, model: str, **options):
        self.model = model
        self.options = options

    @abstractmethod
    def generate(self, conversations: Sequence[Messages], settings: SamplingSettings,
                 adapter: str | None = None) -> list[Completion]:
        """One completion per conversation, in order."""

    def close(self) -> None:  # free GPU memory, sockets
        pass


backends: Registry[GenerationBackend] = Registry("generation backend", {
    "transformers": "valind.generate.backends.hf",
    "vllm": "valind.generate.backends.vllm_backend",
    "openai": "valind.generate.backends.openai_http",
})


def make_backend(name: str, model: str, **options) -> GenerationBackend:
    return backends.get(name)(model, **options)
