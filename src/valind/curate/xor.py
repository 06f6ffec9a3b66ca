"""The study's XOR rule.

Value v's subset holds the pairs where v is expressed in exactly one of the
chosen and rejected responses. Where v is only in the rejected response the
pair is flipped, so the value-expressing response is always `chosen`.
"""

from __future__ import annotations

import hashlib
from typing import Iterable


def xor_decision(value: str, chosen_values: Iterable[str], rejected_values: Iterable[str]) -> str | None:
    """'keep' (v only in chosen), 'flip' (v only in rejected), or None (in both or neither)."""
    in_chosen, in_rejected = value in set(chosen_values), value in set(rejected_values)
    if in_chosen and not in_rejected:
        return "keep"
    if in_rejected and not in_chosen:
        return "flip"
    return None


def order_key(seed: int, value: str, pair_id: str) -> str:
    """A deterministic pseudo-random order that does not depend on input order."""
    return hashlib.sha256(f"{seed}\x00{value}\x00{pair_id}".encode()).hexdigest()


def split_ids(ids: list[str], value: str, *, seed: int, heldout_fraction: float,
              max_size: int | None) -> tuple[list[str], list[str]]:
    """Shuffle ids deterministically, cap at max_size, then cut off a held-out share."""
    ordered = sorted(set(ids), key=lambda i: order_key(seed, value, i))
    if max_size is not None:
        ordered = ordered[:max_size]
    n_held = int(round(len(ordered) * heldout_fraction))
    if heldout_fraction > 0 and len(ordered) >= 2:
        n_held = max(1, n_held)
    return ordered[n_held:], ordered[:n_held]
