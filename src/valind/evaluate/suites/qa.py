"""QA through lm-evaluation-harness: MMLU, TruthfulQA MC1/MC2, GSM8K (the study's three), ARC on the hub.

A direct suite: for each (model, adapter) it calls

    lm_eval.simple_evaluate(model="hf", model_args={"pretrained": PATH, "peft": ADAPTER_DIR, ...},
                            tasks=[...], num_fewshot=..., limit=spec.limit, log_samples=True,
                            task_manager=TaskManager(include_path=<valind's task folder>))

and keeps every logged sample as a metric row, so the mean of a metric over its rows is exactly
lm-eval's score for that task (MMLU's group score is size-weighted, i.e. the mean over all its
items). lm-eval's aggregate results are also written to RUN_DIR/evaluate/qa/.

Offline (the default) the tasks are valind's YAMLs (`valind/evaluate/lm_eval_tasks`) filled in by
`prepare_tasks()` with data converted from `../shared/data`; with `options: {hub: true}` they are
lm-eval's own tasks on the hub (mmlu, truthfulqa_mc1/mc2, gsm8k, arc_easy, arc_challenge).

Options: tasks (default mmlu, truthfulqa_mc1, truthfulqa_mc2, gsm8k; ARC is added on the hub),
mmlu_subjects (default all 57), num_fewshot (int for every task, or a {task: shots} dict; unset:
MMLU 5, GSM8K 5, TruthfulQA and ARC 0, passed explicitly so offline and hub runs match), batch_size (default 8), hub,
apply_chat_template, gen_kwargs (e.g. {max_gen_toks: 256} for GSM8K), data_dir (a folder in ../shared/data's
layout to read instead; `package:embedded` is the small subsets valind ships for the embedded default).

Metric rows: `<task>:<metric>` (`mmlu:acc`, `truthfulqa_mc1:acc`, `truthfulqa_mc2:acc`,
`gsm8k:exact_match[strict-match]`, `gsm8k:exact_match[flexible-extract]`, `arc_easy:acc_norm`...),
item ids `<lm-eval task>/<doc id>`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Sequence

from ...artifacts import atomic_write_json, hash_text
from ...errors import ConfigError
from ...layout import RunFolder
from ._data import find_shared, read_table
from .base import Suite, suites

QA_METRICS = {"acc", "acc_norm", "exact_match", "em", "f1", "mc1", "mc2", "bleu_acc", "correct"}  # lm-eval's

# canonical name -> (valind's offline lm-eval task, lm-eval's hub task)
TASKS: dict[str, tuple[str | None, str]] = {
    "mmlu": ("valind_mmlu", "mmlu"),
    "truthfulqa_mc1": ("valind_truthfulqa_mc1", "truthfulqa_mc1"),
    "truthfulqa_mc2": ("valind_truthfulqa_mc2", "truthfulqa_mc2"),
    "gsm8k": ("valind_gsm8k", "gsm8k"),
    "arc_easy": (None, "arc_easy"),
    "arc_challenge": (None, "arc_challenge"),
}
DEFAULT_TASKS = ["mmlu", "truthfulqa_mc1", "truthfulqa_mc2", "gsm8k"]
# Shots per task, passed to lm-eval explicitly so a task runs the same offline (valind's YAMLs) and from the
# hub (lm-eval's own tasks, whose defaults differ: its MMLU is 0-shot). Override with options.num_fewshot.
DEFAULT_SHOTS = {"mmlu": 5, "truthfulqa_mc1": 0, "truthfulqa_mc2": 0, "gsm8k": 5, "arc_easy": 0, "arc_challenge": 0}
TEMPLATES = ("mmlu_template.yaml", "truthfulqa_mc1.yaml", "truthfulqa_mc2.yaml", "gsm8k.yaml", "utils.py")


def _template_dir() -> Path:
    return Path(str(resources.files("valind").joinpath("evaluate", "lm_eval_tasks")))


def _sources(data_dir: str | None = None) -> dict[str, Path | None]:
    return {"mmlu": find_shared("mmlu", data_dir), "truthfulqa": find_shared("truthfulqa/TruthfulQA.csv", data_dir),
            "gsm8k": find_shared("gsm8k/test.jsonl", data_dir)}


def _split_answers(text: str) -> list[str]:
    return [a.strip() for a in (text or "").split(";") if a.strip()]


def truthfulqa_mc_rows(csv_path: Path) -> list[dict]:
    """TruthfulQA's generation CSV -> rows with mc1_targets and mc2_targets (correct answers first)."""
    rows = []
    for r in read_table(csv_path):
        best, incorrect = r["Best Answer"].strip(), _split_answers(r["Incorrect Answers"])
        correct = [best] + [a for a in _split_answers(r["Correct Answers"]) if a != best]
        rows.append({"question": r["Question"].strip(), "category": r.get("Category", ""),
                     "mc1_targets": {"choices": [best] + incorrect, "labels": [1] + [0] * len(incorrect)},
                     "mc2_targets": {"choices": correct + incorrect,
                                     "labels": [1] * len(correct) + [0] * len(incorrect)}})
    return rows


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def _mmlu_subjects(mmlu_dir: Path) -> list[str]:
    return sorted(p.name[: -len("_test.csv")] for p in (mmlu_dir / "test").glob("*_test.csv"))


