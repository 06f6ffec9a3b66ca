"""Dataset cards for the run's tables: results.parquet (evaluate/) and effects.parquet (report/).

Each table carries its card twice: in the Parquet file's schema metadata (key `valind`: what the table
is, the study, one line per column), so a copied file still explains itself, and as a README.md
beside it, a hub dataset card (huggingface_hub's DatasetCard) whose `configs` point at the file, so
the folder can be pushed as a hub dataset as it is. Both load with
`datasets.load_dataset("parquet", data_files=...)` as they are: plain columns, no conversion.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..artifacts import atomic_path, atomic_write_text

METADATA_KEY = b"valind"

COLUMNS = {
    # results.parquet
    "study": "study name (the config's `name`)",
    "model": "base model label",
    "induced_value": "the adapter's induced value (`value`, or `value@point` for a sweep point); `base` for the "
                     "base model; `control` for the value-agnostic control adapters",
    "seed": "training seed of the adapter (0 for the base model)",
    "suite": "evaluation suite (value_prompts, harmful_requests, xstest, qa, ...)",
    "item_id": "the suite item the measurement is of (same id for every model and adapter: effects are paired)",
    "metric": "what was measured, e.g. `refused`, `expresses:empathy`, `value_score:empathy`, `anthro_any`, "
              "`acc:mmlu_...`; `<metric>@turn<k>`: turn k of a multi-turn conversation (AnthroBench with `turns`)",
    "value": "the measurement: 0/1 for binary measures, a score in [0, 1] otherwise",
    # effects.parquet
    "contrast": "`vs_base` (adapter minus base model) or `vs_control` (value adapter minus control adapter)",
    "reference": "what the adapter is compared with: `base` or the control adapter's label",
    "base_mean": "mean of the measure for the base model on the paired items",
    "reference_mean": "mean of the measure for the reference (base model or control) on the paired items",
    "induced_mean": "mean of the measure for the adapter(s) of this induced value on the paired items",
    "effect": "induced_mean minus the reference's mean (a difference of proportions for binary measures)",
    "ci_low": "lower bound of the 95% interval of the effect",
    "ci_high": "upper bound of the 95% interval of the effect",
    "p_value": "p-value of the paired test (see `test`)",
    "p_adjusted": "Benjamini-Hochberg adjusted p-value within the correction family (`bh_family`)",
    "significant": "the headline rule: adjusted p below 0.05 and the interval excludes 0 (see docs/report.md)",
    "n_items": "paired items in the cell",
    "n_seeds": "adapter seeds in the cell",
    "seed_sd": "standard deviation of the per-seed effects (NaN with one seed)",
    "seeds_agree": "whether every seed's effect has the sign of the pooled effect",
    "test": "the test used: mcnemar, permutation, or the seeds x items test",
    "interval": "how the interval was made: newcombe (0/1 outcomes), t (under 30 items), bootstrap, hoeffding "
                "(no spread, 0-1 scale), the seeds x items test's, or each seed's own (widest); none = NaN",
    "bh_family": "correction family: primary measures per family, `secondary` for details",
    "seed_effects": "the effect of each seed's adapter, in seed order",
    "n_unjudged": "responses of the adapter and its reference in this suite that no judge could judge "
                  "(`judge_unparsed`); their items are left out of the pairing",
    "n_nonnumeric": "result rows of the cell without a numeric value, left out (and warned about)",
}

TABLES = {
    "results": {"pretty_name": "valind results: one row per measurement",
                "about": "Every measurement of a valind run: for each model (the base model and each adapter "
                         "that induces a value), each evaluation suite and item, each measure. Tidy: one row per "
                         "(model, induced value, seed, suite, item, metric)."},
    "effects": {"pretty_name": "valind effects: induced value x measure",
                "about": "The effect of inducing each value on each measure, paired over the same items, with "
                         "a 95% interval, a paired test and Benjamini-Hochberg correction (how they are computed: "
                         "docs/report.md of valind)."},
}


def table_card(kind: str, df: pd.DataFrame, study: str) -> dict:
    """The card as data: what the table is, which study, one description per column."""
    return {"table": kind, "about": TABLES[kind]["about"], "study": study, "rows": int(len(df)),
            "columns": {c: COLUMNS.get(c, "(not documented)") for c in df.columns},
            "load": f'datasets.load_dataset("parquet", data_files="{kind}.parquet")'}


def write_table(path: str | Path, df: pd.DataFrame, kind: str, study: str) -> None:
    """Write `df` to Parquet atomically with its card in the schema metadata, and README.md beside it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    card = table_card(kind, df, study)
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           METADATA_KEY: json.dumps(card, sort_keys=True).encode()})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    atomic_write_text(path.parent / "README.md", dataset_card(card, path.name))


def read_card(path: str | Path) -> dict:
    """The card a valind Parquet table carries in its schema metadata."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    if METADATA_KEY not in meta:
        raise ValueError(f"{path}: no valind card in the Parquet metadata")
    return json.loads(meta[METADATA_KEY])


def dataset_card(card: dict, filename: str) -> str:
    """README.md for the folder holding the table: a hub dataset card with a `configs` entry for the file."""
    from huggingface_hub import DatasetCard, DatasetCardData

    data = DatasetCardData(pretty_name=TABLES[card["table"]]["pretty_name"], tags=["valind", "value-induction"],
                           configs=[{"config_name": "default", "data_files": filename}])
    lines = [f"# {data.pretty_name}", "", f"{card['about']} Study `{card['study']}`, {card['rows']:,} rows.", "",
             "```python", "from datasets import load_dataset", "",
             f'ds = load_dataset("parquet", data_files="{filename}", split="train")', "```", "",
             "| column | meaning |", "|---|---|"]
    lines += [f"| `{c}` | {d} |" for c, d in card["columns"].items()]
    lines += ["", "Made by valind; the licences of the data behind these measurements are in the study config "
                  "(study.yaml) and each adapter's model card."]
    return str(DatasetCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(lines) + "\n"))
