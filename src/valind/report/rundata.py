"""Read what a run directory holds, tolerating every artifact's absence except the results table."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from ..artifacts import read_manifest
from ..errors import StageError
from ..layout import STAGES, RunFolder

log = logging.getLogger("valind")

STAGE_NAMES = STAGES[:STAGES.index("evaluate") + 1]  # the stages whose manifests the report shows


@dataclass
class RunData:
    run_dir: Path
    results: pd.DataFrame
    study_text: str = ""
    study: dict = field(default_factory=dict)
    manifests: dict[str, dict] = field(default_factory=dict)
    curate_stats: pd.DataFrame | None = None
    cooccurrence: pd.DataFrame | None = None
    prevalence: pd.DataFrame | None = None
    training: dict[tuple[str, str, str], list[dict]] = field(default_factory=dict)  # (model, value, seed) -> history
    rewards: pd.DataFrame | None = None  # implicit-reward check: model, adapter, seed, heldout, accuracy, margin, pairs
    reward_pairs: pd.DataFrame | None = None  # the same check per pair: model, adapter, seed, heldout, pair_id, won, margin
    controls: dict = field(default_factory=dict)  # curate/controls.json
    data_coinduction: pd.DataFrame | None = None  # training subset x value: chosen-minus-rejected expression
    items: pd.DataFrame | None = None
    validation: dict[str, dict] = field(default_factory=dict)  # file stem -> parsed JSON
    merged: dict = field(default_factory=dict)  # merged.json of a report merged from several runs

    @property
    def synthetic(self) -> bool:
        return bool(self.manifests.get("evaluate", {}).get("synthetic") or self.merged.get("synthetic"))

    @property
    def study_name(self) -> str:
        return str(self.study.get("name") or self.run_dir.name)


def _read_csv(path: Path, **kw) -> pd.DataFrame | None:
    if not path.exists():
        return None
    try:
        return pd.read_csv(path, **kw)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        log.warning(f"{path}: unreadable, left out of the report ({exc})")
        return None


def load_run(run_dir: str | Path) -> RunData:
    """Everything a run folder holds for the report (see RunData); only the results table is required."""
    run_dir = Path(run_dir)
    folder = RunFolder(run_dir)
    data = RunData(run_dir=run_dir, results=read_results(run_dir))

    study_path = folder.study
    if study_path.exists():
        data.study_text = study_path.read_text(encoding="utf-8", errors="replace")
        try:
            loaded = yaml.safe_load(data.study_text)
            data.study = loaded if isinstance(loaded, dict) else {}
        except yaml.YAMLError:
            log.warning(f"{study_path}: not valid YAML; shown as text only")
    for stage in STAGE_NAMES:
        m = read_manifest(run_dir / stage)
        if m:
            data.manifests[stage] = m
    data.curate_stats = _read_csv(folder.curate_stats)
    data.cooccurrence = _read_csv(folder.cooccurrence, index_col=0)
    data.prevalence = _read_csv(folder.prevalence)
    data.training = _load_training(folder.train)
    data.rewards, data.reward_pairs = _load_rewards(folder.train)
    data.data_coinduction = _read_csv(folder.data_coinduction, index_col=0)
    controls_path = folder.controls
    if controls_path.exists():
        try:
            data.controls = json.loads(controls_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            log.warning(f"{controls_path}: unreadable ({exc}); effects are matched to `control`")
    items_path = folder.items
    if items_path.exists():
        data.items = pd.read_parquet(items_path)
    merged = run_dir / "merged.json"
    if merged.exists():
        try:
            data.merged = json.loads(merged.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            log.warning(f"{merged}: unreadable ({exc}); the merged runs are not listed")
    for p in sorted(folder.validation.glob("*.json")):
        try:
            data.validation[p.stem] = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            log.warning(f"{p}: unreadable validation file ({exc})")
    return data


def _load_training(train_dir: Path) -> dict[tuple[str, str, str], list[dict]]:
    """train/<model>/<value>/seed<k>/metrics.json -> its TRL log_history."""
    out = {}
    for path in sorted(train_dir.glob("*/*/seed*/metrics.json")):
        try:
            history = json.loads(path.read_text(encoding="utf-8")).get("log_history", [])
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            log.warning(f"{path}: unreadable training metrics")
            continue
        seed_dir, value_dir, model_dir = path.parent, path.parent.parent, path.parent.parent.parent
        out[(model_dir.name, value_dir.name, seed_dir.name.removeprefix("seed"))] = [
            h for h in history if isinstance(h, dict)]
    return out


def _load_rewards(train_dir: Path) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The implicit-reward check of every adapter (metrics.json `heldout_rewards`): one row per held-out set,
    and one row per held-out pair where the check kept them (`per_pair`; checks before it have none).

    `adapter` is the induced label as in the results table (`value`, or `value@point` for a sweep point).
    """
    rows, pairs = [], []
    for path in sorted(train_dir.glob("**/seed*/metrics.json")):
        try:
            m = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        checked = (m.get("heldout_rewards") or {}).get("values") if isinstance(m, dict) else None
        if not checked:
            continue
        model = path.relative_to(train_dir).parts[0]
        point = path.parent.parent.name if path.parent.parent.name != m.get("value") else ""
        adapter = f"{m.get('value')}@{point}" if point else str(m.get("value"))
        for heldout, r in checked.items():
            rows.append({"model": model, "adapter": adapter, "seed": str(m.get("seed")), "heldout": heldout,
                         "accuracy": r.get("accuracy"), "margin": r.get("margin"), "pairs": r.get("pairs")})
            per = r.get("per_pair") or {}
            for pid, won, margin in zip(per.get("ids", []), per.get("won", []), per.get("margins", [])):
                pairs.append({"model": model, "adapter": adapter, "seed": str(m.get("seed")), "heldout": heldout,
                              "pair_id": str(pid), "won": int(won), "margin": float(margin)})
    return (pd.DataFrame(rows) if rows else None), (pd.DataFrame(pairs) if pairs else None)


def read_results(run_dir: str | Path) -> pd.DataFrame:
    """RUN_DIR/evaluate/results.parquet: one row per (model, adapter, seed, suite, item, metric)."""
    path = RunFolder(Path(run_dir)).results
    if not path.exists():
        raise StageError(f"{path}: missing; run `valind evaluate` (or `valind run`) first")
    return pd.read_parquet(path)


def read_effects(report_dir: str | Path) -> pd.DataFrame:
    """The effects table (report/effects.parquet) of a run folder, or of a merged report's folder."""
    report_dir = Path(report_dir)
    path = report_dir / "effects.parquet"
    if not path.exists():
        path = report_dir / "report" / "effects.parquet"
    if not path.exists():
        raise StageError(f"{report_dir}: no effects.parquet here or in report/; run `valind report` first")
    return pd.read_parquet(path)
