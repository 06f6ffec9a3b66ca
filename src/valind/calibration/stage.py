"""Measure the run's own instruments on labelled data, for the report: what this study is configured with.

Writes RUN_DIR/validation/extractor.json: the configured value extractor (name, options, thresholds)
on the in-house development set (`values_dev.jsonl`, the report's chart) and on each labelled set
nobody here wrote that is found under ../shared/data (MoralChoice dev, the outside-labelled dev set).
Writes RUN_DIR/validation/judges.json: every (task, judge, options) the study's suites use (the
suite's `judge:` and `options.judge_options`, the offline default where unset), the refusal judges
on XSTest's labelled completions, the anthropomorphism judges on the outside-labelled set and the
in-house set; sycophancy has no labelled set, which the file says.

Every figure measured on rows the instrument was fitted on says so (`in_sample: true`, with what to
run for cross-validated figures). An LLM instrument is measured only when its backend is reachable
(an OpenAI-compatible server that answers; a vLLM engine wherever vLLM is installed, its CPU build
included; a local transformers model only with a GPU visible, since on CPU it would take hours); otherwise the entry says `not_measured` and why. Both files carry
`instruments_version` (a hash of the instruments' code, weights and data) and the stamp
`validation/.key` includes it, so editing an instrument measures again instead of reusing figures.
The figures are also kept per machine (~/.cache/valind/validation, keyed by the same and by the labelled
files' contents): another run with the same instruments copies them instead of measuring again.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

from ..artifacts import atomic_write_bytes, atomic_write_json, atomic_write_text, hash_file, hash_text, write_manifest
from ..redact import redact_secrets
from ..context import RunContext
from ..errors import ConfigError, ValindError
from ..instruments import instruments_version
from . import figure_version
from ..registry import extractors, judges, suites

LOCAL_ENGINES = {"transformers", "vllm"}
FILES = ("extractor.json", "judges.json")
CV_HOW = "pooled grouped 5-fold cross-validation (the shipped recipe refitted per fold; no group on both sides)"
TRANSFER_HOW = "trained on the other labelled sets only"


def configured_judges(cfg) -> list[dict]:
    """Each distinct (task, judge, options) the study's suites use, with the suites using it."""
    from ..instruments.judges import DEFAULT_JUDGES

    out: dict[str, dict] = {}
    for spec in cfg.evaluation.suites:
        task = suites.get(spec.name).task
        if task is None:
            continue
        name = spec.judge or DEFAULT_JUDGES[task]
        options = dict((spec.options or {}).get("judge_options") or {})
        key = json.dumps([task, name, options], sort_keys=True, default=str)
        out.setdefault(key, {"task": task, "judge": name, "options": options, "suites": []})["suites"].append(spec.name)
    return list(out.values())


def unreachable(options: dict, default_backend: str = "transformers") -> str | None:
    """Why an LLM instrument with these options cannot be measured here, or None when its backend is reachable."""
    backend = options.get("backend") or default_backend
    if backend in ("vllm", "auto"):  # vLLM runs here (its CPU build too): measured, in minutes for a small model
        try:
            import vllm  # noqa: F401
            return None
        except ImportError as exc:
            if backend == "vllm":
                return f"the LLM runs on vllm, which is not installed here ({exc}); see README, 'The vLLM engine'"
        backend = "transformers"  # what `auto` runs without vLLM
    if backend in LOCAL_ENGINES:
        import torch

        if not torch.cuda.is_available():
            return (f"the LLM runs locally through {backend} and no GPU is visible (on CPU it would take hours); "
                    f"measure it with `valind judge validate --judges llm --judge-option ...` / `valind extract "
                    f"validate` where one is")
        return None
    if backend == "openai":
        from ..redact import redact_url

        base = (options.get("backend_options") or {}).get("base_url", "http://127.0.0.1:8000/v1")
        try:
            urllib.request.urlopen(base.rstrip("/") + "/models", timeout=5).close()
        except urllib.error.HTTPError:
            return None  # the server answered (an auth or route error is the measurement's to report)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return f"the OpenAI-compatible server at {redact_url(base)} is not reachable ({getattr(exc, 'reason', exc)})"
    return None


def _version_stamp() -> dict:
    return {"instruments_version": instruments_version()}


