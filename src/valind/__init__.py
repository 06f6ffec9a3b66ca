"""valind: the value-induction lab.

Take preference data, find the values each response expresses, build one
training subset per value (the XOR rule), induce each value with DPO/SFT+LoRA,
and measure what else changed against the base model.

The public API is what this module exports (`valind.__all__`); the docs import only from here.
Names load on first use, so `import valind` stays cheap (no torch, pandas or pydantic):

    import valind
    study = valind.load_study("study.yaml")      # validated config (plug-in names checked)
    ctx = valind.run_study(study)                # every stage -> study.output_dir
    effects = valind.read_effects(ctx.run_dir)   # report/effects.parquet as a DataFrame
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    # a study: load (validated), run, its config sections
    "load_study": "valind.config", "parse_study": "valind.config", "StudyConfig": "valind.config",
    "SourceSpec": "valind.config", "run_study": "valind.pipeline",
    # single steps used on their own
    "ingest": "valind.ingest.stage", "EffectOptions": "valind.stats", "compute_effects": "valind.stats",
    # the result tables' readers
    "load_run": "valind.report.rundata", "read_results": "valind.report.rundata",
    "read_effects": "valind.report.rundata",
    # plug-ins: the registries, and the interface of each kind
    "suites": "valind.registry", "extractors": "valind.registry", "backends": "valind.registry",
    "judges": "valind.registry", "Suite": "valind.evaluate.suites.base", "SuiteItem": "valind.evaluate.suites.base",
    "ValueExtractor": "valind.instruments.values.base", "GenerationBackend": "valind.generate.backends.base",
    "Completion": "valind.generate.backends.base", "SamplingSettings": "valind.generate.backends.base",
    "Judge": "valind.instruments.judges", "Verdicts": "valind.instruments.judges",
    "make_judge": "valind.instruments.judges",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'valind' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
