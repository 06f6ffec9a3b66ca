"""Calibration: how valind's instruments are fitted, validated on labelled data and reported.

valind.instruments holds only what scores text (extractors, judges, their rules and shipped weights);
everything that measures an instrument against labels lives here: the labelled sets' readers
(labelled.py, values/labelled.py, refusal/labelled.py), the fitting scripts (values/train.py,
anthro/train.py), grouped cross-validation and the published figure blocks (values/figures.py,
values/validate.py, anthro/, refusal/validate.py, validate_judges.py: `valind extract validate`,
`valind judge validate`), the LLM instruments measured on a sample (sample.py) and the pipeline's
validation stage (stage.py: `RUN_DIR/validation/`).

Imports go one way: calibration reads instruments, never the reverse.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Sequence

from ..errors import ConfigError
from ..instruments import instruments_version

STAMP = re.compile(r"instruments ((?:[a-z]+=[0-9a-f]{16})(?:,[a-z]+=[0-9a-f]{16})*)")
NOT_IN_FIGURES = ("stage.py",)  # the validation stage writes run folders, not published figures


@lru_cache(maxsize=None)
def figure_version(measure: str) -> str:
    """A hash of what a published figure about `measure` depends on: the instrument (instruments_version)
    and the calibration code that measured it (calibration/<measure>/ and the shared modules beside it)."""
    root = Path(str(resources.files("valind.calibration")))
    files = [p for p in root.rglob("*.py") if "__pycache__" not in p.parts and p.name not in NOT_IN_FIGURES
             and (p.parent == root or measure in p.relative_to(root).parts[:1])]
    h = hashlib.sha256(instruments_version(measure).encode())
    for f in sorted(files):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()[:16]


def version_stamp(*measures: str) -> str:
    """'instruments values=<hash>,refusal=<hash>': the versions of the measures a published figure depends on,
    written into every figure block so a stale block is found (tests/test_published_figures.py)."""
    return "instruments " + ",".join(f"{m}={figure_version(m)}" for m in measures)


def stale_stamps(text: str) -> list[str]:
    """'measure: stamped X, now Y' for each version stamp in `text` that is not the installed instruments' and
    calibration's version."""
    out = []
    for m in STAMP.finditer(text):
        for part in m.group(1).split(","):
            measure, version = part.split("=")
            if version != figure_version(measure):
                out.append(f"{measure}: stamped {version}, now {figure_version(measure)}")
    return out


def parse_options(pairs: Sequence[str] | None, flag: str) -> dict:
    """{KEY: VALUE} from KEY=VALUE strings (VALUE read as JSON where it is JSON, else kept as text)."""
    options = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ConfigError(f"{flag} {pair!r}: expected KEY=VALUE")
        key, value = pair.split("=", 1)
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options
