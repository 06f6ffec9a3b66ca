"""Helpers of the generation tests.

1. vLLM's Python API as the pinned wheel declares it, read from the wheel's own source, without a GPU
   (tests/generate/test_backend_vllm.py; formerly tests/vllm_api.py). The GPU build cannot run here (CUDA),
   but its sources can be read (the CPU build of the same version runs for real in
   tests/generate/test_vllm_engine.py). `VLLMAPI` parses them with `ast` (nothing is imported): the
   `EngineArgs` dataclass fields, the `SamplingParams` and `LoRARequest` struct fields, the `LLM.__init__` /
   `LLM.chat` / `LLM.generate` signatures, and the fields of the `CompletionOutput` / `RequestOutput` results.
   `vllm_modules()` builds from them a stand-in `vllm` package whose every entry point binds its arguments
   against those real signatures (an unknown keyword is the same TypeError vLLM raises) and whose results
   carry only the real field names, so valind's calls and its reading of the results are checked against
   the pinned vLLM itself. The wheel is fetched by `scripts/fetch_contracts.sh`
   (`pip download vllm==X --no-deps`).
2. What the real-vLLM tests ask the engine and how they compare it with transformers
   (tests/generate/test_vllm_engine.py and tests/generate/test_vllm_server.py).
3. A LoRA adapter with random B matrices on the tiny Llama (test_backend_hf.py, test_multiturn.py).
"""

from __future__ import annotations

import ast
import inspect
import os
import sys
import tomllib
import types
import zipfile
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[2]
_DEFAULT = object()  # stands for any default value in a signature read from source


def pinned_version() -> str:
    """The vLLM version pinned in pyproject.toml's `vllm` extra ("vllm==X")."""
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    (spec,) = extras["vllm"]
    name, _, version = spec.partition("==")
    assert name.strip() == "vllm" and version, f"the vllm extra must pin one version (vllm==X), got {spec!r}"
    return version.strip()


def contracts_dir() -> Path:
    return Path(os.environ.get("VALIND_CONTRACTS_DIR", REPO / ".cache" / "contracts"))


def find_wheel() -> Path | None:
    found = sorted(contracts_dir().glob(f"vllm-{pinned_version()}-*.whl"))
    return found[0] if found else None


class VLLMAPI:
    """Declarations read from the wheel's Python sources."""

    def __init__(self, wheel: Path):
        self.wheel = wheel
        self._zip = zipfile.ZipFile(wheel)
        self._trees: dict[str, ast.Module] = {}

    def source(self, module: str) -> str:
        return self._zip.read(module.replace(".", "/") + ".py").decode("utf-8")

    def tree(self, module: str) -> ast.Module:
        if module not in self._trees:
            self._trees[module] = ast.parse(self.source(module))
        return self._trees[module]

    def version(self) -> str:
        meta = next(n for n in self._zip.namelist() if n.endswith(".dist-info/METADATA"))
        text = self._zip.read(meta).decode()
        return next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Version:"))

    def requirements(self) -> list[str]:
        """The wheel's Requires-Dist lines (without extras-only ones)."""
        meta = next(n for n in self._zip.namelist() if n.endswith(".dist-info/METADATA"))
        lines = self._zip.read(meta).decode().splitlines()
        return [line.split(":", 1)[1].strip() for line in lines
                if line.startswith("Requires-Dist:") and "extra ==" not in line]

    def _class(self, module: str, name: str) -> ast.ClassDef:
        for node in self.tree(module).body:
            if isinstance(node, ast.ClassDef) and node.name == name:
                return node
        raise LookupError(f"class {name} not found in {module} of {self.wheel.name}")

    def fields(self, module: str, cls: str) -> list[str]:
        """The declared fields of a dataclass or msgspec.Struct, in order (ClassVars left out)."""
        out = []
        for node in self._class(module, cls).body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if "ClassVar" in ast.unparse(node.annotation):
                    continue
                out.append(node.target.id)
        return out

    def signature(self, module: str, cls: str, method: str) -> inspect.Signature:
        """The signature of `cls.method` as written in the source (defaults stand in as one marker)."""
        for node in self._class(module, cls).body:
            if isinstance(node, ast.FunctionDef) and node.name == method:
                return _signature(node.args)
        raise LookupError(f"{cls}.{method} not found in {module} of {self.wheel.name}")


