"""The vLLM backend against the pinned vLLM's own API, read from the GPU wheel (no GPU needed).

Every argument valind hands to `LLM(...)` (and through it to `EngineArgs`), `LLM.chat`,
`SamplingParams` and `LoRARequest` is bound against the signatures and fields the wheel's sources
declare (tests/generate/conftest.py), at valind's real call sites: the generate stage, feedback sycophancy,
a Ray generation task, the LLM extractor and the LLM judges, with the paper config's options.
"""

from __future__ import annotations

import json

import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from valind.errors import ConfigError
from valind.generate.backends.base import ENGINES, SamplingSettings, make_backend, release_engines

from tests.conftest import skip_unless_ci
from tests.generate.conftest import Record, VLLMAPI, contracts_dir, find_wheel, install, pinned_version, vllm_modules

REPO = Path(__file__).resolve().parents[2]
PAPER = REPO / "configs" / "paper_llama8b.yaml"


@pytest.fixture(scope="session")
def api() -> VLLMAPI:
    wheel = find_wheel()
    if wheel is None:
        skip_unless_ci(f"the vllm=={pinned_version()} wheel is not in {contracts_dir()}: "
                       "run `bash scripts/fetch_contracts.sh` (scripts/test.sh does)")
    return VLLMAPI(wheel)


def reply(conversation: list[dict], sampling: dict) -> str:
    """What the stand-in engine answers: a valid reply for each of valind's prompt kinds."""
    last = conversation[-1]["content"]
    if '{"values"' in last:
        return '{"values": ["empathy"]}'
    if "CLASS:" in last:
        return "CLASS: full_refusal"
    if re.search(r"\bYes or No\b|\byes or no\b", last):
        return "No"
    if "letter of the correct option" in last or "Are you sure" in last:
        return "The answer is A."
    return f" {last[:20]}|{sampling.get('max_tokens')} "


@pytest.fixture
def vllm(api, monkeypatch):
    import trl  # noqa: F401  (TRL probes for vllm on import: let it see the real absence first)

    record = Record()
    install(monkeypatch, vllm_modules(api, record, reply))
    release_engines()
    ENGINES.reset()
    yield record
    release_engines()


def convs(*texts):
    return [[{"role": "system", "content": "be brief"}, {"role": "user", "content": t}] for t in texts]


# ---------------------------------------------------------------- the wheel and the pin
def test_wheel_is_the_pinned_version_and_its_requirements_fit_valinds_pins(api):
    assert api.version() == pinned_version() == "0.32.0"
    # Every package both vLLM and valind (or TRL, PEFT, accelerate, lm-eval) constrain must admit one version.
    import tomllib

    ours = [Requirement(r) for r in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]]
    for dist in ("trl", "peft", "accelerate", "lm_eval"):
        ours += [Requirement(r) for r in metadata.requires(dist) or [] if "extra ==" not in r]
    theirs = {Requirement(r).name.lower(): Requirement(r) for r in api.requirements()}
    checked = []
    for req in ours:
        name = req.name.lower()
        if name in theirs and req.specifier and theirs[name].specifier:
            assert _intersects(req.specifier, theirs[name].specifier), \
                f"{name}: valind's side needs {req.specifier}, vllm {api.version()} needs {theirs[name].specifier}"
            checked.append(name)
    assert {"torch", "transformers"} <= set(checked)


def _intersects(a: SpecifierSet, b: SpecifierSet) -> bool:
    """Whether some version satisfies both: every bound is of the form >=, >, ==, ~=, <, <=, != so the
    lowest admitted version is one of the stated versions (or a patch above a strict '>' bound)."""
    both = a & b
    candidates = [Version("0")]
    for spec in both:
        v = Version(spec.version.replace("*", "0"))
        candidates += [v, Version(f"{v.major}.{v.minor}.{v.micro + 1}")]
    return any(both.contains(c, prereleases=True) for c in candidates)


def test_missing_vllm_is_a_config_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # makes `import vllm` fail
    with pytest.raises(ConfigError, match=r"pip install 'valind\[vllm\]'"):
        make_backend("vllm", "some/model")


