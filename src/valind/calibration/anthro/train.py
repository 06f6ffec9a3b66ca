"""Train the anthropomorphism heads shipped in data/heads.npz (deterministic; nothing trains at run time).

    python -m valind.calibration.anthro.train [--data ../shared/data/labelled/outside_labelled_dev.jsonl]
                                              [--out src/valind/instruments/anthro/data/heads.npz]

Fits the `detector` and `learned` variants on every row of the outside-labelled development set
(see evaluation.py and data/README.md for the recipe). Their cross-validated figures are printed by
`valind judge validate --task anthro`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...instruments import instrument_file
from ...instruments.anthro.heads import save_heads
from ...instruments.anthro.variants import VARIANTS
from .evaluation import fit_variant, load_outside_set, outside_blocks, training_meta

SHIPPED = instrument_file("anthro", "heads.npz")


def train(data_path: str | None = None, out: str | Path = SHIPPED) -> dict:
    data = load_outside_set(data_path)
    blocks = outside_blocks(data)
    heads = {}
    for name, variant in VARIANTS.items():
        if variant.blocks:
            heads[name] = fit_variant(name, data, blocks)
            heads[name].meta.update(training_meta(data))
    save_heads(out, heads)
    return heads


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m valind.calibration.anthro.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help="outside_labelled_dev.jsonl (default: found under ../shared/data)")
    p.add_argument("--out", default=str(SHIPPED), help="where to write the heads (default: the shipped file)")
    args = p.parse_args(argv)
    heads = train(args.data, args.out)
    for name, h in heads.items():
        print(f"{name}: {int(h.trained.sum())} heads on {h.meta['rows']} rows -> {args.out}")
    return 0


if __name__ == "__main__":
    from ...errors import ValindError

    try:
        sys.exit(main())
    except ValindError as exc:
        print(f"valind: error: {exc}", file=sys.stderr)
        sys.exit(2)