def _signature(a: ast.arguments) -> inspect.Signature:
    P = inspect.Parameter
    params = []
    positional = [(x, P.POSITIONAL_ONLY) for x in a.posonlyargs] + [(x, P.POSITIONAL_OR_KEYWORD) for x in a.args]
    first_default = len(positional) - len(a.defaults)
    for i, (arg, kind) in enumerate(positional):
        params.append(P(arg.arg, kind, default=_DEFAULT if i >= first_default else P.empty))
    if a.vararg:
        params.append(P(a.vararg.arg, P.VAR_POSITIONAL))
    for arg, default in zip(a.kwonlyargs, a.kw_defaults):
        params.append(P(arg.arg, P.KEYWORD_ONLY, default=P.empty if default is None else _DEFAULT))
    if a.kwarg:
        params.append(P(a.kwarg.arg, P.VAR_KEYWORD))
    return inspect.Signature(params)


# ---------------------------------------------------------------- a stand-in package built from the real API
LLM_MODULE = "vllm.entrypoints.llm"
ENGINE_MODULE = "vllm.engine.arg_utils"
SAMPLING_MODULE = "vllm.sampling_params"
LORA_MODULE = "vllm.lora.request"
OUTPUTS_MODULE = "vllm.outputs"


class Record:
    """Every call the stand-in received, with its arguments bound to the real signature."""

    def __init__(self):
        self.engines: list[dict] = []   # LLM(...) arguments, EngineArgs pass-through included
        self.chats: list[dict] = []     # LLM.chat(...) arguments
        self.sampling: list[dict] = []  # SamplingParams(...) arguments
        self.loras: list[dict] = []     # LoRARequest(...) arguments


def vllm_modules(api: VLLMAPI, record: Record, reply: Callable[[list[dict], dict], str],
                 tokenizer_template: str | None = "{{ messages }}") -> dict[str, types.ModuleType]:
    """sys.modules entries for `vllm` and `vllm.lora.request`, checked against `api`.

    `reply(conversation, sampling_kwargs)` gives each completion's text; `tokenizer_template` is the
    chat template the model's tokenizer reports (None: a base checkpoint without one)."""
    engine_fields = set(api.fields(ENGINE_MODULE, "EngineArgs"))
    init_sig = api.signature(LLM_MODULE, "LLM", "__init__")
    chat_sig = api.signature(LLM_MODULE, "LLM", "chat")
    sampling_fields = api.fields(SAMPLING_MODULE, "SamplingParams")
    lora_fields = api.fields(LORA_MODULE, "LoRARequest")
    completion_fields = api.fields(OUTPUTS_MODULE, "CompletionOutput")
    request_sig = api.signature(OUTPUTS_MODULE, "RequestOutput", "__init__")
    logprob_fields = api.fields("vllm.logprobs", "Logprob")

    def bind(sig: inspect.Signature, what: str, *args, **kwargs) -> dict:
        bound = sig.bind(None, *args, **kwargs)  # TypeError for a name the real signature lacks
        out = dict(bound.arguments)
        out.pop("self", None)
        return out

    def struct(name: str, fields: list[str], args: tuple, kwargs: dict) -> dict:
        if len(args) > len(fields):
            raise TypeError(f"{name} takes at most {len(fields)} positional arguments ({len(args)} given)")
        values = dict(zip(fields, args))
        for k, v in kwargs.items():
            if k not in fields:
                raise TypeError(f"Unexpected keyword argument '{k}'")  # msgspec's message for a Struct
            if k in values:
                raise TypeError(f"Argument '{k}' given by name and position")
            values[k] = v
        return values

    class SamplingParams:
        def __init__(self, *args, **kwargs):
            self.kwargs = struct("SamplingParams", sampling_fields, args, kwargs)
            record.sampling.append(self.kwargs)

    class LoRARequest:
        def __init__(self, *args, **kwargs):
            values = struct("LoRARequest", lora_fields, args, kwargs)
            for f in lora_fields:
                setattr(self, f, values.get(f))
            record.loras.append(values)

    class Tokenizer:
        chat_template = tokenizer_template

    class LLM:
        def __init__(self, *args, **kwargs):
            bound = bind(init_sig, "LLM", *args, **kwargs)
            extra = bound.pop("kwargs", {})
            unknown = sorted(set(extra) - engine_fields)
            if unknown:  # LLM hands **kwargs to EngineArgs(...), a dataclass
                raise TypeError(f"EngineArgs.__init__() got an unexpected keyword argument '{unknown[0]}'")
            record.engines.append({**bound, **extra})

        def get_tokenizer(self):
            return Tokenizer()

        def chat(self, *args, **kwargs):
            bound = bind(chat_sig, "LLM.chat", *args, **kwargs)
            record.chats.append(bound)
            messages, params = bound["messages"], bound.get("sampling_params")
            conversations = messages if messages and isinstance(messages[0], list) else [messages]
            outs = []
            for n, conv in enumerate(conversations):
                sampling = params.kwargs if params is not None else {}
                text = reply(conv, sampling)
                logprobs = None
                if sampling.get("logprobs"):
                    Logprob = _logprob_class(logprob_fields)
                    logprobs = [{11: Logprob(logprob=-0.1, rank=1, decoded_token=" yes"),
                                 12: Logprob(logprob=-2.5, rank=2, decoded_token=" no")}]
                sample = types.SimpleNamespace(**{f: None for f in completion_fields})
                sample.index, sample.text, sample.token_ids, sample.logprobs = 0, text, [1, 2], logprobs
                sample.finish_reason = "stop"
                values = dict(request_id=str(n), prompt=None, prompt_token_ids=[1], prompt_logprobs=None,
                              outputs=[sample], finished=True)
                request_sig.bind(None, **values)  # what a RequestOutput is built from
                outs.append(types.SimpleNamespace(**values))
            return outs

    vllm = types.ModuleType("vllm")
    vllm.__version__ = api.version()
    vllm.LLM, vllm.SamplingParams = LLM, SamplingParams
    vllm.EngineArgs = _engine_args_dataclass(sorted(engine_fields))
    lora = types.ModuleType("vllm.lora")
    request = types.ModuleType("vllm.lora.request")
    request.LoRARequest = LoRARequest
    return {"vllm": vllm, "vllm.lora": lora, "vllm.lora.request": request}


