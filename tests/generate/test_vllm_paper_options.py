"""Every vLLM option configs/paper_llama8b.yaml passes is accepted by the real vLLM, as valind passes it.

The paper config, shrunk as bench/gpu_paper_run.py shrinks it (`--engine vllm --shape smollm2`, with the
paper's own dtype: bfloat16), builds its engines the way the stages do: the extract stage's LLM
extractor, the evaluate stage's LLM judges (`make_judge`, as `Suite.judge_rows` calls it) and the generate stage's
`study_backend`. Where valind would start `vllm.LLM(**kwargs)`, this test gives the same keyword
arguments to the installed vLLM's `EngineArgs(...).create_engine_config()` (what `LLM` does before it
loads weights: every option parsed and checked against the model, the LoRA, cache and scheduler
configs) and checks the paper's values are what vLLM ends up configured with. Only the model (the
embedded SmolLM2, whose 8192-token context holds the paper's max_model_len) and tensor_parallel_size
(1: one CPU) differ from the paper. Engines that start and generate with these options:
tests/generate/test_vllm_engine.py, tests/generate/test_vllm_server.py and the end-to-end run in bench/RESULTS.md
(`gpu_paper_pipeline_cpu_dry_run_vllm`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import skip_unless_ci

pytestmark = pytest.mark.vllm

REPO = Path(__file__).resolve().parents[2]


class _Configured(Exception):
    def __init__(self, kwargs, config):
        super().__init__("configured")
        self.kwargs, self.config = kwargs, config


def test_the_paper_configs_vllm_options_configure_a_real_vllm_engine(monkeypatch, tmp_path):
    try:
        import vllm
    except ImportError as exc:
        skip_unless_ci(f"vLLM is not installed ({exc}); scripts/setup.sh installs its CPU build")
    import torch

    from valind.config import parse_study
    from valind.context import RunContext
    from valind import make_judge
    from valind.generate.backends.base import release_engines, study_backend
    from valind.instruments.values import make_extractor
    from valind.models import resolve_model_path

    sys.path.insert(0, str(REPO / "bench"))
    from gpu_paper_run import study

    def configure(**kwargs):  # in place of vllm.LLM: the real engine configuration, no weights loaded
        raise _Configured(kwargs, vllm.EngineArgs(**kwargs).create_engine_config())

    monkeypatch.setattr(vllm, "LLM", configure)
    release_engines()
    model = resolve_model_path("embedded:smollm2-135m-instruct")
    cfg = parse_study(study(model, None, 1, 1, tmp_path / "run", engine="vllm"), "paper shrunk", REPO / "configs")
    ctx = RunContext(config=cfg, run_dir=tmp_path / "run", force=True, progress=False)

    def opened(start) -> _Configured:
        with pytest.raises(_Configured) as caught:
            start()
        release_engines()
        return caught.value

    extractor = make_extractor(cfg.extractor.name, ctx.values, cfg.extractor.thresholds_file, **cfg.extractor.options)
    engines = {"extractor": opened(lambda: extractor.backend)}
    judged = [s for s in cfg.evaluation.suites if s.judge == "llm"]
    # the published config judges anthropomorphism with the LLM (AdvBench by prefix match, as the study did)
    assert "anthrobench" in {s.name for s in judged}
    for s in judged:
        engines[s.name] = opened(lambda s=s: make_judge("refusal", s.judge, **(s.options or {}).get("judge_options", {})).judge(["q"], ["a"]))
    engines["generation"] = opened(lambda: study_backend(cfg, model))
    from valind.generate.conversations import user_backend

    anthro = next(s for s in cfg.evaluation.suites if s.name == "anthrobench")
    assert anthro.conversation.turns == 3  # the published config's multi-turn AnthroBench, kept when shrunk
    engines["user"] = opened(lambda: user_backend(cfg, anthro.conversation).llm)

    paper = yaml.safe_load((REPO / "configs" / "paper_llama8b.yaml").read_text())
    instrument = paper["extractor"]["options"]["backend_options"]
    generation = {**paper["generation"]["options"], "max_num_seqs": paper["generation"]["batch_size"],
                  "dtype": paper["models"][0]["dtype"]}
    for name, seen in engines.items():
        wanted = generation if name == "generation" else instrument
        for key, value in wanted.items():
            assert seen.kwargs[key] == (1 if key == "tensor_parallel_size" else value), (name, key)
        c = seen.config
        assert c.model_config.dtype == torch.bfloat16, name
        assert c.model_config.max_model_len == wanted["max_model_len"], name
        assert c.parallel_config.tensor_parallel_size == 1, name
    g = engines["generation"].config
    assert g.lora_config is not None and (g.lora_config.max_lora_rank, g.lora_config.max_loras) == (8, 4)
    assert g.scheduler_config.max_num_seqs == 256
    assert all(engines[s.name].kwargs == engines["extractor"].kwargs for s in judged)
    # the simulated user: the instrument's engine options, batched as the study's generation (max_num_seqs)
    user = dict(engines["user"].kwargs)
    assert user.pop("max_num_seqs") == paper["generation"]["batch_size"]
    assert user == {k: v for k, v in engines["extractor"].kwargs.items() if k != "max_num_seqs"}
