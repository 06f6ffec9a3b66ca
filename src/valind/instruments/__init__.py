"""The measurement instruments: value extractors and judges (refusal, anthropomorphism, sycophancy).

Every stage that measures text (extract, evaluate, `valind score`, the run's validation) uses
these, so they live apart from the stages. One folder per measure holds its offline and LLM
implementations, the files it ships (definitions, lexicons, weights, labelled development sets)
under `<measure>/data/`, and is measured by `valind extract validate` / `valind judge validate`.
"""

import hashlib
import re
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


STAMP = re.compile(r"instruments ((?:[a-z]+=[0-9a-f]{16})(?:,[a-z]+=[0-9a-f]{16})*)")


def version_stamp(*measures: str) -> str:
    """'instruments values=<hash>,refusal=<hash>': the versions of the measures a published figure depends on,
    written into every figure block so a stale block is found (tests/test_published_figures.py)."""
    return "instruments " + ",".join(f"{m}={instruments_version(m)}" for m in measures)


def stale_stamps(text: str) -> list[str]:
    """'measure: stamped X, now Y' for each version stamp in `text` that is not the installed instruments' version."""
    out = []
    for m in STAMP.finditer(text):
        for part in m.group(1).split(","):
            measure, version = part.split("=")
            if version != instruments_version(measure):
                out.append(f"{measure}: stamped {version}, now {instruments_version(measure)}")
    return out