def _logprob_class(fields: list[str]):
    import dataclasses

    return dataclasses.make_dataclass("Logprob", [(f, object, dataclasses.field(default=None)) for f in fields])


def _engine_args_dataclass(fields: list[str]):
    """A dataclass with EngineArgs' field names (what `dataclasses.fields(vllm.EngineArgs)` reads)."""
    import dataclasses

    return dataclasses.make_dataclass("EngineArgs", [(f, object, dataclasses.field(default=None)) for f in fields])


def install(monkeypatch, modules: dict[str, types.ModuleType]) -> None:
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)


# ------------------------------------------------------- the real-vLLM tests (engine and server)
DTYPE = "float32"  # see tests/generate/test_vllm_engine.py
PROMPTS = ["What is the capital of France?", "Give me one tip for sleeping better.", "Write a haiku about rain.",
           "How do I boil an egg?", "Is it okay to lie to a friend to protect their feelings?",
           "Name three fruits.", "What should I do if I feel lonely?", "Explain photosynthesis in one sentence."]
NEW_TOKENS = 16
AGREE_TOKENS = 8
AGREE_OF = 6


def convs(texts=PROMPTS):
    return [[{"role": "user", "content": t}] for t in texts]


def greedy_prefix(model_dir: str, adapter: str | None, conversations, answers: list[str]) -> list[tuple[int, int]]:
    """For each answer: (how many of its first tokens are transformers' own greedy choices, its length in
    tokens), teacher-forced: one forward pass over prompt + answer, in DTYPE."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    lm = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, DTYPE))
    if adapter:
        from peft import PeftModel
        lm = PeftModel.from_pretrained(lm, adapter)
    lm.eval()
    out = []
    for conv, answer in zip(conversations, answers):
        prompt = tok.apply_chat_template(conv, tokenize=False, add_generation_prompt=True)
        p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        a_ids = tok(answer, add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            logits = lm(torch.tensor([p_ids + a_ids])).logits[0]
        best = logits[len(p_ids) - 1:len(p_ids) + len(a_ids) - 1].argmax(-1).tolist()
        out.append((next((i for i, (x, y) in enumerate(zip(a_ids, best)) if x != y), len(a_ids)), len(a_ids)))
    return out


# ------------------------------------------------------- a random LoRA adapter on the tiny Llama
def make_random_adapter(tiny_model_dir, out_dir, seed: int):
    """A LoRA adapter whose B matrices are random (PEFT initialises them to 0, which changes nothing)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=16, target_modules=["q_proj", "v_proj", "o_proj"]))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 2.0)
    peft_model.save_pretrained(out_dir)
    return str(out_dir)


def wait_until_healthy(proc, base: str, log: Path, what: str, timeout_s: float = 600) -> None:
    """Poll `base`/health until a started server answers 200; fail with the end of its log if it exits or times out."""
    import time

    import httpx
    import pytest

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} did not come up (exit {proc.poll()}):\n{log.read_text()[-4000:]}")
        time.sleep(2)
