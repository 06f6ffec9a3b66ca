"""Plug-in registries: one per kind (extractor, generation backend, judge per task, suite).

A plug-in is a class that names itself once, with `@<registry>.register("name")`, and carries its own
facts as class attributes (a suite's judge `task` and metric families, an extractor's `offline` and
`fitted`); configs choose plug-ins by name. Each registry lists the modules holding valind's own
plug-ins, imported when a name is asked for, so optional extras (vLLM, Ray) load only when used.

Other packages add plug-ins through a Python entry-point group, one per registry (`valind.suites`,
`valind.extractors`, `valind.backends`, `valind.judges.refusal`, `valind.judges.anthro`,
`valind.judges.sycophancy`): an entry `name = package.module:Class` registers `Class` as `name`.
This module sits at the bottom (it imports only `errors`), so `config.py` can check names at load.
"""

from __future__ import annotations

import importlib
import sys
from importlib import metadata
from typing import Callable, Generic, TypeVar

from .errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named plug-ins of one kind: valind's own (from `modules`) and other packages' (entry-point `group`)."""

    def __init__(self, kind: str, modules: tuple[str, ...], group: str):
        self.kind = kind
        self.group = group
        self._modules = modules  # valind's modules that register plug-ins of this kind
        self._items: dict[str, type[T]] = {}
        self._entry_points: tuple[tuple, dict] = ((), {})  # (sys.path it was read for, name -> EntryPoint)

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        def deco(cls: type[T]) -> type[T]:
            self._items[name] = cls
            cls.registry_name = name  # type: ignore[attr-defined]
            return cls
        return deco

    def _builtins(self) -> None:
        for module in self._modules:
            importlib.import_module(module)

    def entry_points(self) -> dict:
        """name -> EntryPoint in this registry's group, read again whenever sys.path changed."""
        key = tuple(sys.path)
        if self._entry_points[0] != key:
            eps = {ep.name: ep for ep in metadata.entry_points(group=self.group)}
            self._entry_points = (key, eps)
        return self._entry_points[1]

    def names(self) -> list[str]:
        self._builtins()
        return sorted(set(self._items) | set(self.entry_points()))

    def get(self, name: str) -> type[T]:
        if name not in self._items:
            self._builtins()
        if name not in self._items and name in self.entry_points():
            ep = self.entry_points()[name]
            try:
                cls = ep.load()
            except Exception as exc:  # a broken third-party package: say which entry point
                raise ConfigError(f"{self.kind} '{name}' (entry point {ep.value} in group {self.group}) "
                                  f"failed to load: {type(exc).__name__}: {exc}") from exc
            self.register(name)(cls)
        if name not in self._items:
            raise ConfigError(f"unknown {self.kind} '{name}'; available: {', '.join(self.names())}")
        return self._items[name]

    def check(self, name: str, extra: tuple[str, ...] = ()) -> str:
        """`name` if it is a plug-in of this kind (or one of `extra`); else a ValueError naming the allowed ones
        (raised inside pydantic validators, which add the config field's path)."""
        allowed = [*extra, *self.names()]
        if name not in allowed:
            raise ValueError(f"unknown {self.kind} '{name}'; allowed: {', '.join(allowed)}")
        return name

    def classes(self) -> dict[str, type[T]]:
        """Every plug-in of this kind, loaded: name -> class (for reading their facts)."""
        return {name: self.get(name) for name in self.names()}


# The registries: valind's own plug-in modules per kind, and the entry-point group other packages use.
suites: Registry = Registry("evaluation suite", (
    "valind.evaluate.suites.builtin", "valind.evaluate.suites.safety", "valind.evaluate.suites.anthro",
    "valind.evaluate.suites.sycophancy", "valind.evaluate.suites.qa"), "valind.suites")
extractors: Registry = Registry("extractor", (
    "valind.instruments.values.embedding", "valind.instruments.values.lexicon", "valind.instruments.values.ensemble",
    "valind.instruments.values.llm", "valind.instruments.values.learned"), "valind.extractors")
backends: Registry = Registry("generation backend", (
    "valind.generate.backends.hf", "valind.generate.backends.vllm_backend", "valind.generate.backends.openai_http"),
    "valind.backends")
judges: dict[str, Registry] = {
    "refusal": Registry("refusal judge", (
        "valind.instruments.refusal.learned", "valind.instruments.refusal.rules", "valind.instruments.llm_judges",
        "valind.instruments.refusal.hf_classifier"), "valind.judges.refusal"),
    "anthro": Registry("anthropomorphism judge", (
        "valind.instruments.anthro.judges", "valind.instruments.llm_judges"), "valind.judges.anthro"),
    "sycophancy": Registry("sycophancy judge", (
        "valind.instruments.sycophancy.rules", "valind.instruments.llm_judges"), "valind.judges.sycophancy"),
}
