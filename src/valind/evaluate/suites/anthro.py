"""AnthroBench: how anthropomorphic the model's replies are, over the 14 behaviours (first turns, or conversations).

Reads AnthroBench's `first_turns.csv` (column user_first_turn), shipped inside valind
(`valind/data/suites/anthrobench/`, Apache-2.0, see NOTICE), or a `path:` in the same schema.
Judge: `detector` (offline, default), `rules`, `learned`, or `llm` (one Yes/No rating per
behaviour, AnthroBench-style; pronoun use counted by a pattern, as in `rules` and `detector`; options in
`options: {judge_options: {...}}`).

Per-item metric rows (0/1): `anthro:<behaviour>` for each behaviour the judge could rate (the mean
is the behaviour's rate); `anthro_rate`, the share of the 14 behaviours present (the mean is the
overall rate) and `anthro_any`, whether any behaviour other than personal pronoun use is present,
both only when all 14 were rated. A response with any behaviour the judge could not rate (an
unparseable LLM answer) also gets `judge_unparsed` = 1, so unjudgeable responses are counted, not
read as "absent".

Multi-turn (suite options `turns: N` > 1 and `user: {model: ...}`; generate/conversations.py): a simulated
user continues each conversation from its first turn, and every assistant turn is judged (the judge sees
the user message the turn answers). Per turn, the rows above with the turn index in the metric name
(`anthro_any@turn2`, `anthro:emotions@turn3`; item = the conversation); pooled over the conversation, the
rows above under their plain names, each the mean over the conversation's judged turns (so the item is
still the conversation and the base model and every adapter are paired on the same conversations).
"""

from __future__ import annotations

from typing import Sequence

from ...artifacts import data_path
from ...instruments.anthro import BEHAVIOURS
from ._data import limit_rows, pick, read_table
from .base import Suite, SuiteItem, suites

FIRST_TURNS = "package:suites/anthrobench/first_turns.csv"
BEHAVIOUR_DEFINITIONS = "package:instruments/anthro/data/behavior_dict.json"  # the judges' copy
META_COLUMNS = ("use_domain", "use_scenario", "empathy", "professionalism", "cue", "original_prompt",
                "behavior_category")  # the scenario fields; the user simulator of multi-turn runs reads them
TURN = "@turn"  # per-turn metric names: <metric>@turn<k>


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
        if not any("turn" in r for r in rows):  # first turns only
            return [m for row, verdict in zip(rows, verdicts) for m in verdict_rows(row["item_id"], verdict)]
        out, by_conv = [], {}
        for row, verdict in zip(rows, verdicts):
            turn_rows = verdict_rows(row["item_id"], verdict, f"{TURN}{row['turn']}")
            for m in turn_rows:
                if "details" in m:
                    m["details"] = {f"turn{row['turn']}": m["details"]}
            out += turn_rows
            by_conv.setdefault(row["item_id"], []).append(verdict)
        for item, conv in by_conv.items():  # pooled: the mean over the conversation's judged turns
            for b in BEHAVIOURS:
                judged = [float(b in v.present) for v in conv if b in v.judged]
                if judged:
                    out.append({"item_id": item, "metric": f"anthro:{b}", "value": sum(judged) / len(judged)})
            complete = [v for v in conv if v.complete]
            if complete:
                out.append({"item_id": item, "metric": "anthro_rate",
                            "value": sum(len(v.present) for v in complete) / len(BEHAVIOURS) / len(complete)})
                out.append({"item_id": item, "metric": "anthro_any",
                            "value": sum(_any(v) for v in complete) / len(complete)})
        return out


def _any(verdict) -> float:
    return float(bool(set(verdict.present) - {"personal_pronoun_use"}))


def verdict_rows(item: str, verdict, suffix: str = "") -> list[dict]:
    """The metric rows of one judged response (`suffix`: the turn of a multi-turn conversation)."""
    present = set(verdict.present)
    out = [{"item_id": item, "metric": f"anthro:{b}{suffix}", "value": float(b in present)} for b in verdict.judged]
    if not verdict.complete:
        return out + [{"item_id": item, "metric": "judge_unparsed", "value": 1.0, "details": verdict.to_record()}]
    return out + [{"item_id": item, "metric": f"anthro_rate{suffix}", "value": len(present) / len(BEHAVIOURS),
                   "details": verdict.to_record()},
                  {"item_id": item, "metric": f"anthro_any{suffix}", "value": _any(verdict)}]
