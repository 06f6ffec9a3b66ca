"""The one interface every generation backend implements, and the one engine a process holds.

A backend turns chat conversations into completions. It is created for one
base model; `adapter` selects a LoRA adapter (a directory) per call, so a
backend that can serve adapters without reloading the base (vLLM LoRA
requests, PEFT adapter switching) does so.

Engines (backends that hold a model in memory: transformers, vLLM) are never
built directly: `make_backend` hands out a lease on the process's one engine
slot. Asking for the model the slot already holds (same backend, same model,
options a subset of the ones it was opened with) reuses it, so the LLM
extractor and judges share the generation engine when they name its model;
asking for another model closes the held engine first. `close()` on a lease
keeps the engine warm for the next user; `release_engines()` frees it and is
called after every stage, so no engine outlives its stage.

`auto` (the name, where a backend is named) is vLLM where it is installed and
its engine starts here, else transformers: the first `auto` request tries to
start vLLM for its model; if vLLM is missing or fails to start, the reason is
logged once and every later `auto` in the process is transformers. Options
go to the chosen backend where it takes them (vLLM: its own and
`vllm.EngineArgs` fields; transformers: its keyword arguments); an option
neither takes is a ConfigError.
"""

from __future__ import annotations

import inspect
import logging
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from ...errors import ConfigError
from ...registry import backends  # noqa: F401 - the backend registry, re-exported

if TYPE_CHECKING:
    from ...config import StudyConfig

Messages = list[dict]  # [{"role": "user"|"assistant"|"system", "content": str}, ...]

# Options every backend accepts, because the stages pass them for the study's models. A backend that
# does not load the model itself (the HTTP client: the server did) ignores them.
MODEL_OPTIONS = ("batch_size", "progress", "dtype", "trust_remote_code", "revision", "chat_template")
# Options that change nothing about a loaded engine, so an engine is reused whatever they say.
_CALL_OPTIONS = {"progress"}


@dataclass
class Completion:
    text: str
    # For each generated position, the top alternatives {token_text: logprob}; None when not asked
    # for or not supported by the backend.
    top_logprobs: list[dict[str, float]] | None = None
    meta: dict = field(default_factory=dict)


@dataclass
class SamplingSettings:
    max_new_tokens: int = 128
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0
    seed: int = 0
    logprobs: int = 0  # how many top alternatives to return per position (0 = none)


class GenerationBackend(ABC):
    registry_name: str = "?"
    holds_engine: bool = False  # True for backends that load the model into this process (one at a time)

    def __init__(self, model: str, **options):
        unknown = sorted(set(options) - set(MODEL_OPTIONS))
        if unknown:
            raise ConfigError(f"generation backend '{self.registry_name}': unknown option(s) {', '.join(unknown)}; "
                              f"allowed: {', '.join(allowed_options(type(self)))}")
        self.model = model
        self.options = options
        if self.holds_engine:
            ENGINES.opened(self)

    @abstractmethod
    def generate(self, conversations: Sequence[Messages], settings: SamplingSettings,
                 adapter: str | None = None) -> list[Completion]:
        """One completion per conversation, in order."""

    def close(self) -> None:
        """Free what the backend holds (GPU memory, sockets)."""
        if self.holds_engine:
            ENGINES.closed(self)

    def __enter__(self) -> "GenerationBackend":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def allowed_options(cls: type[GenerationBackend]) -> list[str]:
    """The option names a backend class takes: its own keyword arguments and the model options."""
    own = [p.name for p in inspect.signature(cls.__init__).parameters.values()
           if p.kind is inspect.Parameter.KEYWORD_ONLY]
    return sorted(set(own) | set(MODEL_OPTIONS))


# ---------------------------------------------------------------- the engine slot
class EngineLedger:
    """Counts the engines alive in this process (opened and not yet closed) and the most ever alive at once."""

    def __init__(self):
        self._lock = threading.Lock()
        self.alive: list[GenerationBackend] = []
        self.opened_total = 0
        self.max_alive = 0

    def opened(self, engine: GenerationBackend) -> None:
        with self._lock:
            self.alive.append(engine)
            self.opened_total += 1
            self.max_alive = max(self.max_alive, len(self.alive))

    def closed(self, engine: GenerationBackend) -> None:
        with self._lock:
            self.alive = [e for e in self.alive if e is not engine]

    def reset(self) -> None:
        """Restart the counts (tests); engines still alive stay counted as alive."""
        with self._lock:
            self.opened_total = len(self.alive)
            self.max_alive = len(self.alive)


ENGINES = EngineLedger()


class _Slot:
    """The one engine this process holds, with the (backend, model, options) it was opened with."""

    def __init__(self):
        self._lock = threading.RLock()
        self.engine: GenerationBackend | None = None
        self.key: tuple[str, str] | None = None
        self.options: dict = {}

    def fits(self, key: tuple[str, str], options: dict) -> bool:
        if self.engine is None or key != self.key:
            return False
        return all(k in _CALL_OPTIONS or self.options.get(k, _MISSING) == v for k, v in options.items())

    def get(self, key: tuple[str, str], options: dict) -> GenerationBackend:
        with self._lock:
            if not self.fits(key, options):
                self.release()
                cls = backends.get(key[0])
                self.engine = cls(key[1], **options)
                self.key, self.options = key, dict(options)
            return self.engine

    def release(self) -> None:
        with self._lock:
            engine, self.engine, self.key, self.options = self.engine, None, None, {}
            if engine is not None:
                engine.close()


