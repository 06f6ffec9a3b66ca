"""The value-expression suite drawn from the source data: prompts never trained on, balanced over values.

For each value, candidates are pairs where the extractor found the value in the
chosen or the rejected response (so the prompt is one that invites it), that no
adapter trains on (neither a value subset nor a control draw), and whose prompt
text appears in no training pair. Values take turns, one prompt each, so every
prefix of the file is balanced (a suite `limit` keeps the balance); a prompt is
used once. Each record keeps its provenance: source, pair id, the value it was
drawn for, which response expressed it, and whether the pair is a held-out pair.
"""

from __future__ import annotations

import json

from .xor import order_key


def prompt_key(messages: list[dict]) -> str:
    """Identity of a prompt conversation (roles and stripped text)."""
    return json.dumps([[m.get("role"), str(m.get("content", "")).strip()] for m in messages], ensure_ascii=False)


def candidates(annotations, values: list[str], excluded: set[str], *, seed: int,
               shortlist: int) -> dict[str, list[str]]:
    """value -> up to `shortlist` untrained pair ids whose chosen or rejected response expresses it, seeded order."""
    out: dict[str, list[str]] = {v: [] for v in values}
    for pid, cv, rv in zip(annotations["id"], annotations["chosen_values"], annotations["rejected_values"]):
        if pid in excluded:
            continue
        for v in set(cv) | set(rv):
            if v in out:
                out[v].append(pid)
    return {v: sorted(ids, key=lambda i: order_key(seed, f"suite:{v}", i))[:shortlist] for v, ids in out.items()}


def select(cands: dict[str, list[str]], rows: dict[str, dict], expressed: dict[str, tuple[set, set]],
           trained_prompts: set[str], heldout: set[str], per_value: int) -> list[dict]:
    """Round-robin over values: each takes its next candidate whose prompt is new and untrained."""
    used = set(trained_prompts)
    queues = {v: list(ids) for v, ids in cands.items()}
    taken = {v: 0 for v in cands}
    records = []
    while True:
        progressed = False
        for v, queue in queues.items():
            if taken[v] >= per_value:
                continue
            while queue:
                pid = queue.pop(0)
                key = prompt_key(rows[pid]["prompt"])
                if key in used:
                    continue
                used.add(key)
                in_c, in_r = v in expressed[pid][0], v in expressed[pid][1]
                records.append({"id": pid, "messages": rows[pid]["prompt"], "value": v,
                                "source": rows[pid]["source"], "pair_id": pid,
                                "expressed_in": "both" if in_c and in_r else "chosen" if in_c else "rejected",
                                "split": "heldout" if pid in heldout else "unused"})
                taken[v] += 1
                progressed = True
                break
        if not progressed:
            return records
