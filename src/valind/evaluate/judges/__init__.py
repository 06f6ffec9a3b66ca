"""Judges: refusal, anthropomorphism, sycophancy. One interface, one registry per task."""

from .base import DEFAULT_JUDGES, Judge, judges, make_judge

__all__ = ["DEFAULT_JUDGES", "Judge", "judges", "make_judge"]
