"""Plug-in registries: one per kind (extractor, generation backend, judge, suite).

A plug-in registers itself by name with a decorator; configs choose by name.
Modules holding plug-ins are imported lazily, so optional extras (vLLM, Ray)
are only imported when chosen.
"""

from __future__ import annotations

import importlib
from typing import Callable, Generic, TypeVar

from .errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, lazy_modules: dict[str, str]):
        self.kind = kind
        self._items: dict[str, type[T]] = {}
        self._lazy = dict(lazy_modules)  # name -> module that registers it

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        def deco(cls: type[T]) -> type[T]:
            self._items[name] = cls
            cls.registry_name = name  # type: ignore[attr-defined]
            return cls
        return deco

    def names(self) -> list[str]:
        return sorted(set(self._items) | set(self._lazy))

    def get(self, name: str) -> type[T]:
        if name not in self._items and name in self._lazy:
            importlib.import_module(self._lazy[name])
        if name not in self._items:
            raise ConfigError(f"unknown {self.kind} '{name}'; available: {', '.join(self.names())}")
        return self._items[name]
