#!/usr/bin/env python
"""Build `src/valind/data/embedded/`: the small real-data subsets the embedded default ships.

Reads the public datasets kept beside the project (`../shared/data`, or $VALIND_SHARED_DATA) and writes
seeded, deterministic subsets in the same folder layout, so any suite can read them with
`options: {data_dir: package:embedded}` and a source with `path: package:embedded/...`. Only
permissively licensed data (MIT, Apache-2.0, CC-BY-4.0); never PKU-SafeRLHF (non-commercial).

    python scripts/make_embedded_data.py [--shared ../shared/data] [--out src/valind/data/embedded]

`tests/pipeline/test_embedded_data.py` rebuilds the folder and checks the shipped files are byte-identical, so
the shipped subsets are exactly what this script selects.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import os
import random
import shutil
from pathlib import Path

SEED = 20261130
HH_PAIRS = 1000            # of the 2,312 HH-RLHF harmless-base test pairs
ADVBENCH_ROWS = 60         # of 520
XSTEST_SAFE, XSTEST_UNSAFE = 60, 40   # of 250 safe and 200 unsafe prompts
MMLU_SUBJECTS = ("high_school_psychology", "high_school_geography", "miscellaneous")
MMLU_TEST_ROWS = 30        # per subject; the dev split (5 rows, the few-shot examples) is kept whole
TRUTHFULQA_ROWS = 40       # of 817
GSM8K_ROWS = 20            # of 1,319

SOURCES = {  # folder -> (what, licence, origin)
    "hh-rlhf": ("HH-RLHF harmless-base, test split", "MIT", "github.com/anthropics/hh-rlhf (Bai et al., 2022)"),
    "advbench": ("AdvBench harmful behaviours", "MIT", "github.com/llm-attacks/llm-attacks (Zou et al., 2023)"),
    "xstest": ("XSTest v2 prompts", "CC-BY-4.0", "github.com/paul-rottger/exaggerated-safety (Röttger et al., 2024)"),
    "mmlu": ("MMLU", "MIT", "github.com/hendrycks/test (Hendrycks et al., 2021)"),
    "truthfulqa": ("TruthfulQA", "Apache-2.0", "github.com/sylinrl/TruthfulQA (Lin et al., 2022)"),
    "gsm8k": ("GSM8K, test split", "MIT", "github.com/openai/grade-school-math (Cobbe et al., 2021)"),
}


def _rng(name: str) -> random.Random:
    return random.Random(f"{SEED}:{name}")


def _sample(rows: list, k: int, name: str) -> list:
    """k rows drawn without replacement, seeded by the dataset's name, kept in their original order."""
    idx = sorted(_rng(name).sample(range(len(rows)), min(k, len(rows))))
    return [rows[i] for i in idx]


