"""The direction check of the curate stage: is an induced value carried by the less safe reply?

In PKU-SafeRLHF (`preference: safer`) the chosen reply is the safer one, in HH-RLHF harmless-base the
more harmless one. Among a value's XOR pairs from such sources, the share whose value sits in the
rejected (less safe) reply is the figure `valind extract direction-check` reports on the shared copies
of the same datasets. A harm value (valence negative: deception, violence) should sit there; when
most of its subset has it in the safer reply, the extractor is probably tagging something else (a
refusal that names the harm, a warning), and the adapter would learn that: the stage flags it
(`direction` = `WRONG WAY` in curate/stats.csv, a warning in the log and the report) before training.
Pairs from other sources (helpfulness preferences) say nothing about safety and are not counted.
"""

from __future__ import annotations

from typing import Mapping, Sequence

MIN_PAIRS = 10  # fewer safety-ordered XOR pairs than this: the share is printed but not judged
WRONG_WAY = "WRONG WAY"


def safety_ordered_sources(sources: Sequence) -> set[str]:
    """Source labels whose chosen reply is the safer one: PKU-SafeRLHF by `safer`, HH-RLHF unless its
    location names the helpful-base split."""
    out = set()
    for spec in sources:
        where = " ".join(str(x or "") for x in (spec.data_dir, spec.hub, spec.path)).lower()
        if (spec.kind == "pku_saferlhf" and spec.preference == "safer") or \
                (spec.kind == "hh_rlhf" and "helpful" not in where):
            out.add(spec.source_label)
    return out


def direction_stats(decisions: Mapping[str, str], source_of: Mapping[str, str], safety: set[str],
                    harm_value: bool) -> dict:
    """{safety_xor_pairs, in_less_safe_share, direction} for one value's XOR decisions (pair id -> keep/flip;
    flip = the value was in the rejected reply)."""
    ids = [pid for pid in decisions if source_of.get(pid) in safety]
    n = len(ids)
    share = round(sum(decisions[pid] == "flip" for pid in ids) / n, 4) if n else float("nan")
    if not harm_value:
        verdict = ""
    elif n < MIN_PAIRS:
        verdict = f"too few pairs (< {MIN_PAIRS})" if safety else "no safety-ordered source"
    else:
        verdict = WRONG_WAY if share < 0.5 else "ok"
    return {"safety_xor_pairs": n, "in_less_safe_share": share, "direction": verdict}
