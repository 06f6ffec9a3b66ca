"""The report of a run: effects against the base model, figures, one self-contained HTML file, a Markdown summary."""

from .build import build_report

__all__ = ["build_report"]
