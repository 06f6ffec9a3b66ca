"""Shared fixtures: a tiny real Llama, the shared data folder (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Precision `auto` follows the CPU (valind.precision); tests run as on a CPU without bf16 units, so their
# outcomes do not depend on which machine runs them. tests/test_precision.py asks for bf16 explicitly.
os.environ.setdefault("VALIND_CPU_BF16", "0")

SHARED_DATA = Path(os.environ.get("VALIND_SHARED_DATA") or Path(__file__).resolve().parents[1].parent / "shared" / "data")
# valind's template-written preference pairs (empathy, humor, honesty): a small fixture for pipeline tests.
DEMO_PAIRS = str(Path(__file__).resolve().parent / "fixtures" / "demo_pairs.jsonl")
IN_CI = bool(os.environ.get("CI"))


def skip_unless_ci(reason: str) -> None:
    """Skip on a developer's machine; fail in CI, where every required component is installed by
    scripts/test.sh and a skip would hide that it was never tested."""
    if IN_CI:
        pytest.fail(f"required in CI, but: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    from valind.testing import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("tiny") / "tiny-llama")


LORA_B_SCALE = 0.05  # random B at full scale makes gibberish; this changes answers and keeps them words


def make_adapter(model_dir: str, out, seed: int) -> str:
    """A rank-4 LoRA adapter on every linear layer with small random (non-zero) weights, saved as safetensors."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=16, target_modules="all-linear",
                                                 init_lora_weights=False))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.mul_(LORA_B_SCALE)
    peft_model.save_pretrained(out)
    return str(out)


@pytest.fixture(scope="session")
def smollm2_adapters(tmp_path_factory) -> tuple[str, list[str]]:
    """(the converted SmolLM2-135M-Instruct folder, [two LoRA adapters of it, seeds 1 and 2]): built once for the
    vLLM engine and server tests."""
    from valind.models import resolve_model_path

    model = resolve_model_path("embedded:smollm2-135m-instruct")
    tmp = tmp_path_factory.mktemp("smollm2-adapters")
    return model, [make_adapter(model, tmp / f"adapter{seed}", seed) for seed in (1, 2)]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        skip_unless_ci(f"../shared/data not found at {SHARED_DATA}: real-data tests need the shared folder beside the repo")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Keep each test's caches out of the user's ~/.cache, except the converted SmolLM2 (slow tests)."""
    monkeypatch.setenv("VALIND_SCORE_CACHE", str(tmp_path / "score-cache"))
    monkeypatch.setenv("VALIND_VALIDATION_CACHE", str(tmp_path / "validation-cache"))
