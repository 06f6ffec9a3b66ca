"""Generate stage: responses for every generation suite, from the base model and every adapter.

Layout: RUN_DIR/generate/<model>/<induced_value or base>/seed<k>/<suite>.jsonl,
one row per item: item_id, prompt, messages, response, meta. Work is cut into
chunks (`part-XXXX.jsonl`, each with the key of what produced it); a killed
run resumes from the finished chunks. A unit's key covers the model, the
adapter's hash, the suite items and the decoding settings, so changing any of
them regenerates just that unit.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..artifacts import atomic_write_json, atomic_write_jsonl, atomic_write_text, hash_text, read_jsonl, write_manifest
from ..context import RunContext
from ..evaluate.suites import SuiteItem, make_suite
from ..layout import Variant, read_adapters, variants_json
from ..log import log
from .backends.base import SamplingSettings, study_backend, study_backend_name

CHUNK = 64


def variants(ctx: RunContext) -> list[Variant]:
    """Base model of each study model, then each adapter the train stage finished (train/adapters.json)."""
    out = [Variant(model.slug, model.name, "base", 0, None, "base") for model in ctx.config.models]
    for a in read_adapters(ctx.folder):
        # A sweep point (e.g. beta=0.05) is part of the induced label, so points never share a folder or a row.
        label = f"{a.value}@{a.point}" if a.point else a.value
        out.append(Variant(a.model_slug, a.model, label, a.seed, str(ctx.run_dir / a.dir / "adapter"), a.weights_hash))
    return out


def generation_suites(ctx: RunContext):
    suites = [make_suite(spec, ctx) for spec in ctx.config.evaluation.suites]
    return [s for s in suites if s.needs_generation]


def settings_of(ctx: RunContext) -> SamplingSettings:
    g = ctx.config.generation
    return SamplingSettings(max_new_tokens=g.max_new_tokens, temperature=g.temperature, top_p=g.top_p, seed=g.seed)


def unit_key(variant: Variant, items: list[SuiteItem], settings: SamplingSettings, backend: str,
             conversation: dict | None = None) -> str:
    """What produced a unit; `conversation` (a multi-turn suite's turns and user simulator) when it has turns."""
    payload = {"model": variant.model_name, "adapter": variant.adapter_hash, "backend": backend,
               "settings": settings.__dict__, "items": [[i.id, i.messages] for i in items]}
    if conversation:
        payload["conversation"] = conversation
    return hash_text(json.dumps(payload, sort_keys=True))[:16]


def multi_turn(suite) -> bool:
    """Whether a suite's items are conversations with a simulated user (suite option turns > 1)."""
    return suite.spec.conversation.turns > 1


def _conversation_key(suite) -> dict | None:
    return suite.spec.conversation.model_dump(mode="json") if multi_turn(suite) else None


def generate_conversations(ctx: RunContext, model_name: str, vs: list[Variant], suite, items: list[SuiteItem],
                           settings: SamplingSettings, keys: dict[str, str]) -> int:
    """A multi-turn suite for variants of one model (generate/conversations.py): each turn batched across
    conversations and variants; each variant's unit is written when its conversations are complete (a killed
    run starts the unfinished conversations again). Returns how many simulated user turns fell back."""
    from .conversations import run_conversations, user_backend

    spec = suite.spec.conversation
    user_settings = SamplingSettings(max_new_tokens=spec.user.max_new_tokens, temperature=spec.user.temperature,
                                     seed=settings.seed)
    ctx.info(f"[generate] {suite.name}: {len(items)} conversations x {spec.turns} turns for "
             f"{len(vs)} variant(s) of {model_name}; user simulator {spec.user.model}")
    backend = study_backend(ctx.config, model_name, progress=ctx.progress)
    try:
        rows = run_conversations(backend, lambda: user_backend(ctx.config, spec), vs, items, spec.turns,
                                 settings, user_settings)
    finally:
        backend.close()
    stage_dir = ctx.stage_dir("generate")
    for v in vs:
        _finish_unit(stage_dir / v.rel_dir, suite.name, keys[f"{v.rel_dir}/{suite.name}"], [rows[v.rel_dir]])
    return sum(r["user_fallback"] for v in vs for r in rows[v.rel_dir])


def generate_unit(ctx: RunContext, backend, variant: Variant, suite, items: list[SuiteItem],
                  settings: SamplingSettings, key: str) -> Path:
    """Generate one (variant, suite) unit chunk by chunk; return the merged JSONL path."""
    return generate_units(ctx, backend, variant, [(suite.name, items, key)], settings)[0]


def generate_units(ctx: RunContext, backend, variant: Variant, units: list[tuple[str, list[SuiteItem], str]],
                   settings: SamplingSettings) -> list[Path]:
    """Generate several suites' units of one variant; return their merged JSONL paths.

    Each unit is cut into chunks of CHUNK items, written as they finish (a killed run resumes from them),
    but one backend call takes whole chunks of several suites until it holds CHUNK prompts: small suites
    then share batches, and on a CPU a batch costs about the same for 6 prompts as for 24 (decoding steps).
    """
    stage_dir = ctx.stage_dir("generate")
    unit_dir = stage_dir / variant.rel_dir
    finals, rows, pending = [], {}, []
    for name, items, key in units:
        final = unit_dir / f"{name}.jsonl"
        finals.append(final)
        if not ctx.force and final.exists() and (unit_dir / f"{name}.key").exists() \
                and (unit_dir / f"{name}.key").read_text() == key:
            _remove_parts(unit_dir, name)
            continue
        chunks = [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]
        rows[name] = [None] * len(chunks)
        for c, chunk in enumerate(chunks):
            part = unit_dir / f".{name}.parts" / f"part-{c:04d}-{key}.jsonl"
            done = _read_part(part, len(chunk)) if part.exists() else None
            if done is not None:
                rows[name][c] = done
            else:
                pending.append((name, c, chunk, part))
        if not pending or pending[-1][0] != name:
            _finish_unit(unit_dir, name, key, rows.pop(name))  # every chunk was already written
    keys = {name: key for name, _, key in units}
    while pending:
        call, n = [], 0
        while pending and n < CHUNK:  # whole chunks, from several suites, until the call holds CHUNK prompts
            call.append(pending.pop(0))
            n += len(call[-1][2])
        completions = iter(backend.generate([it.messages for _, _, chunk, _ in call for it in chunk], settings,
                                            adapter=variant.adapter))
        for name, c, chunk, part in call:
            chunk_rows = [{"item_id": it.id, "prompt": it.prompt_text, "messages": it.messages,
                           "response": next(completions).text, "meta": it.meta} for it in chunk]
            atomic_write_jsonl(part, chunk_rows)
            rows[name][c] = chunk_rows
            if all(r is not None for r in rows[name]):
                _finish_unit(unit_dir, name, keys[name], rows.pop(name))
    return finals


def _finish_unit(unit_dir: Path, name: str, key: str, chunks: list[list[dict]]) -> None:
    """Merge a unit's chunks into <suite>.jsonl, then its key (the mark of a finished unit), then drop the chunks."""
    atomic_write_jsonl(unit_dir / f"{name}.jsonl", [row for chunk in chunks for row in chunk])
    atomic_write_text(unit_dir / f"{name}.key", key)
    _remove_parts(unit_dir, name)


def _remove_parts(unit_dir: Path, suite: str) -> None:
    """Drop a finished unit's chunks (also those a kill left between the unit's key and this cleanup)."""
    parts_dir = unit_dir / f".{suite}.parts"
    if parts_dir.is_dir():
        shutil.rmtree(parts_dir)


def _read_part(part: Path, n: int) -> list[dict] | None:
    """A finished chunk's rows, or None when the file is damaged (then the chunk is generated again)."""
    try:
        rows = read_jsonl(part)
    except (OSError, UnicodeDecodeError, ValueError):
        rows = None
    if rows is None or len(rows) != n:
        log.warning(f"[generate] {part}: damaged chunk; generating it again")
        return None
    return rows


def run(ctx: RunContext) -> dict:
    cfg = ctx.config
    stage_dir = ctx.stage_dir("generate")
    settings = settings_of(ctx)
    suites = generation_suites(ctx)
    suite_items = {s.name: s.items() for s in suites}
    all_variants = variants(ctx)
    backend_name = study_backend_name(cfg)  # `auto` resolved: the key names the engine that generates
    keys = {f"{v.rel_dir}/{s.name}": unit_key(v, suite_items[s.name], settings, backend_name, _conversation_key(s))
            for v in all_variants for s in suites}
    config_hash = cfg.section_hash("generation", "evaluation")
    if (m := ctx.fresh_manifest("generate", config_hash, keys)) is not None and ctx.folder.variants.exists():
        return m
    outputs = []
    n_done = n_fallback = 0
    by_model: dict[str, list[Variant]] = {}
    for v in all_variants:
        by_model.setdefault(v.model_name, []).append(v)
    for model_name, vs in by_model.items():
        todo = []
        for v in vs:
            for s in suites:
                if ctx.force or not _unit_done(stage_dir, v, s.name, keys[f"{v.rel_dir}/{s.name}"]):
                    todo.append((v, s))
                else:
                    _remove_parts(stage_dir / v.rel_dir, s.name)  # chunks a kill left after the unit finished
        for s in suites:  # multi-turn suites: every variant of this model at once, turn by turn
            conv = [v for v, t in todo if t is s and multi_turn(s)]
            if conv:
                n_fallback += generate_conversations(ctx, model_name, conv, s, suite_items[s.name], settings, keys)
                n_done += len(conv)
        todo = [(v, s) for v, s in todo if not multi_turn(s)]
        if todo:
            per_variant: dict[str, list] = {}
            for v, s in todo:
                per_variant.setdefault(v.rel_dir, [v]).append(s)
            backend = study_backend(cfg, model_name, progress=ctx.progress)
            try:
                for k, (v, *ss) in enumerate(per_variant.values(), 1):
                    ctx.info(f"[generate] ({k}/{len(per_variant)}) {v.rel_dir}: "
                             + ", ".join(f"{s.name} {len(suite_items[s.name])}" for s in ss) + " prompts")
                    generate_units(ctx, backend, v, [(s.name, suite_items[s.name], keys[f"{v.rel_dir}/{s.name}"])
                                                     for s in ss], settings)
                    n_done += len(ss)
            finally:
                backend.close()
        outputs += [ctx.folder.generations(v.rel_dir, s.name) for v in vs for s in suites]
    atomic_write_json(ctx.folder.variants, variants_json(ctx.folder, all_variants))  # what evaluate judges
    outputs.append(ctx.folder.variants)
    return write_manifest(stage_dir, stage="generate", config_hash=config_hash, inputs=keys, outputs=outputs,
                          counts={"units": len(keys), "generated_now": n_done, "variants": len(all_variants),
                                  "user_turn_fallbacks": n_fallback})


def _unit_done(stage_dir: Path, v: Variant, suite: str, key: str) -> bool:
    f, k = stage_dir / v.rel_dir / f"{suite}.jsonl", stage_dir / v.rel_dir / f"{suite}.key"
    return f.exists() and k.exists() and k.read_text() == key
