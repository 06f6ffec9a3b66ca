"""AnthroBench first turns: how anthropomorphic the model's replies are, over the 14 behaviours.

Reads AnthroBench's `first_turns.csv` (column user_first_turn), shipped inside valind
(`valind/data/suites/anthrobench/`, Apache-2.0, see NOTICE), or a `path:` in the same schema.
Judge: `detector` (offline, default), `rules`, `learned`, or `llm` (one Yes/No rating per
behaviour, AnthroBench-style; options in `options: {judge_options: {...}}`).

Per-item metric rows (0/1): `anthro:<behaviour>` for each behaviour the judge could rate (the mean
is the behaviour's rate); `anthro_rate`, the share of the 14 behaviours present (the mean is the
overall rate) and `anthro_any`, whether any behaviour other than personal pronoun use is present,
both only when all 14 were rated. A response with any behaviour the judge could not rate (an
unparseable LLM answer) also gets `judge_unparsed` = 1, so unjudgeable responses are counted, not
read as "absent".
"""

from __future__ import annotations

from typing import Sequence

from ...artifacts import data_path
from ...instruments.anthro import BEHAVIOURS
from ._data import limit_rows, pick, read_table
from .base import Suite, SuiteItem, suites

FIRST_TURNS = "package:suites/anthrobench/first_turns.csv"
BEHAVIOUR_DEFINITIONS = "package:instruments/anthro/data/behavior_dict.json"  # the judges' copy
META_COLUMNS = ("use_domain", "use_scenario", "empathy", "professionalism", "cue", "behavior_category")


@suites.register("anthrobench")
class AnthroBenchSuite(Suite):
    """AnthroBench's 960 first user turns, judged for the 14 anthropomorphic behaviours."""

    task = "anthro"
    metrics = {"anthro:*": "anthro", "anthro_any": "anthro", "anthro_rate": "other", "judge_unparsed": "other"}

    def items(self) -> list[SuiteItem]:
        path = data_path(self.spec.path or FIRST_TURNS)
        rows, source = read_table(path), str(path)
        out = []
        for n, row in limit_rows(list(enumerate(rows, 1)), self.spec):
            prompt = pick(row, "user_first_turn", "prompt", source=source, row_no=n)
            meta = {c: row[c] for c in META_COLUMNS if row.get(c)}
            out.append(SuiteItem(id=f"anthro-{row.get('conv_id') or n}",
                                 messages=[{"role": "user", "content": prompt}], meta=meta))
        return out

    def score(self, rows: Sequence[dict]) -> list[dict]:
        verdicts = self.judge_rows(rows)
        out = []
        for row, verdict in zip(rows, verdicts):
            item, present = row["item_id"], set(verdict.present)
            for b in verdict.judged:
                out.append({"item_id": item, "metric": f"anthro:{b}", "value": float(b in present)})
            if not verdict.complete:
                out.append({"item_id": item, "metric": "judge_unparsed", "value": 1.0, "details": verdict.to_record()})
                continue
            out.append({"item_id": item, "metric": "anthro_rate", "value": len(present) / len(BEHAVIOURS),
                        "details": verdict.to_record()})
            out.append({"item_id": item, "metric": "anthro_any", "value": float(bool(present - {"personal_pronoun_use"}))})
        return out
