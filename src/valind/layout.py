"""The run folder's contract: the stages in order, and where each one writes what the next one reads.

Stages talk only through the run folder. Each stage writes `RUN_DIR/<stage>/` and finishes with
`manifest.json` (see artifacts.py); the stage after it reads the files named here, never re-plans
its work. The hand-offs:

    ingest/pairs.parquet ............ extract, curate
    extract/annotations.parquet ..... curate
    curate/stats.csv, subsets/, controls.json, value_suite.jsonl ... train (its jobs), evaluate (value suite)
    train/adapters.json ............. generate: every finished adapter (model, value, seed, folder, weights hash)
    generate/variants.json .......... evaluate: every generated variant (base model and adapters)
    evaluate/results.parquet ........ report
    validation/{extractor,judges}.json  report (the instruments measured on labelled data)

The bottom layer: imports nothing of valind but its errors.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import StageError

STAGES = ("ingest", "extract", "curate", "train", "generate", "evaluate", "validation", "report")
MANIFEST = "manifest.json"
STUDY = "study.yaml"
LOCK = ".valind.lock"


@dataclass(frozen=True)
class RunFolder:
    """Every path of one run folder (nothing is created here; writers make their own parents)."""

    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))

    def stage(self, name: str) -> Path:
        return self.root / name

    def manifest(self, stage: str) -> Path:
        return self.root / stage / MANIFEST

    @property
    def study(self) -> Path:
        return self.root / STUDY

    # ---- ingest, extract
    @property
    def pairs(self) -> Path:
        return self.root / "ingest" / "pairs.parquet"

    @property
    def annotations(self) -> Path:
        return self.root / "extract" / "annotations.parquet"

    @property
    def prevalence(self) -> Path:
        return self.root / "extract" / "prevalence.csv"

    # ---- curate
    @property
    def curate_stats(self) -> Path:
        return self.root / "curate" / "stats.csv"

    @property
    def controls(self) -> Path:
        return self.root / "curate" / "controls.json"

    @property
    def value_suite(self) -> Path:
        return self.root / "curate" / "value_suite.jsonl"

    @property
    def cooccurrence(self) -> Path:
        return self.root / "curate" / "cooccurrence.csv"

    @property
    def data_coinduction(self) -> Path:
        return self.root / "curate" / "data_coinduction.csv"

    def subset(self, value: str, part: str = "train") -> Path:
        """A value's XOR subset part (`train` or `heldout`)."""
        return self.root / "curate" / "subsets" / value / f"{part}.jsonl"

    def control_subset(self, name: str, seed: int) -> Path:
        return self.root / "curate" / "subsets" / name / f"seed{seed}" / "train.jsonl"

    def dose_subset(self, subset: str, n: int) -> Path:
        """A subset capped at n pairs for a dose sweep point (`subset`: a value, or `control/seed<k>`)."""
        return self.root / "sweep" / "subsets" / subset / f"n{n}" / "train.jsonl"

    # ---- train
    @property
    def train(self) -> Path:
        return self.root / "train"

    def job_dir(self, model_slug: str, value: str, seed: int, point: str = "") -> Path:
        """One adapter's folder: train/<model>/<value>[/<sweep point>]/seed<k>."""
        d = self.train / model_slug / value
        return (d / point if point else d) / f"seed{seed}"

    @property
    def ref_cache(self) -> Path:
        """DPO reference log-probabilities shared by the jobs of a run."""
        return self.train / ".ref_logps"

    @property
    def adapters(self) -> Path:
        """The train stage's hand-off: every finished adapter, read by generate."""
        return self.train / "adapters.json"

    @property
    def failed_jobs(self) -> Path:
        return self.train / "failed_jobs.json"

    # ---- generate
    @property
    def generate(self) -> Path:
        return self.root / "generate"

    def generations(self, rel_dir: str, suite: str) -> Path:
        """One (variant, suite) unit: generate/<model>/<value|base>/seed<k>/<suite>.jsonl."""
        return self.generate / rel_dir / f"{suite}.jsonl"

    @property
    def variants(self) -> Path:
        """The generate stage's hand-off: the variants it generated for, read by evaluate."""
        return self.generate / "variants.json"

    # ---- evaluate, validation, report
    @property
    def results(self) -> Path:
        return self.root / "evaluate" / "results.parquet"

    @property
    def items(self) -> Path:
        return self.root / "evaluate" / "items.parquet"

    @property
    def validation(self) -> Path:
        return self.root / "validation"

    @property
    def report(self) -> Path:
        return self.root / "report"

    @property
    def slurm(self) -> Path:
        return self.root / "slurm"


# ---------------------------------------------------------------- the records stages hand each other
@dataclass
class Adapter:
    """One finished adapter, as the train stage lists it in train/adapters.json."""

    job_id: str
    model: str  # the model's name (hub id or path), as in the study config
    model_slug: str
    value: str  # the induced value, or a control (`control`, `control-n<N>`)
    point: str  # the sweep point's tag; empty without a sweep
    seed: int
    dir: str  # the job folder, relative to the run folder
    weights_hash: str  # hash of the adapter's weights (its job hash for adapters recorded without one)


@dataclass
class Variant:
    """The base model (adapter None) or one trained adapter: what generate generates for, evaluate judges."""

    model_slug: str
    model_name: str
    induced_value: str  # "base" for the base model; "value@point" for a sweep point
    seed: int
    adapter: str | None
    adapter_hash: str

    @property
    def rel_dir(self) -> str:
        return f"{self.model_slug}/{self.induced_value}/seed{self.seed}"


def read_adapters(folder: RunFolder) -> list[Adapter]:
    """The train stage's list of finished adapters (a StageError when the train stage has not run)."""
    return [Adapter(**a) for a in _read_list(folder.adapters, "train")]


def adapters_json(adapters: list[Adapter]) -> list[dict]:
    return [asdict(a) for a in adapters]


def read_variants(folder: RunFolder) -> list[Variant]:
    """The generate stage's variants, adapter folders resolved inside this run folder."""
    out = []
    for v in _read_list(folder.variants, "generate"):
        if v.get("adapter"):
            v["adapter"] = str(folder.root / v["adapter"])
        out.append(Variant(**v))
    return out


def variants_json(folder: RunFolder, variants: list[Variant]) -> list[dict]:
    """Variants as written to generate/variants.json: adapter folders relative to the run folder."""
    out = []
    for v in variants:
        d = asdict(v)
        if v.adapter:
            d["adapter"] = Path(v.adapter).relative_to(folder.root).as_posix()
        out.append(d)
    return out


def _read_list(path: Path, stage: str) -> list[dict]:
    if not path.exists():
        raise StageError(f"{path}: missing; run `valind {stage}` first")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StageError(f"{path}: unreadable ({exc}); rerun `valind {stage} --force`") from None
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise StageError(f"{path}: expected a JSON list of objects; rerun `valind {stage} --force`")
    return data
