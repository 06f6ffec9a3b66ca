"""Embedding extractor throughput vs raw SentenceTransformer.encode of the same texts (goal: >= 0.8).

Both sides run in the same process on the same responses (HH-RLHF harmless-base
test from ../shared/data when present, else the shipped gold set), with the
same encode batch size; the best of `--rounds` alternating rounds is kept per
side, since timings on a shared machine are noisy. The extractor side is the
whole `score_batch` (sentence splitting, prompt sentences, de-duplication,
similarity pooling, prompt-conditioned rules), called in chunks of
`--chunk` responses as the extract stage does; the raw side is one
`encode(responses)` call. Anchors are encoded once before timing (a one-off per
run). With `--lexicon` the lexicon and ensemble extractors are timed too.

    python bench/bench_extractor.py --pairs 500 --rounds 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, table, write_section  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def load_texts(n_pairs: int) -> tuple[list[str | None], list[str], str]:
    """(prompts, responses, source): chosen and rejected responses of n pairs."""
    hh = SHARED / "hh-rlhf" / "harmless-base-test.jsonl.gz"
    if hh.exists():
        from valind.ingest.hh_rlhf import read_pairs
        from valind.ingest.schema import prompt_text

        prompts, responses = [], []
        for msgs, chosen, rejected in read_pairs(hh):
            p = prompt_text(msgs)
            prompts += [p, p]
            responses += [chosen, rejected]
            if len(responses) >= 2 * n_pairs:
                break
        return prompts, responses, f"HH-RLHF harmless-base test, {len(responses) // 2} pairs"
    from valind.calibration.values.validate import DEFAULT_GOLD, load_gold
    from valind.values import STUDY_VALUES

    gold = load_gold(DEFAULT_GOLD, STUDY_VALUES)
    rows = (gold * (2 * n_pairs // len(gold) + 1))[:2 * n_pairs]
    return [r["prompt"] for r in rows], [r["response"] for r in rows], f"gold set responses (repeated), {len(rows)}"


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process). CPU time is what the work costs when other
    processes compete for the cores (the shared development machine); wall time is what you wait."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=256, help="responses per score_batch call (the stage's batch)")
    ap.add_argument("--encode-batch-size", type=int, default=128)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--lexicon", action="store_true", help="also time the lexicon and ensemble extractors")
    ap.add_argument("--no-write", action="store_true", help="print only; do not update bench/RESULTS.md")
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    from valind.instruments.values.base import make_extractor
    from valind.values import builtin_values

    values = list(builtin_values().values())
    prompts, responses, source = load_texts(args.pairs)
    n = len(responses)
    ex = make_extractor("embedding", values, device=args.device, encode_batch_size=args.encode_batch_size)
    model = ex.model
    ex.anchors  # one-off anchor encoding, outside the timing

    def raw():
        model.encode(responses, batch_size=args.encode_batch_size, convert_to_numpy=True, show_progress_bar=False)

    def run(extractor):
        def go():
            for i in range(0, n, args.chunk):
                extractor.score_batch(prompts[i:i + args.chunk], responses[i:i + args.chunk])
        return go

    # The sequences the extractor itself encodes (distinct sentences of each chunk's responses and
    # prompts): encoding them bare isolates the extractor's own overhead from its extra model work.
    chunks = []
    for i in range(0, n, args.chunk):
        texts = responses[i:i + args.chunk] + prompts[i:i + args.chunk]
        chunks.append(list(dict.fromkeys(s for t in ex._sentence_embeddings_texts(texts, min(args.chunk, n - i))
                                         for s in t)))

    def raw_sentences():
        for c in chunks:
            model.encode(c, batch_size=args.encode_batch_size, convert_to_numpy=True, show_progress_bar=False)

    blind = make_extractor("embedding", values, device=args.device, encode_batch_size=args.encode_batch_size,
                           context=False)
    blind.anchors
    raw()  # warm-up (allocator, kernels)
    sides = {"raw SentenceTransformer.encode(responses)": raw, "embedding extractor score_batch": run(ex),
             "raw encode of the extractor's sentences": raw_sentences,
             "embedding extractor, context=False (prompt not read)": run(blind)}
    if args.lexicon:
        sides["lexicon extractor"] = run(make_extractor("lexicon", values))
        sides["ensemble (embedding + lexicon)"] = run(make_extractor(
            "ensemble", values, member_options={"embedding": {"device": args.device,
                                                              "encode_batch_size": args.encode_batch_size}}))
    # Sides alternate within each round; each round's ratio compares measurements taken close in
    # time, and the median over rounds is reported (the load of a shared machine drifts).
    wall = {name: [] for name in sides}
    cpu = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name, fn in sides.items():
            w, c = timed(fn)
            wall[name].append(w)
            cpu[name].append(c)
    base = "raw SentenceTransformer.encode(responses)"

    def median_ratio(times, name):
        return float(np.median([b / t for b, t in zip(times[base], times[name])]))

    rows = [[name, f"{min(wall[name]):.2f}", f"{n / min(wall[name]):.0f}", f"**{median_ratio(wall, name):.2f}**",
             f"{min(cpu[name]):.2f}", f"**{median_ratio(cpu, name):.2f}**"] for name in sides]
    # Tokens each side feeds the model (raw truncates at max_seq_length), for the record.
    tok = model.tokenizer
    raw_tokens = sum(min(len(ids), model.max_seq_length) for ids in tok(responses)["input_ids"])
    ext_tokens = sum(len(ids) for c in chunks for ids in tok(c)["input_ids"])
    n_sent = sum(len(s) for s in map(__import__("valind.instruments.values.embedding", fromlist=["x"]).split_sentences, responses))
    md = "\n".join([
        "## Embedding extractor vs raw encode (goal: >= 0.8 of raw responses/s)",
        "",
        f"`python bench/bench_extractor.py --pairs {args.pairs} --rounds {args.rounds} --chunk {args.chunk}"
        f"{' --lexicon' if args.lexicon else ''}`",
        "",
        f"Machine: {machine()}; device {args.device}, torch threads {torch.get_num_threads()}",
        "",
        f"Texts: {source}: {n} responses ({n_sent} sentences), encode batch size {args.encode_batch_size}. "
        f"Tokens fed to the model: raw {raw_tokens}, extractor {ext_tokens} (response and prompt sentences; "
        f"more tokens, but short sequences: less attention and padding per token).",
        "",
        table(["side", "best wall (s)", "responses/s (best wall)", "ratio to raw (wall, median of rounds)",
               "best CPU (s)", "ratio to raw (CPU, median of rounds)"], rows),
        "",
        "Sides alternate within each round; ratios are the median over rounds of (raw time / side time) "
        "in the same round, in wall time and in this process's CPU time (steadier when other jobs share "
        "the cores). The extractor encodes every distinct response and prompt "
        "sentence once (a shared prompt, a repeated sentence, cost nothing the second time), pools "
        "similarities with numpy and applies the prompt rules; the raw side encodes each whole response "
        "once (truncated at the model's 256 tokens). The row 'raw encode of the extractor\'s sentences' encodes, bare, exactly the sequences the "
        "extractor encodes: the gap between it and the extractor is the extractor's own overhead; the gap "
        "between it and the first row is the extra model work of reading sentences and prompts.",
    ])
    print(md)
    if not args.no_write:
        print(f"\nwritten to {write_section('bench_extractor', md)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
