"""Errors a user can act on. Each names where the problem is (file, row, field)."""

from __future__ import annotations


class ValindError(Exception):
    """Base class for errors shown to the user without a traceback."""


class ConfigError(ValindError):
    """A study config (or values file) is invalid; the message names the field path."""


class InputError(ValindError):
    """A data row is malformed. Names the file, the 1-based row and the field."""

    def __init__(self, file: str, row: int | None, field: str | None, problem: str):
        self.file, self.row, self.field, self.problem = str(file), row, field, problem
        where = self.file
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {problem}")


class StageError(ValindError):
    """A pipeline stage cannot run (missing upstream artifact, bad state)."""
