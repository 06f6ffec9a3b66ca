"""`valind export inspect RUN_DIR`: each (model, adapter, suite) as an Inspect AI evaluation log.

The logs are built from inspect_ai's own types (EvalLog, EvalSpec, EvalSample, EvalResults) and
written with its writer, so `inspect view --log-dir DIR` opens valind's generations and scores and
`inspect_ai.log.read_eval_log` reads them. One sample per suite item: the chat messages sent to the
model, its response, one score per valind metric (e.g. `refused`, `expresses:empathy`) and the
judges' details as metadata. Suites scored without generations in valind (QA through
lm-evaluation-harness) have scores but no text: their samples' input names the item.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import yaml

from ..artifacts import hash_text, read_jsonl, read_manifest
from ..config import safe_path_component
from ..errors import ConfigError, StageError
from ..layout import RunFolder


def _messages(raw: list[dict] | None, prompt: str):
    from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser

    kinds = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}
    if not raw:
        return [ChatMessageUser(content=prompt)]
    return [kinds[m["role"]](content=str(m["content"])) for m in raw if m.get("role") in kinds]


def _details(text) -> dict:
    try:
        out = json.loads(text) if isinstance(text, str) and text else {}
    except json.JSONDecodeError:
        out = {"details": text}
    return out if isinstance(out, dict) else {"details": out}


def _eval_results(scores: pd.DataFrame, n_samples: int):
    from inspect_ai.log import EvalMetric, EvalResults, EvalScore

    out = []
    for metric, grp in scores.groupby("metric", sort=True):
        vals = grp["value"].astype(float)
        sd = float(vals.std(ddof=1)) if len(vals) > 1 else float("nan")
        metrics = {"mean": EvalMetric(name="mean", value=float(vals.mean()))}
        if not math.isnan(sd):
            metrics["stderr"] = EvalMetric(name="stderr", value=sd / math.sqrt(len(vals)))
        out.append(EvalScore(name=metric, scorer=metric, scored_samples=len(vals),
                             unscored_samples=n_samples - grp["item_id"].nunique(), metrics=metrics))
    return EvalResults(total_samples=n_samples, completed_samples=n_samples, scores=out)


def build_log(run_dir: Path, study: dict, unit: dict, results: pd.DataFrame, items: pd.DataFrame, created: str):
    """The EvalLog of one (model, adapter, seed, suite) unit."""
    from inspect_ai.log import EvalConfig, EvalDataset, EvalLog, EvalSample, EvalSpec, EvalStats
    from inspect_ai.model import ChatMessageAssistant, GenerateConfig, ModelOutput
    from inspect_ai.scorer import Score

    model, induced, seed, suite = unit["model"], unit["induced_value"], int(unit["seed"]), unit["suite"]
    adapter = "base" if induced == "base" else f"{induced}/seed{seed}"
    model_id = f"valind/{model}/{adapter}"
    gen_file = RunFolder(run_dir).generations(f"{model}/{induced}/seed{seed}", suite)
    messages = {str(g["item_id"]): g.get("messages") for g in read_jsonl(gen_file)} if gen_file.exists() else {}
    texts = {str(r.item_id): r for r in items.itertuples()}
    ids = list(dict.fromkeys([*texts, *results["item_id"].astype(str)]))
    by_item = {k: g for k, g in results.groupby(results["item_id"].astype(str))}
    samples = []
    for item_id in ids:
        row = texts.get(item_id)
        prompt = row.prompt if row is not None else f"({suite} item {item_id}: scored by valind without a generation)"
        response = row.response if row is not None else ""
        input_msgs = _messages(messages.get(item_id), prompt)
        scores = {m: Score(value=float(v)) for m, v in zip(by_item[item_id]["metric"], by_item[item_id]["value"])} \
            if item_id in by_item else {}
        samples.append(EvalSample(
            id=item_id, epoch=1, input=input_msgs, target="",
            messages=[*input_msgs, ChatMessageAssistant(content=response, model=model_id)],
            output=ModelOutput.from_content(model_id, response), scores=scores,
            metadata=_details(row.details) if row is not None else {}))
    gen = study.get("generation") or {}
    model_spec = next((m for m in study.get("models") or [] if (m.get("label") or "") == model), {})
    spec = EvalSpec(
        created=created, task=suite, task_id=hash_text(str(study.get("name")), suite)[:22],
        task_display_name=f"{suite} ({model} {adapter})",
        eval_id=hash_text(str(study.get("name")), model, adapter, suite)[:22],
        run_id=hash_text(str(study.get("name")), created)[:22],
        dataset=EvalDataset(name=suite, samples=len(samples), sample_ids=ids),
        model=model_id, model_args={"base_model": model_spec.get("name", model), "adapter": adapter},
        model_generate_config=GenerateConfig(max_tokens=gen.get("max_new_tokens"), temperature=gen.get("temperature"),
                                             top_p=gen.get("top_p"), seed=gen.get("seed")),
        config=EvalConfig(), tags=["valind", str(study.get("name", ""))],
        metadata={"valind": {"study": study.get("name"), "run_dir": str(run_dir), "model": model,
                             "induced_value": induced, "seed": seed, "suite": suite,
                             "generation_backend": gen.get("backend")}})
    return EvalLog(status="success", eval=spec, samples=samples, results=_eval_results(results, len(samples)),
                   stats=EvalStats(started_at=created, completed_at=created))


def export_inspect(run_dir: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Write one `.eval` log per (model, adapter, seed, suite) of the run; return the paths."""
    try:
        from inspect_ai.log import write_eval_log  # optional: the `inspect` extra
    except ImportError as exc:
        raise ConfigError(f"`valind export inspect` needs Inspect AI ({exc}): pip install 'valind[inspect]' "
                          "(scripts/setup.sh installs it unless VALIND_EXTRAS leaves it out)") from None

    run_dir = Path(run_dir)
    results_path, items_path = RunFolder(run_dir).results, RunFolder(run_dir).items
    if not results_path.exists():
        raise StageError(f"{results_path}: missing; run `valind evaluate` (or `valind run`) first")
    out_dir = Path(out_dir) if out_dir else run_dir / "export" / "inspect"
    results = pd.read_parquet(results_path)
    items = pd.read_parquet(items_path) if items_path.exists() else pd.DataFrame(
        columns=["model", "induced_value", "seed", "suite", "item_id", "prompt", "response", "details"])
    study_path = run_dir / "study.yaml"
    study = (yaml.safe_load(study_path.read_text(encoding="utf-8")) or {}) if study_path.exists() else {}
    created = (read_manifest(run_dir / "evaluate") or {}).get("finished_at") or \
        pd.Timestamp(results_path.stat().st_mtime, unit="s", tz="UTC").isoformat()
    keys = ["model", "induced_value", "seed", "suite"]
    written = []
    item_groups = {k: g for k, g in items.groupby(keys)} if len(items) else {}
    for key, grp in results.groupby(keys, sort=True):
        unit = dict(zip(keys, key))
        log = build_log(run_dir, study, unit, grp, item_groups.get(key, items.iloc[0:0]), created)
        name = "_".join(safe_path_component(str(p)) for p in (unit["model"], unit["induced_value"],
                                                               f"seed{unit['seed']}", unit["suite"]))
        path = out_dir / f"{name}.eval"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_eval_log(log, str(path), format="eval")
        written.append(path)
    return written


def main(args) -> int:
    paths = export_inspect(args.run_dir, args.output)
    folder = paths[0].parent if paths else Path(args.output or Path(args.run_dir) / "export" / "inspect")
    print(f"wrote {len(paths)} Inspect logs to {folder}/\n  open them: inspect view --log-dir {folder}")
    return 0