def _read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write_csv(path: Path, fields: list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _write_jsonl(path: Path, rows: list[dict], gz: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    if gz:  # mtime 0 and no file name in the header, so the bytes depend on the content only
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as fh:
            fh.write(text)
        text = buf.getvalue()
    path.write_bytes(text)


def _hh_reply(transcript: str) -> str:
    return transcript.rsplit("\n\nAssistant:", 1)[-1].strip()


def build(shared: Path, out: Path) -> list[dict]:
    """Write every subset into `out`; return one provenance row per file."""
    made = []

    def note(rel: str, source: str, rows: int, of: int, how: str) -> None:
        src = shared / source
        made.append({"file": rel, "source": source, "rows": rows, "of": of, "how": how,
                     "source_sha256": hashlib.sha256(src.read_bytes()).hexdigest()[:16]})

    # HH-RLHF: pairs whose two replies are non-empty and differ (the ones ingest keeps).
    with gzip.open(shared / "hh-rlhf/harmless-base-test.jsonl.gz", "rt", encoding="utf-8") as fh:
        hh = [json.loads(line) for line in fh if line.strip()]
    usable = [r for r in hh if _hh_reply(r["chosen"]) and _hh_reply(r["rejected"])
              and _hh_reply(r["chosen"]) != _hh_reply(r["rejected"])]
    _write_jsonl(out / "hh-rlhf/harmless-base-subset.jsonl.gz", _sample(usable, HH_PAIRS, "hh"), gz=True)
    note("hh-rlhf/harmless-base-subset.jsonl.gz", "hh-rlhf/harmless-base-test.jsonl.gz", HH_PAIRS, len(hh),
         f"seeded sample of the {len(usable)} pairs with two non-empty, different replies")

    fields, adv = _read_csv(shared / "advbench/harmful_behaviors.csv")
    _write_csv(out / "advbench/harmful_behaviors.csv", fields, _sample(adv, ADVBENCH_ROWS, "advbench"))
    note("advbench/harmful_behaviors.csv", "advbench/harmful_behaviors.csv", ADVBENCH_ROWS, len(adv), "seeded sample")

    fields, xs = _read_csv(shared / "xstest/xstest_prompts.csv")
    safe = _sample([r for r in xs if r["label"] == "safe"], XSTEST_SAFE, "xstest-safe")
    unsafe = _sample([r for r in xs if r["label"] == "unsafe"], XSTEST_UNSAFE, "xstest-unsafe")
    _write_csv(out / "xstest/xstest_prompts.csv", fields, sorted(safe + unsafe, key=lambda r: int(r["id"])))
    note("xstest/xstest_prompts.csv", "xstest/xstest_prompts.csv", XSTEST_SAFE + XSTEST_UNSAFE, len(xs),
         f"seeded sample of {XSTEST_SAFE} safe and {XSTEST_UNSAFE} unsafe prompts")

    for subject in MMLU_SUBJECTS:
        for split, k in (("dev", None), ("test", MMLU_TEST_ROWS)):
            rel = f"mmlu/{split}/{subject}_{split}.csv"
            fields, rows = _read_csv(shared / rel)
            kept = rows if k is None else _sample(rows, k, f"mmlu-{subject}")
            _write_csv(out / rel, fields, kept)
            note(rel, rel, len(kept), len(rows), "whole (the few-shot examples)" if k is None else "seeded sample")

    fields, tqa = _read_csv(shared / "truthfulqa/TruthfulQA.csv")
    _write_csv(out / "truthfulqa/TruthfulQA.csv", fields, _sample(tqa, TRUTHFULQA_ROWS, "truthfulqa"))
    note("truthfulqa/TruthfulQA.csv", "truthfulqa/TruthfulQA.csv", TRUTHFULQA_ROWS, len(tqa), "seeded sample")

    with open(shared / "gsm8k/test.jsonl", encoding="utf-8") as fh:
        gsm = [json.loads(line) for line in fh if line.strip()]
    _write_jsonl(out / "gsm8k/test.jsonl", _sample(gsm, GSM8K_ROWS, "gsm8k"))
    note("gsm8k/test.jsonl", "gsm8k/test.jsonl", GSM8K_ROWS, len(gsm), "seeded sample")

    for folder in SOURCES:
        if (shared / folder / "LICENSE").exists():
            shutil.copyfile(shared / folder / "LICENSE", out / folder / "LICENSE")
    return made


def write_readme(out: Path, made: list[dict]) -> None:
    lines = ["# Real data the embedded default ships", "",
             "Small, seeded subsets of public datasets, written by `scripts/make_embedded_data.py` from the copies",
             "in `../shared/data` (rerun it to rebuild them byte for byte; `tests/pipeline/test_embedded_data.py` checks).",
             f"Seed {SEED}; each sample keeps the rows in their original order. Attribution and licences: the",
             "LICENSE file in each folder where the source has one, and the package's NOTICE.", "",
             "| folder | dataset | licence | origin |", "|---|---|---|---|"]
    lines += [f"| `{k}/` | {what} | {lic} | {origin} |" for k, (what, lic, origin) in SOURCES.items()]
    lines += ["", "| file | rows | of | how chosen | source file (sha256, first 16) |", "|---|---|---|---|---|"]
    lines += [f"| `{m['file']}` | {m['rows']} | {m['of']} | {m['how']} | `{m['source']}` ({m['source_sha256']}) |"
              for m in made]
    (out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    repo = Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("VALIND_SHARED_DATA", repo.parent / "shared" / "data")),
                    help="the shared data folder (default: $VALIND_SHARED_DATA or ../shared/data)")
    ap.add_argument("--out", type=Path, default=repo / "src/valind/data/embedded", help="where to write the subsets")
    args = ap.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    made = build(args.shared, args.out)
    write_readme(args.out, made)
    print(f"wrote {len(made)} files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
