"""Extraction at study scale: calls and tokens per pair, and whether the multi-turn context helps.

1. Calls and prompt tokens per pair of the LLM extractor (listing only, the default, and with the
   yes/no probability pass), on HH-RLHF harmless-base test pairs, counted by `LLMExtractor.usage`
   with a backend that answers at once (no model: the prompts are what is counted), tokens by
   SmolLM2's tokenizer; and how many of the yes/no pass's tokens are a prefix another call of the
   same response already sent (what vLLM's prefix caching serves from its KV cache).
2. Context: the 100 HH-RLHF responses of `../shared/data/labelled/outside_labelled_dev.jsonl`
   (labelled outside the project), scored by the offline `ensemble` extractor given the last user
   turn (the old input) or the whole conversation up to the response (matched back to its
   HH-RLHF transcript; 69 of the 100 are multi-turn). Macro average precision over values with a
   positive, against each annotator and against their agreement.

    python bench/bench_extraction_context.py --pairs 200
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, write_section  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


class _Instant:
    """A backend that answers every listing call with one value and every yes/no call with 'yes'."""

    def generate(self, conversations, settings, adapter=None):
        from valind.generate.backends.base import Completion

        if settings.logprobs:
            return [Completion(text="yes", top_logprobs=[{"yes": -0.1, "no": -2.4}]) for _ in conversations]
        return [Completion(text='{"values": ["empathy"]}') for _ in conversations]


def _pairs(n: int | None = None) -> list[tuple[list[dict], str, str]]:
    """(prompt messages, chosen, rejected) of the first n HH-RLHF harmless-base test pairs (all when n is None)."""
    from valind.ingest.hh_rlhf import TranscriptError, split_pair

    out = []
    with gzip.open(SHARED / "hh-rlhf" / "harmless-base-test.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            try:
                out.append(split_pair(row["chosen"], row["rejected"]))
            except TranscriptError:
                continue
            if n is not None and len(out) >= n:
                break
    return out


def calls_and_tokens(n_pairs: int) -> list[dict]:
    from transformers import AutoTokenizer

    from valind.instruments.values.llm import LLMExtractor
    from valind.ingest.schema import conversation_text
    from valind.models import resolve_model_path
    from valind.values import load_values

    tok = AutoTokenizer.from_pretrained(resolve_model_path("embedded:smollm2-135m-instruct"))
    pairs = _pairs(n_pairs)
    prompts = [conversation_text(m) for m, _, _ in pairs for _ in (0, 1)]
    responses = [r for _, c, rj in pairs for r in (c, rj)]
    rows = []
    for scoring in ("listing", "auto"):
        ex = LLMExtractor(list(load_values().values()), scoring=scoring)
        sent: list[list[int]] = []
        instant = _Instant()

        class Recording:
            def generate(self, conversations, settings, adapter=None):
                sent.extend(tok(c[-1]["content"], add_special_tokens=False)["input_ids"] for c in conversations)
                return instant.generate(conversations, settings, adapter)

        ex._backend = Recording()  # no model: only the prompts are counted
        ex.score_batch(prompts, responses)
        calls = ex.usage["listing_calls"] + ex.usage["yes_no_calls"]
        tokens = sum(len(s) for s in sent)
        cached = _prefix_cached(sent)
        rows.append({"scoring": scoring, "pairs": len(pairs), "calls_per_pair": calls / len(pairs),
                     "tokens_per_pair": tokens / len(pairs), "uncached_tokens_per_pair": (tokens - cached) / len(pairs)})
    return rows


def _prefix_cached(sent: list[list[int]], block: int = 16) -> int:
    """Tokens a prefix cache with `block`-token blocks (vLLM's default size) serves: a block is cached when an
    earlier call sent the same tokens up to and including it."""
    seen: set[tuple] = set()
    cached = 0
    for ids in sent:
        for end in range(block, len(ids) + 1, block):
            key = tuple(ids[:end])
            if key in seen:
                cached += block
            else:
                seen.add(key)
    return cached


def context_effect() -> list[dict]:
    from valind.instruments.values import make_extractor
    from valind.calibration.values.validate import average_precision
    from valind.ingest.schema import conversation_text
    from valind.values import load_values

    rows = [json.loads(line) for line in open(SHARED / "labelled" / "outside_labelled_dev.jsonl", encoding="utf-8")]
    rows = [r for r in rows if r["source"].startswith("hh")]
    transcripts = _pairs()
    context = []
    for r in rows:
        match = next((msgs for msgs, c, rj in transcripts if r["response"].strip() in (c.strip(), rj.strip())
                      and msgs[-1]["content"].strip() == r["prompt"].strip()), None)
        if match is None:
            raise SystemExit(f"{r['id']}: no HH-RLHF transcript ends with this response")
        context.append(match)
    values = list(load_values().values())
    ex = make_extractor("ensemble", values, None)
    names = ex.value_names
    last_turn = ex.score_batch([r["prompt"] for r in rows], [r["response"] for r in rows])
    whole = ex.score_batch([conversation_text(m) for m in context], [r["response"] for r in rows])
    out = []
    for who in ("values_a", "values_b", "both"):
        labels = np.array([[(r["values_a"][v] and r["values_b"][v]) if who == "both" else r[who][v] for v in names]
                           for r in rows], dtype=int)
        res = {"labels": who, "multi_turn": sum(len(m) > 1 for m in context)}
        for name, scores in (("last_turn", last_turn), ("conversation", whole)):
            aps = [average_precision(labels[:, j], scores[:, j]) for j in range(len(names)) if labels[:, j].any()]
            res[name] = float(np.mean(aps))
            res["values_with_positives"] = len(aps)
        out.append(res)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=200)
    args = ap.parse_args()
    usage = calls_and_tokens(args.pairs)
    ctx = context_effect()
    lines = [f"`python bench/bench_extraction_context.py --pairs {args.pairs}`", "", f"Machine: {machine()}", "",
             "LLM extractor, HH-RLHF harmless-base test pairs, prompts as the extract stage builds them "
             "(the whole conversation), tokens by SmolLM2's tokenizer; cached = a prefix an earlier call already "
             "sent, in 16-token blocks (vLLM's prefix caching):", "",
             "| scoring | pairs | calls per pair | prompt tokens per pair | not served from the prefix cache |",
             "|---|---|---|---|---|"]
    lines += [f"| {u['scoring']} | {u['pairs']} | {u['calls_per_pair']:.1f} | {u['tokens_per_pair']:,.0f} | "
              f"{u['uncached_tokens_per_pair']:,.0f} |" for u in usage]
    lines += ["", "Context, `ensemble` extractor on the 100 HH-RLHF rows of `labelled/outside_labelled_dev.jsonl` "
              f"({ctx[0]['multi_turn']} multi-turn), macro AP over values with a positive:", "",
              "| labels | values with a positive | last user turn | whole conversation |", "|---|---|---|---|"]
    lines += [f"| {c['labels']} | {c['values_with_positives']} | {c['last_turn']:.3f} | {c['conversation']:.3f} |"
              for c in ctx]
    text = "## Extraction: calls and tokens per pair; multi-turn context\n\n" + "\n".join(lines)
    print(text)
    write_section("bench_extraction_context", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