def measure_extractor(ctx: RunContext) -> dict:
    """The configured extractor on the in-house set and the shared labelled sets (see the module doc)."""
    from ..instruments.values import make_extractor
    from .values.figures import ap_per_value, cv_figures, macro, measured_values, scores_via_cache
    from .values.labelled import load_dataset
    from .values.validate import DEFAULT_GOLD, in_sample_note, load_gold, validate
    from ..score import user_cache_path

    cfg = ctx.config.extractor
    head = {"extractor": cfg.name, "options": redact_secrets(cfg.plugin_options()), "thresholds_file": cfg.thresholds_file,
            **_version_stamp()}
    if not extractors.get(cfg.name).offline and (why := unreachable(cfg.options)):
        return {**head, "not_measured": why}
    extractor = make_extractor(cfg.name, ctx.values, cfg.thresholds_file, **cfg.plugin_options())
    # every set scored through the user's score cache: the learned extractor's features are computed once and
    # its cross-validation below reads them back instead of encoding every labelled text again
    cache_path = user_cache_path()
    try:
        gold = load_gold(DEFAULT_GOLD, extractor.value_names)
        result = validate(extractor, gold, scored=scores_via_cache(
            extractor, [r["prompt"] for r in gold], [r["response"] for r in gold], cache_path, with_failures=True))
        fitted = extractors.get(cfg.name).fitted
        note = in_sample_note(cfg.name, DEFAULT_GOLD)
        result.update(head, gold=str(DEFAULT_GOLD), data="in-house development set (written inside the project)",
                      in_sample=note is not None, **({"in_sample_note": note} if note else {}))
        sets, loaded = {}, []
        for name in ("moralchoice", "outside"):
            try:
                ds = load_dataset(name, extractor.value_names)
            except ConfigError as exc:
                sets[name] = {"not_measured": str(exc)}
                continue
            loaded.append(ds)
            per_value = ap_per_value(ds.labels, scores_via_cache(extractor, ds.prompts, ds.responses, cache_path),
                                     ds.value_names, measured_values(ds))
            sets[name] = {"n": len(ds.responses), "in_sample": fitted, "macro_ap": macro(per_value),
                          "macro_random_ap": macro(per_value, "random_ap"), "per_value": per_value,
                          "failures": max((f["failed"] for f in per_value.values()), default=0)}
        if fitted and not cfg.options.get("weights"):  # the shipped recipe, refitted per fold on every set
            gold_set = load_dataset("gold", extractor.value_names)
            figs = cv_figures(ctx.values, extractor, [*loaded, gold_set])
            for name, fig in figs.items():
                target = sets.get(name) if name != "gold" else result
                for key, how in (("cv", CV_HOW), ("transfer", TRANSFER_HOW)):
                    target["cross_validated" if key == "cv" else "transfer"] = {
                        "how": how, "macro_ap": macro(fig[key]), "macro_random_ap": macro(fig[key], "random_ap"),
                        "per_value": fig[key]}
        elif fitted:
            result["cross_validated"] = {"not_measured": "custom weights (option `weights`): grouped cross-"
                                                         "validation refits the shipped recipe only"}
        result["labelled_sets"] = sets
    finally:
        if hasattr(extractor, "close"):
            extractor.close()
    return result


def measure_judge(entry: dict) -> dict:
    """One configured judge on its task's labelled data, or why it was not measured."""
    from .anthro import validate as anthro_validation
    from .refusal.validate import run as validate_refusal

    task, name, options = entry["task"], entry["judge"], entry["options"]
    out = {"task": task, "judge": name, "options": redact_secrets(options), "suites": entry["suites"]}
    if not judges[task].get(name).offline and (why := unreachable(options)):
        return {**out, "not_measured": why}
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            if task == "refusal":  # XSTest's labelled completions (shared data folder)
                fig = validate_refusal([name], judge_options=options, cv=True)
                res = fig[name]
                entry = {**out, "labels": fig["_source"], "n": fig["_n"], "all": res["all"], "in_sample": res["fitted"]}
                if res["fitted"]:  # refitted per training fold: out-of-sample figures beside the in-sample one
                    entry["in_sample_note"] = "the shipped weights were fitted on these rows"
                    entry["cross_validated"] = {"how": "grouped by prompt, 5 folds, refitted per fold",
                                                **res["cv"]["prompt"]}
                    entry["transfer"] = {"how": "leave one model out (a model the judge never saw)",
                                         **res["cv"]["model"]}
                return entry
            if task == "anthro":  # outside-labelled set; fitted judges by grouped CV (the in-sample figure marked)
                fig = anthro_validation.run([name], judge_options=options, cross_validate=True)
                od = fig["outside_dev"]
                outside = od if "skipped" in od else {"path": od["path"], "rows": od["rows"]}
                if "skipped" not in od:
                    res = od["judges"][name]
                    fitted = "in_sample_shipped" in res
                    outside.update({"how": res["kind"], "in_sample": False,
                                    ("cross_validated" if fitted else "all"): res["cv"]})
                    if fitted:
                        outside["transfer"] = {"how": "leave one source out", **res.get("leave_one_source_out", {})}
                        outside["in_sample_shipped"] = {"note": "the shipped heads on the rows they were fitted on",
                                                        **res["in_sample_shipped"]}
                    if res.get("unjudged"):
                        outside["unjudged"] = res["unjudged"]
                return {**out, "outside_dev": outside, "in_house_dev": {
                    "path": fig["in_house_dev"]["path"], "note": fig["in_house_dev"]["note"],
                    **fig["in_house_dev"]["judges"][name]}}
    except ValindError as exc:
        return {**out, "not_measured": str(exc)}
    return {**out, "not_measured": f"no labelled {task} set ships with valind or is in ../shared/data"}


