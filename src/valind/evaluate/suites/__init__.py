"""Evaluation suites: prompts (data) + a judge + metrics, selected by name in the study config."""

from .base import Suite, SuiteItem, make_suite, suites

__all__ = ["Suite", "SuiteItem", "make_suite", "suites"]