_MISSING = object()
_SLOT = _Slot()


class EngineLease(GenerationBackend):
    """What `make_backend` returns for an engine backend: calls go to the slot's engine, which is
    (re)opened on demand if another model took the slot in between."""

    def __init__(self, name: str, model: str, options: dict):  # noqa: D107 - no option checks: the engine does them
        self.registry_name = name
        self.model = model
        self.options = dict(options)
        self._key = (name, model)
        self.engine  # open (or reuse) now, so a bad option or a missing model fails here, not at first use

    @property
    def engine(self) -> GenerationBackend:
        return _SLOT.get(self._key, self.options)

    def generate(self, conversations: Sequence[Messages], settings: SamplingSettings,
                 adapter: str | None = None) -> list[Completion]:
        return self.engine.generate(conversations, settings, adapter=adapter)

    def close(self) -> None:
        """Done with it: the engine stays loaded for the next user of this model until the stage ends."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.engine, name)


def release_engines() -> None:
    """Close the engine this process holds, if any (after every stage; before lm-eval loads its own model)."""
    _SLOT.release()




AUTO = "auto"
_AUTO_FALLBACK: list[str] = []  # why vLLM is not used by `auto` in this process (set once, on the first failure)
log = logging.getLogger(__name__)


def auto_fallback_reason() -> str | None:
    """Why `auto` means transformers in this process, or None while vLLM is (or may yet be) used."""
    return _AUTO_FALLBACK[0] if _AUTO_FALLBACK else None


def _options_for(name: str, options: dict) -> dict:
    """The options of an `auto` request that backend `name` takes."""
    accepted = set(allowed_options(backends.get(name)))
    if name == "vllm":
        import dataclasses

        import vllm
        accepted |= {f.name for f in dataclasses.fields(vllm.EngineArgs)}
    return {k: v for k, v in options.items() if k in accepted}


def _auto_backend(model: str, options: dict) -> GenerationBackend:
    hf_options = _options_for("transformers", options)
    if not _AUTO_FALLBACK:
        try:
            import vllm  # noqa: F401
        except ImportError as exc:
            _AUTO_FALLBACK.append(f"vllm is not installed ({exc})")
    if not _AUTO_FALLBACK:
        vllm_options = _options_for("vllm", options)
        unknown = sorted(set(options) - set(vllm_options) - set(hf_options))
        if unknown:
            raise ConfigError(f"generation backend 'auto': option(s) {', '.join(unknown)} are taken by neither "
                              f"vllm nor transformers")
        try:
            return EngineLease("vllm", model, vllm_options)
        except ConfigError:
            raise  # a bad option or model: the study's to fix, not a reason to change engines
        except Exception as exc:  # noqa: BLE001 - any start failure (an unsupported CPU, memory) means: not here
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
            _AUTO_FALLBACK.append(f"the vLLM engine did not start here ({type(exc).__name__}: {first[:300]}; "
                                  "vLLM's log above has the cause)")
        log.warning("generation backend 'auto': using transformers: %s", _AUTO_FALLBACK[0])
    dropped = sorted(set(options) - set(hf_options))
    if dropped:  # without vLLM its EngineArgs cannot be read: options transformers does not take are vLLM's
        log.warning("generation backend 'auto' on transformers: not passing the vLLM option(s) %s", ", ".join(dropped))
    return EngineLease("transformers", model, hf_options)


def make_backend(name: str, model: str, **options) -> GenerationBackend:
    """A backend by registry name, or `auto` (see above). Engine backends come as a lease on the
    process's one engine."""
    if name == AUTO:
        return _auto_backend(model, options)
    cls = backends.get(name)
    if cls.holds_engine:
        return EngineLease(name, model, options)
    return cls(model, **options)


def study_backend(cfg: "StudyConfig", model_name: str, *, progress: bool = False) -> GenerationBackend:
    """The study's generation backend for one of its models, with that model's loading options.

    Used by the generate stage, direct suites that generate (feedback sycophancy) and Ray workers."""
    spec = next((m for m in cfg.models if m.name == model_name), None)
    options: dict = {"batch_size": cfg.generation.batch_size, "progress": progress}
    if spec is not None:
        options.update(dtype=spec.dtype, trust_remote_code=spec.trust_remote_code)
        if spec.revision:
            options["revision"] = spec.revision
        if spec.chat_template:
            options["chat_template"] = spec.chat_template
    return make_backend(cfg.generation.backend, model_name, **options, **cfg.generation.options)


def study_backend_name(cfg: "StudyConfig") -> str:
    """The backend the study's generation runs on: `generation.backend`, with `auto` resolved (which starts
    the engine for the first model, kept for the generation that follows)."""
    if cfg.generation.backend != AUTO:
        return cfg.generation.backend
    return study_backend(cfg, cfg.models[0].name).registry_name