def validation_key(ctx: RunContext) -> str:
    """What the validation files depend on: the configured instruments, the values, the instruments' and the
    calibration code's versions, and the shared labelled files' contents (the per-machine cache must not trust paths alone)."""
    from ..evaluate.suites._data import find_shared

    shared = [find_shared(f"labelled/{n}") for n in ("xstest_completions_dev.csv", "moralchoice_dev.csv",
                                                      "outside_labelled_dev.jsonl", "outside_labelled_dev_2.jsonl")]
    return hash_text(json.dumps(ctx.config.extractor.model_dump(mode="json"), sort_keys=True),
                     json.dumps([v.model_dump(mode="json") for v in ctx.values], sort_keys=True),
                     json.dumps(configured_judges(ctx.config), sort_keys=True, default=str),
                     instruments_version(), *(figure_version(m) for m in ("values", "refusal", "anthro")),
                     *[hash_file(f) if f is not None and Path(f).is_file() else "-" for f in shared])[:16]


def validation_cache() -> Path:
    """Figures measured before on this machine, by key ($VALIND_VALIDATION_CACHE, default ~/.cache/valind/validation)."""
    from ..models import cache_dir

    return Path(os.environ.get("VALIND_VALIDATION_CACHE") or cache_dir() / "validation")


def write_validation(ctx: RunContext) -> bool:
    """Write RUN_DIR/validation/{extractor,judges}.json unless they are current; True when (re)written.

    The figures depend only on the instruments, their settings and the labelled files, not on the study's
    data, so they are kept per machine (validation_cache()) and a later run with the same instruments copies
    them instead of measuring again (`--force` measures again)."""
    out = ctx.folder.validation
    key = validation_key(ctx)
    stamp = out / ".key"
    if not ctx.force and stamp.exists() and stamp.read_text() == key:
        return False
    cached = validation_cache() / key
    if not ctx.force and all((cached / f).is_file() for f in FILES):
        for f in FILES:
            atomic_write_bytes(out / f, (cached / f).read_bytes())
        atomic_write_text(stamp, key)
        ctx.info(f"[validation] the same instruments were measured on the same labelled files before on this "
                 f"machine: figures copied from {cached}")
        return True
    extractor = measure_extractor(ctx)
    atomic_write_json(out / "extractor.json", extractor)
    if "macro" in extractor:
        ctx.info(f"[validation] extractor '{extractor['extractor']}' on the in-house set: macro AP "
                 f"{extractor['macro']['ap']:.3f}" + (" (in-sample)" if extractor["in_sample"] else ""))
    else:
        ctx.info(f"[validation] extractor '{extractor['extractor']}' not measured: {extractor['not_measured']}")
    judges = {f"{e['task']}:{e['judge']}" + (f" {json.dumps(redact_secrets(e['options']), sort_keys=True)}"
                                             if e["options"] else ""): measure_judge(e)
              for e in configured_judges(ctx.config)}
    for k, v in judges.items():
        if "not_measured" in v:
            ctx.info(f"[validation] judge {k} not measured: {v['not_measured']}")
    atomic_write_json(out / "judges.json", {**_version_stamp(), "judges": judges})
    atomic_write_text(stamp, key)
    try:
        for f in FILES:
            atomic_write_bytes(cached / f, (out / f).read_bytes())
    except OSError as exc:  # a read-only or full cache folder costs the next run time, not this one its figures
        ctx.info(f"[validation] could not keep the figures in {cached}: {exc}")
    return True


def run(ctx: RunContext) -> dict:
    """The validation stage: write the figures (or copy them from this machine's cache) and record them in
    RUN_DIR/validation/manifest.json; skipped when the instruments, values and labelled files did not change."""
    key = validation_key(ctx)
    if (m := ctx.fresh_manifest("validation", key, {})) is not None and (ctx.folder.validation / ".key").is_file() \
            and (ctx.folder.validation / ".key").read_text() == key:
        return m
    write_validation(ctx)
    return write_manifest(ctx.stage_dir("validation"), stage="validation", config_hash=key, inputs={},
                          outputs=list(FILES), extra={"instruments_version": instruments_version()})
