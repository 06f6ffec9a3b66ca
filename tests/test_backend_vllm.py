"""The vLLM backend against a fake `vllm` module (vLLM itself needs a GPU): requests, LoRA ids, order."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass

import pytest

from valind.errors import ConfigError
from valind.generate.backends.base import SamplingSettings, make_backend


@dataclass
class FakeLogprob:
    logprob: float
    rank: int | None = None
    decoded_token: str | None = None


class FakeLLM:
    instances: list["FakeLLM"] = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.calls: list[dict] = []
        FakeLLM.instances.append(self)

    def chat(self, messages, sampling_params=None, use_tqdm=True, lora_request=None, add_generation_prompt=True):
        self.calls.append(dict(messages=messages, params=sampling_params, lora=lora_request))
        outputs = []
        for conv in messages:
            text = f" {conv[-1]['content']}|{lora_request.lora_name if lora_request else 'base'} "
            logprobs = None
            if sampling_params.kwargs.get("logprobs"):
                logprobs = [{7: FakeLogprob(-0.2, 1, "yes"), 8: FakeLogprob(-1.8, 2, "no"),
                             9: FakeLogprob(-3.0, 3, "yes")}]
            sample = types.SimpleNamespace(text=text, logprobs=logprobs, finish_reason="stop")
            outputs.append(types.SimpleNamespace(outputs=[sample]))
        return outputs


class FakeSamplingParams:
    def __init__(self, **kwargs):
        self.kwargs = kwargs


class FakeLoRARequest:
    def __init__(self, lora_name, lora_int_id, lora_path):
        self.lora_name, self.lora_int_id, self.lora_path = lora_name, lora_int_id, lora_path


@pytest.fixture
def fake_vllm(monkeypatch):
    vllm = types.ModuleType("vllm")
    vllm.LLM, vllm.SamplingParams = FakeLLM, FakeSamplingParams
    lora = types.ModuleType("vllm.lora")
    request = types.ModuleType("vllm.lora.request")
    request.LoRARequest = FakeLoRARequest
    for name, module in {"vllm": vllm, "vllm.lora": lora, "vllm.lora.request": request}.items():
        monkeypatch.setitem(sys.modules, name, module)
    FakeLLM.instances.clear()
    return vllm


def convs(*texts):
    return [[{"role": "system", "content": "be brief"}, {"role": "user", "content": t}] for t in texts]


def test_missing_vllm_is_a_config_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # makes `import vllm` fail
    with pytest.raises(ConfigError, match=r"pip install 'valind\[vllm\]'"):
        make_backend("vllm", "some/model")


def test_base_loaded_once_with_lora_enabled(fake_vllm, tmp_path):
    backend = make_backend("vllm", str(tmp_path), max_lora_rank=8, max_model_len=2048, enforce_eager=True)
    (llm,) = FakeLLM.instances
    assert llm.kwargs["model"] == str(tmp_path.resolve())
    assert llm.kwargs["enable_lora"] is True and llm.kwargs["max_lora_rank"] == 8
    assert llm.kwargs["max_model_len"] == 2048 and llm.kwargs["enforce_eager"] is True
    assert llm.kwargs["trust_remote_code"] is False
    for adapter in (None, str(tmp_path / "a"), str(tmp_path / "b")):
        backend.generate(convs("x"), SamplingSettings(), adapter=adapter)
    assert len(FakeLLM.instances) == 1  # adapters never reload the base


def test_lora_ids_are_stable_per_adapter_path(fake_vllm, tmp_path, monkeypatch):
    backend = make_backend("vllm", str(tmp_path))
    a, b = tmp_path / "empathy", tmp_path / "honesty"
    order = [a, b, a, None, b]
    for adapter in order:
        backend.generate(convs("x"), SamplingSettings(), adapter=str(adapter) if adapter else None)
    loras = [call["lora"] for call in FakeLLM.instances[0].calls]
    assert [(r.lora_int_id, r.lora_path) if r else None for r in loras] == [
        (1, str(a)), (2, str(b)), (1, str(a)), None, (2, str(b))]
    monkeypatch.chdir(tmp_path)  # a relative path to the same directory is the same adapter
    assert backend.lora_request("empathy").lora_int_id == 1
    assert len({r.lora_name for r in loras if r}) == 2


def test_outputs_in_order_with_sampling_settings_and_logprobs(fake_vllm, tmp_path):
    backend = make_backend("vllm", str(tmp_path))
    out = backend.generate(convs("first", "second", "third"),
                           SamplingSettings(max_new_tokens=7, temperature=0.0, top_p=0.5, seed=4, logprobs=3))
    assert [c.text for c in out] == ["first|base", "second|base", "third|base"]
    assert out[0].top_logprobs == [{"yes": -0.2, "no": -1.8}]  # same-text tokens keep the likeliest
    call = FakeLLM.instances[0].calls[0]
    assert call["messages"][1][0] == {"role": "system", "content": "be brief"}
    assert call["params"].kwargs == dict(n=1, max_tokens=7, seed=4, temperature=0.0, top_p=1.0, logprobs=3)

    backend.generate(convs("x"), SamplingSettings(temperature=0.8, top_p=0.9, seed=1))
    params = FakeLLM.instances[0].calls[1]["params"].kwargs
    assert params["temperature"] == 0.8 and params["top_p"] == 0.9 and "logprobs" not in params
    assert backend.generate([], SamplingSettings()) == []


def test_adapter_without_lora_is_a_config_error(fake_vllm, tmp_path):
    backend = make_backend("vllm", str(tmp_path), enable_lora=False)
    assert "max_lora_rank" not in FakeLLM.instances[0].kwargs
    with pytest.raises(ConfigError, match="enable_lora"):
        backend.generate(convs("x"), SamplingSettings(), adapter=str(tmp_path / "a"))
