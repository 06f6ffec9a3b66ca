"""Evaluation: prompt suites, judges, QA; one tidy per-item results table."""
