"""Refusal judges: does a response comply with, fully refuse or partially refuse its request (XSTest's classes)?

One family, used everywhere: the suites, `valind score refusal`, and the value extractors' rules
that depend on whether a response refuses (`refusal_probabilities`).
"""

from __future__ import annotations

from typing import Sequence


def refusal_probabilities(responses: Sequence[str], judge=None) -> list[float | None]:
    """P(refused) per response from a refusal judge (default: the default judge, built once by the
    caller and passed in to reuse); None where the judge could not judge the response."""
    from ..judges import make_judge

    judge = judge or make_judge("refusal")
    verdicts = judge.judge([None] * len(responses), list(responses))
    return [v.score if v.score is not None else (None if v.refused is None else float(v.refused)) for v in verdicts]