def _build(target: Path, src: dict[str, Path | None], final: Path) -> None:
    """Convert the data and write filled-in task YAMLs into `target`, a fresh folder that will be
    renamed to `final` (the YAMLs already point at `final`)."""
    tdir = _template_dir()
    data, final_data = target / "data", final / "data"
    fill = {"@DATA_DIR@": str(final_data), "@GSM8K_FILE@": str(src["gsm8k"] or "")}
    for name in TEMPLATES:
        text = (tdir / name).read_text(encoding="utf-8")
        if name.startswith("truthfulqa") and not src["truthfulqa"] or name == "gsm8k.yaml" and not src["gsm8k"]:
            continue
        for key, value in fill.items():
            text = text.replace(key, value)
        (target / name).write_text(text, encoding="utf-8")
    if src["truthfulqa"]:
        _write_jsonl(data / "truthfulqa" / "truthfulqa_mc.jsonl", truthfulqa_mc_rows(src["truthfulqa"]))
    if src["mmlu"]:
        subjects = _mmlu_subjects(src["mmlu"])
        for subject in subjects:
            for split in ("dev", "test"):
                rows = [{"question": r["question"], "subject": subject,
                         "choices": [r[f"choice{k}"] for k in range(4)], "answer": int(r["answer"])}
                        for r in read_table(src["mmlu"] / split / f"{subject}_{split}.csv")]
                _write_jsonl(data / "mmlu" / f"{subject}_{split}.jsonl", rows)
            pretty = subject.replace("_", " ")
            (target / f"valind_mmlu_{subject}.yaml").write_text(
                f"include: mmlu_template.yaml\ntask: valind_mmlu_{subject}\ntask_alias: {subject}\ntag: valind_mmlu_tasks\n"
                f"description: \"The following are multiple choice questions (with answers) about {pretty}.\\n\\n\"\n"
                f"dataset_kwargs:\n  data_files:\n    test: \"{final_data}/mmlu/{subject}_test.jsonl\"\n"
                f"    dev: \"{final_data}/mmlu/{subject}_dev.jsonl\"\n", encoding="utf-8")
        (target / "valind_mmlu.yaml").write_text(
            "group: valind_mmlu\ntask:\n  - valind_mmlu_tasks\naggregate_metric_list:\n  - metric: acc\n"
            "    weight_by_size: true\nmetadata:\n  version: 2\n", encoding="utf-8")


