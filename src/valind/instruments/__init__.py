"""The measurement instruments: value extractors and judges (refusal, anthropomorphism, sycophancy).

Every stage that measures text (extract, evaluate, `valind score`, the run's validation) uses
these, so they live apart from the stages. One folder per measure holds its offline and LLM
implementations, the files it ships (definitions, lexicons, weights, labelled development sets)
under `<measure>/data/`, and is measured by `valind extract validate` / `valind judge validate`.
"""

from importlib import resources
from pathlib import Path


def instrument_file(measure: str, *parts: str) -> Path:
    """A file an instrument ships, e.g. instrument_file('values', 'lexicon.yaml')."""
    return Path(str(resources.files("valind.instruments").joinpath(measure, "data", *parts)))
