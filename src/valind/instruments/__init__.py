"""The measurement instruments: value extractors and judges (refusal, anthropomorphism, sycophancy).

Every stage that measures text (extract, evaluate, `valind score`, the run's validation) uses
these, so they live apart from the stages. One folder per measure holds its offline and LLM
implementations, the files it ships (definitions, lexicons, weights, labelled development sets)
under `<measure>/data/`. Only what scores text lives here: how each instrument is fitted and measured on
labelled data (`valind extract validate` / `valind judge validate`) is valind.calibration, which imports
this package and never the reverse.
"""

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path


def instrument_file(measure: str, *parts: str) -> Path:
    """A file an instrument ships, e.g. instrument_file('values', 'lexicon.yaml')."""
    return Path(str(resources.files("valind.instruments").joinpath(measure, "data", *parts)))


@lru_cache(maxsize=None)
def instruments_version(measure: str | None = None, root: Path | None = None) -> str:
    """A hash of the instruments' files (code, definitions, weights, thresholds): all of them, or
    one measure's folder (`values`, `refusal`, ...) with the shared modules beside it.

    Stamped on cached scores and judgements and on the run's validation, so editing an instrument
    makes them stale instead of silently reusing figures from other code.
    """
    root = root or Path(str(resources.files("valind.instruments")))
    files = [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    if measure is not None:
        files = [p for p in files if p.parent == root or measure in p.relative_to(root).parts[:1]]
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()[:16]