def prepare_tasks(cache_root: str | Path | None = None, data_dir: str | None = None) -> Path:
    """The folder of ready task YAMLs (and converted data) for `TaskManager(include_path=...)`.

    Built once per (templates, source files) in `<cache>/lm_eval_tasks/<key>/` (cache: $VALIND_CACHE,
    default ~/.cache/valind) and reused; a half-built folder is never used."""
    from ...models import cache_dir

    src = _sources(data_dir)
    if not any(src.values()):
        raise ConfigError(f"suite qa: no QA data found under {data_dir or '../shared/data'} (mmlu/, truthfulqa/, gsm8k/); set "
                          "VALIND_SHARED_DATA, or use `options: {hub: true}` to run lm-eval's own tasks from the hub")
    tdir = _template_dir()
    stamp = [(n, (tdir / n).read_text(encoding="utf-8")) for n in TEMPLATES]
    for name, p in sorted(src.items()):
        if p is not None:
            files = sorted(p.rglob("*")) if p.is_dir() else [p]
            stamp.append((name, [(str(f), f.stat().st_size, int(f.stat().st_mtime)) for f in files if f.is_file()]))
    key = hash_text(json.dumps(stamp, sort_keys=True))[:16]
    root = Path(cache_root) if cache_root else cache_dir() / "lm_eval_tasks"
    target = root / key
    if (target / "READY").exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=root))
    try:
        _build(tmp, src, target)
        (tmp / "READY").write_text("ok\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def canonical_task(lm_task: str) -> str:
    """lm-eval task name -> valind's task name (mmlu subjects -> mmlu)."""
    name = lm_task[len("valind_"):] if lm_task.startswith("valind_") else lm_task
    return "mmlu" if name.startswith("mmlu") else name


def sample_rows(samples: dict[str, list[dict]]) -> list[dict]:
    """lm-eval's logged samples -> metric rows (one per document, metric and filter)."""
    rows = []
    for task, docs in sorted(samples.items()):
        canon = canonical_task(task)
        for s in docs:
            suffix = "" if s.get("filter", "none") == "none" else f"[{s['filter']}]"
            details = {"task": task, "target": str(s.get("target"))[:200],
                       "response": str(s.get("filtered_resps"))[:300]}
            for metric in s.get("metrics", []):
                rows.append({"item_id": f"{task}/{s['doc_id']}", "metric": f"{canon}:{metric}{suffix}",
                             "value": float(s[metric]), "details": details})
    return rows


@suites.register("qa")
class QASuite(Suite):
    """MMLU, TruthfulQA MC1/MC2, GSM8K (and ARC on the hub) via lm_eval.simple_evaluate, per item."""

    needs_generation = False

    @classmethod
    def metric_family(cls, metric: str) -> str | None:
        """`<task>:<metric>[<filter>]` with an lm-eval metric (acc, exact_match, mc2, ...) is a QA metric."""
        return "qa" if re.sub(r"\[.*\]$", "", metric.split(":")[-1]) in QA_METRICS else None

    def score(self, rows: Sequence[dict]) -> list[dict]:
        raise NotImplementedError("qa is a direct suite; it runs through run_direct")

    @property
    def options(self) -> dict:
        return self.spec.options or {}

    def lm_tasks(self) -> dict[str, list[str]]:
        """Canonical task -> lm-eval task names to run (offline: valind's; hub: lm-eval's)."""
        hub = bool(self.options.get("hub"))
        wanted = self.options.get("tasks") or DEFAULT_TASKS + (["arc_easy", "arc_challenge"] if hub else [])
        subjects = self.options.get("mmlu_subjects")
        out = {}
        for t in wanted:
            if t not in TASKS:
                raise ConfigError(f"suite qa: unknown task '{t}'; available: {', '.join(TASKS)}")
            offline, online = TASKS[t]
            if not hub and offline is None:
                self.ctx.info(f"[qa] skipping {t}: its data is not in ../shared/data (set `hub: true` to run it)")
                continue
            name = online if hub else offline
            if t == "mmlu" and subjects:
                name_prefix = "mmlu_" if hub else "valind_mmlu_"
                out[t] = [name_prefix + s for s in subjects]
            else:
                out[t] = [name]
        return out

    def shots(self, task: str) -> int:
        """Few-shot examples for a task: options.num_fewshot (an int, or a {task: shots} dict), else DEFAULT_SHOTS."""
        given = self.options.get("num_fewshot")
        n = given.get(task) if isinstance(given, dict) else given
        return int(DEFAULT_SHOTS[task] if n is None else n)

    def task_manager(self):
        from lm_eval.tasks import TaskManager

        if self.options.get("hub"):
            return TaskManager()
        # Offline, index only valind's tasks: indexing lm-eval's thousands of built-in YAMLs takes ~10 s.
        return TaskManager(include_path=str(prepare_tasks(data_dir=self.options.get("data_dir"))), include_defaults=False)

    def model_args(self, model_name: str, adapter: str | None) -> dict:
        from ...models import resolve_model_path

        spec = next((m for m in self.ctx.config.models if m.name == model_name), None)
        dtype = spec.dtype if spec else "auto"
        if dtype == "auto":
            from ...precision import resolve_precision

            dtype = "bfloat16" if resolve_precision("auto") == "bf16" else "float32"
        args = {"pretrained": resolve_model_path(model_name), "dtype": dtype,
                "trust_remote_code": bool(spec and spec.trust_remote_code)}
        if spec and spec.revision:
            args["revision"] = spec.revision
        if adapter:
            args["peft"] = str(adapter)
        return args

    def run_direct(self, model_name: str, adapter: str | None) -> list[dict]:
        import lm_eval
        import torch

        from ...generate.backends.base import release_engines

        release_engines()  # lm-eval loads the model itself: free the engine an earlier suite left loaded
        tasks = self.lm_tasks()
        groups: dict[int, list[str]] = {}
        for canon, names in tasks.items():
            groups.setdefault(self.shots(canon), []).extend(names)
        manager = self.task_manager()
        rows, aggregates = [], {}
        for n, names in groups.items():
            results = lm_eval.simple_evaluate(
                model="hf", model_args=self.model_args(model_name, adapter), tasks=names, num_fewshot=n,
                limit=self.spec.limit, batch_size=self.options.get("batch_size", 8),
                device="cuda" if torch.cuda.is_available() else "cpu", log_samples=True, task_manager=manager,
                apply_chat_template=bool(self.options.get("apply_chat_template", False)),
                gen_kwargs=self.options.get("gen_kwargs"))
            rows += sample_rows(results["samples"])
            aggregates[str(n)] = {k: results.get(k) for k in ("results", "groups", "n-shot", "versions")}
        slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in model_name.split("/")[-1].split(":")[-1])
        tag = "base" if not adapter else hash_text(str(adapter))[:8] + "-" + Path(adapter).name
        atomic_write_json(RunFolder(self.ctx.run_dir).stage("evaluate") / "qa" / f"{slug}__{tag}.json",
                          {"model": model_name, "adapter": adapter, "limit": self.spec.limit, "by_shots": aggregates})
        return rows
