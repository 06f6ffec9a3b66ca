"""Measure the run's instruments on valind's labelled sets, for the report.

Writes RUN_DIR/validation/extractor.json (the configured value extractor on
the shipped gold set: per-value AP and F1) and RUN_DIR/validation/judges.json
(the refusal judges on XSTest's labelled completions when the shared data folder is found, the
learned judge's figure marked in-sample; the anthropomorphism judge on its labelled split).
Runs only for offline instruments (an LLM extractor or judge on CPU would
take hours; run `valind extract validate` / `valind judge validate` for those).
"""

from __future__ import annotations

import contextlib
import io
import json

from .artifacts import atomic_write_json, hash_text
from .context import RunContext
from .errors import ConfigError

OFFLINE_EXTRACTORS = {"embedding", "lexicon", "ensemble", "learned"}


def write_validation(ctx: RunContext) -> None:
    out = ctx.run_dir / "validation"
    cfg = ctx.config.extractor
    key = hash_text(json.dumps(cfg.model_dump(mode="json"), sort_keys=True),
                    json.dumps([v.model_dump(mode="json") for v in ctx.values], sort_keys=True))[:16]
    stamp = out / ".key"
    if not ctx.force and stamp.exists() and stamp.read_text() == key:
        return
    if cfg.name in OFFLINE_EXTRACTORS:
        from .instruments.values import make_extractor
        from .instruments.values.validate import DEFAULT_GOLD, load_gold, validate

        extractor = make_extractor(cfg.name, ctx.values, cfg.thresholds_file, **cfg.options)
        records = load_gold(DEFAULT_GOLD, extractor.value_names)
        result = validate(extractor, records)
        result["gold"] = str(DEFAULT_GOLD)
        if cfg.name == "learned":
            result["in_sample"] = ("the learned heads were trained on these rows; see `valind extract validate "
                                   "--dataset all --cv` for cross-validated and transfer figures")
        atomic_write_json(out / "extractor.json", result)
        ctx.info(f"[validation] extractor '{cfg.name}' on the gold set: macro AP {result['macro']['ap']:.3f}")
    from .instruments.validate_judges import run as validate_judges

    with contextlib.redirect_stdout(io.StringIO()):
        try:  # refusal judges on XSTest's labelled completions (in the shared data folder)
            judges = validate_judges(task="refusal")
        except ConfigError as exc:
            judges = {"refusal": {"not_measured": str(exc)}}
        # Anthro: the default judges on the outside-labelled set without refitting them (in-sample figures of
        # fitted judges are marked so); `valind judge validate --task anthro` gives the cross-validated ones.
        judges |= validate_judges(task="anthro", anthro_cv=False)
    atomic_write_json(out / "judges.json", judges)
    from .artifacts import atomic_write_text
    atomic_write_text(stamp, key)
