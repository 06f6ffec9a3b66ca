"""The value-agnostic control arm: random draws from the curated pool, matched in size to the value subsets.

The pool is every pair in a trained value's training part (before equalization),
minus every pair held out for any value, in the source's own orientation (chosen
is the dataset's chosen: no value decides anything). For each training seed a
control subset of N pairs is drawn from it, stratified by source so the sources
keep the pool's proportions, and ordered so that any prefix keeps them too (a
dose sweep on `curation.max_subset_size` trains on prefixes).

Sizes: with `curation.equalize` every value trains on the same N pairs, and one
control (`control`) of N pairs is drawn per seed. Without it, one control per
distinct training size (`control-n<N>`), each value matched to the control of
its own size; when every value has the same size, that is `control` again.
"""

from __future__ import annotations

from collections import defaultdict

from ..config import CONTROL
from .xor import order_key


def largest_remainder(n: int, weights: dict[str, int]) -> dict[str, int]:
    """Split n into integer quotas proportional to weights (Hamilton's method; ties broken by name)."""
    total = sum(weights.values())
    exact = {k: n * w / total for k, w in weights.items()}
    quotas = {k: int(v) for k, v in exact.items()}
    rest = sorted(weights, key=lambda k: (-(exact[k] - quotas[k]), k))
    for k in rest[: n - sum(quotas.values())]:
        quotas[k] += 1
    return quotas


def stratified_draw(source_of: dict[str, str], n: int, *, seed: int, tag: str = CONTROL) -> list[str]:
    """n pair ids drawn from `source_of` (pair id -> source), stratified by source, deterministic by seed.

    The order interleaves sources by their quota, so every prefix has (to rounding)
    the pool's source proportions.
    """
    by_source: dict[str, list[str]] = defaultdict(list)
    for pid, src in source_of.items():
        by_source[src].append(pid)
    n = min(n, len(source_of))
    quotas = largest_remainder(n, {s: len(ids) for s, ids in by_source.items()})
    ranked = []
    for src, ids in by_source.items():
        q = quotas[src]
        picked = sorted(ids, key=lambda i: order_key(seed, tag, i))[:q]
        ranked += [((k + 0.5) / q, src, pid) for k, pid in enumerate(picked)]
    return [pid for *_, pid in sorted(ranked)]


def control_names(train_sizes: dict[str, int]) -> dict[str, str]:
    """value -> the name of its matched control: `control` for one size, else `control-n<N>`."""
    sizes = set(train_sizes.values())
    if len(sizes) <= 1:
        return {v: CONTROL for v in train_sizes}
    return {v: f"{CONTROL}-n{n}" for v, n in train_sizes.items()}