# ---------------------------------------------------------------- the backend's own calls
def test_the_study_batch_size_is_max_num_seqs_and_what_vllm_rejects_is_never_passed(vllm, api):
    """The bug this test was written for: `batch_size` went to vllm.LLM, which rejects it."""
    modules = sys.modules["vllm"]
    with pytest.raises(TypeError, match="unexpected keyword argument 'batch_size'"):
        modules.LLM(model="m", batch_size=8)  # the old call, refused exactly as vLLM refuses it
    make_backend("vllm", "some/model", batch_size=256, progress=True, dtype="bfloat16", trust_remote_code=False)
    (engine,) = vllm.engines
    assert engine["max_num_seqs"] == 256 and "batch_size" not in engine and "progress" not in engine
    assert engine["enable_prefix_caching"] is True and engine["dtype"] == "bfloat16"


def test_unknown_option_is_named_before_the_engine_starts(vllm):
    with pytest.raises(ConfigError, match=r"max_num_seq \(did you mean max_num_seqs"):
        make_backend("vllm", "some/model", max_num_seq=4)
    assert vllm.engines == [] and ENGINES.alive == []
    make_backend("vllm", "some/model", max_num_batched_tokens=4096, enforce_eager=True)  # EngineArgs fields pass
    assert vllm.engines[0]["max_num_batched_tokens"] == 4096


def test_adapters_are_lora_requests_with_stable_ids_on_one_engine(vllm, tmp_path, monkeypatch):
    backend = make_backend("vllm", str(tmp_path), max_lora_rank=8)
    a, b = tmp_path / "empathy", tmp_path / "honesty"
    for adapter in (a, b, a, None, b):
        backend.generate(convs("x"), SamplingSettings(), adapter=str(adapter) if adapter else None)
    assert len(vllm.engines) == 1  # adapters never reload the base
    assert vllm.engines[0]["model"] == str(tmp_path.resolve()) and vllm.engines[0]["max_lora_rank"] == 8
    loras = [c["lora_request"] for c in vllm.chats]
    assert [(r.lora_int_id, r.lora_path) if r else None for r in loras] == [
        (1, str(a)), (2, str(b)), (1, str(a)), None, (2, str(b))]
    monkeypatch.chdir(tmp_path)  # a relative path to the same directory is the same adapter
    assert backend.lora_request("empathy").lora_int_id == 1


def test_outputs_in_order_with_sampling_settings_and_logprobs(vllm):
    backend = make_backend("vllm", "m")
    out = backend.generate(convs("first", "second"), SamplingSettings(max_new_tokens=7, top_p=0.5, seed=4, logprobs=3))
    assert [c.text for c in out] == ["first|7", "second|7"]
    assert out[0].top_logprobs == [{" yes": -0.1, " no": -2.5}] and out[0].meta["finish_reason"] == "stop"
    assert vllm.sampling[0] == dict(n=1, max_tokens=7, seed=4, temperature=0.0, top_p=1.0, logprobs=3)
    backend.generate(convs("x"), SamplingSettings(temperature=0.8, top_p=0.9, seed=1))
    assert vllm.sampling[1]["temperature"] == 0.8 and "logprobs" not in vllm.sampling[1]
    assert backend.generate([], SamplingSettings()) == []


def test_adapter_without_lora_is_a_config_error(vllm, tmp_path):
    backend = make_backend("vllm", "m", enable_lora=False)
    assert "max_lora_rank" not in vllm.engines[0]
    with pytest.raises(ConfigError, match="enable_lora"):
        backend.generate(convs("x"), SamplingSettings(), adapter=str(tmp_path / "a"))


def test_fallback_chat_template_only_for_a_checkpoint_without_one(api, monkeypatch):
    for own, expect_fallback in (("{{ messages }}", False), (None, True)):
        record = Record()
        install(monkeypatch, vllm_modules(api, record, reply, tokenizer_template=own))
        make_backend("vllm", "base/model", chat_template="tulu").generate(convs("x"), SamplingSettings())
        sent = record.chats[0]["chat_template"]
        assert (sent is not None and "<|assistant|>" in sent) is expect_fallback
        release_engines()


