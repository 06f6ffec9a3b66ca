"""The labelled sets value extractors are measured (and the learned one trained) on, in one shape.

  moralchoice  ../shared/data/labelled/moralchoice_dev.csv: first-person actions in a context, labelled
               by MoralChoice's authors. deception = `deceive`, violence = `death` or `pain` or `disable`,
               legality = not `break_law`; "No Agreement" (its annotators split) is unknown, and so are
               the other values. Group: the scenario.
  outside      ../shared/data/labelled/outside_labelled_dev.jsonl and outside_labelled_dev_2.jsonl (where
               present): 200 + 300 assistant responses, two outside annotators per value. A value is known
               where both agree; where they differ it is unknown (left out of training and of the figures).
               Group: the prompt.
  gold         the in-house development set (written in-house: development data, not evaluation).
               Group: records sharing a prompt or a response.

Labels are a float matrix (rows x values): 1, 0, or NaN for unknown.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ...errors import ConfigError, InputError

DATASETS = ("moralchoice", "outside", "gold")
DEFAULT_GOLD = "package:instruments/values/data/values_dev.jsonl"  # valind's in-house set (development only)
SHARED_FILES = {"moralchoice": "labelled/moralchoice_dev.csv", "outside": "labelled/outside_labelled_dev.jsonl"}
# further files of a set, read with it when present (same schema and rules; their ids are kept apart)
MORE_FILES = {"outside": ("labelled/outside_labelled_dev_2.jsonl",)}
MORALCHOICE_VALUES = ("deception", "violence", "legality")


@dataclass
class LabelledSet:
    name: str
    path: str
    ids: list[str]
    groups: list[str]
    prompts: list[str | None]
    responses: list[str]
    labels: np.ndarray  # (n, len(value_names)): 1.0, 0.0 or NaN (unknown)
    value_names: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, rows: Sequence[int]) -> "LabelledSet":
        rows = list(rows)
        return LabelledSet(self.name, self.path, [self.ids[i] for i in rows], [self.groups[i] for i in rows],
                           [self.prompts[i] for i in rows], [self.responses[i] for i in rows],
                           self.labels[rows], self.value_names)


def concat(sets: Sequence[LabelledSet], name: str = "pooled") -> LabelledSet:
    """One set holding the rows of several (groups are prefixed by the set's name, so they stay apart)."""
    names = sets[0].value_names
    return LabelledSet(name, "+".join(s.path for s in sets),
                       [f"{s.name}:{i}" for s in sets for i in s.ids],
                       [f"{s.name}:{g}" for s in sets for g in s.groups],
                       [p for s in sets for p in s.prompts], [r for s in sets for r in s.responses],
                       np.vstack([s.labels for s in sets]), list(names))


def _build(name: str, path: Path, rows: list[tuple], names: list[str]) -> LabelledSet:
    """A LabelledSet from (id, group, prompt, response, labels) rows; an empty file is an error."""
    if not rows:
        raise InputError(str(path), None, None, "no rows")
    ids, groups, prompts, responses, labels = (list(col) for col in zip(*rows))
    return LabelledSet(name, str(path), ids, groups, prompts, responses, np.array(labels), names)


def _yes_no(path: Path, row: int, field: str, value: str | None) -> float:
    """Yes 1.0, No 0.0, "No Agreement" (the dataset's annotators split) NaN."""
    if value == "Yes":
        return 1.0
    if value == "No":
        return 0.0
    if value == "No Agreement":
        return float("nan")
    raise InputError(str(path), row, field, f"expected Yes, No or No Agreement, got {value!r}")


def _any(*xs: float) -> float:
    """1 if any is 1; unknown if none is 1 but one is unknown; else 0."""
    if any(x == 1.0 for x in xs):
        return 1.0
    return float("nan") if any(np.isnan(x) for x in xs) else 0.0


def load_moralchoice(path: str | Path, value_names: Sequence[str]) -> LabelledSet:
    """MoralChoice's scenarios, two actions each, as (context, action) rows."""
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), None, None, "MoralChoice file not found")
    names = list(value_names)
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row, rec in enumerate(csv.DictReader(fh), start=2):  # row 1 is the header
            for field in ("scenario_id", "context", "action1", "action2"):
                if not (rec.get(field) or "").strip():
                    raise InputError(str(path), row, field, "missing or empty")
            for a in ("1", "2"):
                yes = {k: _yes_no(path, row, f"a{a}_{k}", rec.get(f"a{a}_{k}"))
                       for k in ("deceive", "death", "pain", "disable", "break_law")}
                y = np.full(len(names), np.nan)
                known = {"deception": yes["deceive"], "violence": _any(yes["death"], yes["pain"], yes["disable"]),
                         "legality": 1.0 - yes["break_law"]}
                for v, label in known.items():
                    if v in names:
                        y[names.index(v)] = label
                rows.append((f"{rec['scenario_id']}:a{a}", rec["scenario_id"], rec["context"], rec[f"action{a}"], y))
    return _build("moralchoice", path, rows, names)


