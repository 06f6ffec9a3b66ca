"""Generation backends behind one interface (shared by generation, the LLM extractor and LLM judges)."""

from .base import Completion, GenerationBackend, backends, make_backend

__all__ = ["Completion", "GenerationBackend", "backends", "make_backend"]