def test_paper_max_lora_rank_is_one_vllm_allows_and_holds_the_trained_rank(api):
    source = api.source("vllm.config.lora")
    allowed = {int(x) for x in re.search(r"MaxLoRARanks = Literal\[([^\]]*)\]", source).group(1).split(",")}
    cfg = yaml.safe_load(PAPER.read_text())
    rank = cfg["generation"]["options"]["max_lora_rank"]
    assert rank in allowed and rank >= cfg["training"]["lora"]["r"]


# ---------------------------------------------------------------- valind's call sites, paper config
def paper_study(tmp_path: Path):
    """configs/paper_llama8b.yaml with its suites made offline (limits of 2; refusal judged on valind's own
    harmful requests with the paper's judge options); every backend and judge option kept as shipped."""
    from valind.config import parse_study

    data = yaml.safe_load(PAPER.read_text())
    suites = []
    for s in data["evaluation"]["suites"]:
        if s["name"] == "qa":
            continue
        s = {**s, "limit": 2, "options": {k: v for k, v in (s.get("options") or {}).items() if k != "hub"}}
        if s["name"] in ("advbench", "xstest"):
            s["name"] = "harmful_requests"
            if any(x["name"] == "harmful_requests" for x in suites):
                continue
        suites.append(s)
    data["evaluation"]["suites"] = suites
    data["models"] = [m for m in data["models"] if m["name"] == "meta-llama/Llama-3.1-8B-Instruct"]  # one of 8
    data["output_dir"] = str(tmp_path / "run")
    data["training"].pop("accelerate_config")
    return parse_study(data, str(PAPER), PAPER.parent)


def test_every_call_site_with_the_paper_config_is_accepted_by_vllm(vllm, tmp_path):
    from valind.context import RunContext
    from valind.evaluate.suites import make_suite
    from valind.instruments.values import make_extractor
    from valind.generate import stage as generate_stage
    from valind.sweep.ray_executor import generate_task

    cfg = paper_study(tmp_path)
    ctx = RunContext(config=cfg, run_dir=Path(cfg.output_dir), progress=False)
    (ctx.run_dir / "curate").mkdir(parents=True)
    (ctx.run_dir / "curate" / "stats.csv").write_text("value,trained\nempathy,False\n")  # base model only
    (ctx.run_dir / "train").mkdir(parents=True)
    (ctx.run_dir / "train" / "adapters.json").write_text("[]")  # the train stage's hand-off: no adapter
    (ctx.run_dir / "curate" / "value_suite.jsonl").write_text(  # the held-out value suite curate writes
        json.dumps({"id": "p1", "messages": [{"role": "user", "content": "My dog died today."}], "value": "empathy"})
        + "\n")

    generate_stage.run(ctx)                                            # the generate stage
    gen_engine = vllm.engines[-1]
    assert gen_engine["model"] == "meta-llama/Llama-3.1-8B-Instruct" and gen_engine["max_num_seqs"] == 256
    for spec in cfg.evaluation.suites:                                 # judges and feedback sycophancy
        suite = make_suite(spec, ctx)
        if suite.needs_generation:
            rows = [{"item_id": "1", "prompt": "Hi", "response": "I'm sorry, I can't help."}]
            assert suite.score(rows)
        else:
            assert suite.run_direct(cfg.models[0].name, str(tmp_path / "adapter"))
    spec = cfg.extractor                                               # the LLM extractor, both passes
    extractor = make_extractor(spec.name, ctx.values, spec.thresholds_file, **{**spec.options, "scoring": "auto"})
    scores = extractor.score_batch(["Hi"], ["I'm so sorry you feel that way."])
    assert scores.shape == (1, len(ctx.values)) and extractor.failures() == [None]
    units = [{"suite": "value_prompts", "items": make_suite(cfg.evaluation.suites[0], ctx).items(),
              "settings": generate_stage.settings_of(ctx).__dict__, "key": "k"}]
    variant = generate_stage.variants(ctx)[0].__dict__
    assert generate_task(cfg.model_dump_json(), variant, None, units, str(Path.cwd()))  # a Ray generation task

    instrument = [e for e in vllm.engines if e["model"] == "meta-llama/Llama-3.3-70B-Instruct"]
    assert instrument and all(e["tensor_parallel_size"] == 8 for e in instrument)
    assert {c["chat_template"] for c in vllm.chats} == {None}  # instruct models keep their own template
    assert ENGINES.max_alive == 1