def load_outside(path: str | Path, value_names: Sequence[str]) -> LabelledSet:
    """The outside-labelled responses; a value's label is known where both annotators agree."""
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), None, None, "outside-labelled file not found")
    from ...artifacts import iter_jsonl_records

    names = list(value_names)
    rows = []
    for row, rec in iter_jsonl_records(path):
        for field in ("id", "prompt", "response"):
            if not isinstance(rec.get(field), str):
                raise InputError(str(path), row, field, "missing or not a string")
        for field in ("values_a", "values_b"):
            if not isinstance(rec.get(field), dict):
                raise InputError(str(path), row, field, "missing or not a mapping value -> 0/1")
        y = np.full(len(names), np.nan)
        for j, v in enumerate(names):
            a, b = rec["values_a"].get(v), rec["values_b"].get(v)
            for field, x in (("values_a", a), ("values_b", b)):
                if x not in (0, 1):
                    raise InputError(str(path), row, f"{field}.{v}", f"expected 0 or 1, got {x!r}")
            if a == b:
                y[j] = float(a)
        rows.append((rec["id"], rec["prompt"], rec["prompt"], rec["response"], y))
    return _build("outside", path, rows, names)


# ------------------------------------------------------------------ valind's in-house gold (development data)
def load_gold(path: str | Path, known_values: Sequence[str]) -> list[dict]:
    """Read and check a gold JSONL; a bad row raises InputError naming file, row and field."""
    from ...artifacts import data_path, iter_jsonl_records
    from ...ingest.schema import prompt_text

    path = data_path(str(path))
    if not path.exists():
        raise InputError(str(path), None, None, "gold file not found")
    known = set(known_values)
    records = []
    for row, rec in iter_jsonl_records(path):
        if not isinstance(rec.get("response"), str):
            raise InputError(str(path), row, "response", "missing or not a string")
        labels = rec.get("values")
        if not isinstance(labels, list) or not all(isinstance(v, str) for v in labels):
            raise InputError(str(path), row, "values", "missing or not a list of value names")
        unknown = sorted(set(labels) - known)
        if unknown:
            raise InputError(str(path), row, "values", f"unknown value(s) {unknown}")
        prompt = rec.get("prompt")
        if isinstance(prompt, list):
            prompt = prompt_text(prompt)
        elif prompt is not None and not isinstance(prompt, str):
            raise InputError(str(path), row, "prompt", "expected text or a list of chat messages")
        records.append({"id": str(rec.get("id", row)), "prompt": prompt, "response": rec["response"],
                        "values": labels, "kind": rec.get("kind")})
    if not records:
        raise InputError(str(path), None, None, "no gold records")
    return records


def gold_groups(records: list[dict]) -> list[str]:
    """A group per record: records sharing a prompt or a response are one group (its first record's id),
    so a split never puts a response, or its prompt, on both sides."""
    parent = list(range(len(records)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for i, rec in enumerate(records):
        for key in [f"r:{rec['response']}"] + ([f"p:{rec['prompt']}"] if rec.get("prompt") else []):
            if key in first:
                parent[root(i)] = root(first[key])
            first.setdefault(key, i)
    return [str(records[root(i)]["id"]) for i in range(len(records))]


def load_gold_set(path: str | Path, value_names: Sequence[str]) -> LabelledSet:
    """The in-house development set; rows sharing a prompt or a response form one group."""
    from ...artifacts import data_path

    names = list(value_names)
    path = data_path(str(path))
    records = load_gold(path, names)
    labels = np.array([[float(v in rec["values"]) for v in names] for rec in records])
    return LabelledSet("gold", str(path), [r["id"] for r in records], gold_groups(records),
                       [r["prompt"] for r in records], [r["response"] for r in records], labels, names)


def load_dataset(name: str, value_names: Sequence[str], path: str | None = None) -> LabelledSet:
    """A labelled set by name; the shared ones are found under ../shared/data (or $VALIND_SHARED_DATA)."""
    from ...evaluate.suites._data import find_shared, shared_data_roots

    if name not in DATASETS:
        raise ConfigError(f"unknown labelled set {name!r}; choose one of {', '.join(DATASETS)}")
    if name == "gold":
        return load_gold_set(path or DEFAULT_GOLD, value_names)
    given = path is not None
    if path is None:
        found = find_shared(SHARED_FILES[name])
        if found is None:
            tried = ", ".join(str(r / SHARED_FILES[name]) for r in shared_data_roots())
            raise ConfigError(f"labelled set {name}: not found (tried {tried}); set VALIND_SHARED_DATA or give --path")
        path = str(found)
    loader = load_moralchoice if name == "moralchoice" else load_outside
    ds = loader(path, value_names)
    if given:
        return ds
    more = [loader(found, value_names) for f in MORE_FILES.get(name, ()) if (found := find_shared(f)) is not None]
    if not more:
        return ds
    parts = [ds, *more]
    return LabelledSet(name, "+".join(s.path for s in parts),
                       [i if k == 0 else f"{Path(s.path).stem}:{i}" for k, s in enumerate(parts) for i in s.ids],
                       [g for s in parts for g in s.groups], [p for s in parts for p in s.prompts],
                       [r for s in parts for r in s.responses], np.vstack([s.labels for s in parts]), list(value_names))
