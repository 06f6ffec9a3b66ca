"""Shared fixtures and helpers: a tiny real Llama, the shared data folder (skipped when absent), and the helpers
test modules in several folders use (a stub OpenAI-compatible server, a curated run folder, small study configs).

Tests live in folders mirroring the package (tests/README.md); `tests` and its folders are packages, so a test
module imports a plain helper from here as `from tests.conftest import NAME` (a folder's own helpers: from
`tests.<folder>.conftest`). No test module imports another test module."""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Precision `auto` follows the CPU (valind.precision); tests run as on a CPU without bf16 units, so their
# outcomes do not depend on which machine runs them. tests/train/test_precision.py asks for bf16 explicitly.
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


# ----------------------------------------------- helpers for test modules in several folders
# A stub OpenAI-compatible server (generate, instruments, calibration tests).
class StubServer:
    """A chat-completions server whose reply to each request is chosen by `behaviour(n, body)`.

    `behaviour` returns (status, headers, payload) where payload None means the default echo
    reply, or the string "hang" to hold the request until the test ends. The server counts
    requests in flight and keeps every request's headers, query and body.
    """

    def __init__(self, behaviour=None, delay: float = 0.0):
        self.behaviour = behaviour or (lambda n, body: (200, {}, None))
        self.delay = delay
        self.lock = threading.Lock()
        self.in_flight = self.max_in_flight = 0
        self.requests: list[dict] = []
        self.release = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):  # keep the test output quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with stub.lock:
                    n = len(stub.requests)
                    stub.requests.append({"headers": dict(self.headers), "query": parse_qs(urlsplit(self.path).query),
                                          "path": urlsplit(self.path).path, "body": body, "time": time.monotonic()})
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    status, headers, payload = stub.behaviour(n, body)
                    if payload == "hang":
                        stub.release.wait(10)
                        return
                    if stub.delay:
                        time.sleep(stub.delay)
                    data = json.dumps(payload if payload is not None else echo_reply(body)).encode()
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with stub.lock:
                        stub.in_flight -= 1

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def echo_reply(body: dict) -> dict:
    """Echo the last user message; when asked for logprobs, a yes/no distribution."""
    text = "echo:" + body["messages"][-1]["content"]
    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    if body.get("logprobs"):
        alts = [{"token": "yes", "logprob": -0.1}, {"token": "no", "logprob": -2.5}][: body.get("top_logprobs", 1)]
        choice["logprobs"] = {"content": [{"token": "yes", "logprob": -0.1, "top_logprobs": alts}]}
    return {"id": "x", "object": "chat.completion", "choices": [choice], "usage": {"total_tokens": 3}}


# A curate stage's outputs and a small study config (sweep, train and pipeline tests).
WORDS = "kind sad happy joke fun honest true care help sorry laugh feel friend warm".split()


def write_curated(run_dir: Path, subsets: dict[str, int]) -> None:
    """A curate stage's outputs (stats.csv and train subsets) without running extraction."""
    import random

    rng = random.Random(0)
    rows = ["value,pairs,train,heldout,flipped_share,trained"]
    for value, n in subsets.items():
        recs = [{"id": f"{value}-{i}", "source": "t",
                 "prompt": [{"role": "user", "content": " ".join(rng.choices(WORDS, k=5))}],
                 "chosen": " ".join(rng.choices(WORDS, k=8)), "rejected": " ".join(rng.choices(WORDS, k=6)),
                 "flipped": False} for i in range(n)]
        path = run_dir / "curate" / "subsets" / value / "train.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in recs))
        rows.append(f"{value},{n},{n},0,0.0,True")
    (run_dir / "curate" / "stats.csv").write_text("\n".join(rows) + "\n")


def sweep_config(model_dir, sweep=None, seeds=(0, 1)):
    """A two-value study on `model_dir` (labelled "tiny"), two epochs, with the given sweep axes."""
    from valind.config import ModelSpec, StudyConfig, TrainingSpec

    return StudyConfig(name="sw", models=[ModelSpec(name=str(model_dir), label="tiny")], values=["empathy", "humor"],
                       sources=[{"kind": "generic", "path": "unused.jsonl"}],
                       training=TrainingSpec(seeds=list(seeds), epochs=2, max_length=64), sweep=sweep or {})


# A run context for evaluation suites (evaluate, calibration tests).
def make_ctx(tmp_path, model_dir, suites: list[dict]):
    """A run context on `model_dir` whose evaluation runs `suites` (12 new tokens), the run folder in tmp_path."""
    from valind.config import parse_study
    from valind.context import RunContext

    cfg = parse_study({"sources": [{"kind": "generic", "path": "unused.jsonl"}],
                       "models": [{"name": str(model_dir)}],
                       "generation": {"max_new_tokens": 12},
                       "evaluation": {"suites": suites}}, base_dir=tmp_path)
    return RunContext(config=cfg, run_dir=tmp_path / "run")


# The whole-pipeline study (pipeline and export tests).
E2E_VALUES = ["empathy", "humor"]


def e2e_study(tiny_model_dir: Path, **over) -> dict:
    """The whole-pipeline study of tests/pipeline/test_pipeline_e2e.py on the demo pairs (also exported by
    tests/export/test_export.py); `over` replaces top-level keys."""
    data = {
        "name": "e2e",
        "models": [{"name": str(tiny_model_dir), "label": "tiny"}],
        "values": E2E_VALUES,
        "sources": [{"kind": "generic", "path": DEMO_PAIRS, "label": "demo",
                     "columns": {"id": "id", "prompt": "prompt", "chosen": "chosen", "rejected": "rejected"}}],
        "curation": {"min_subset_size": 5, "heldout_fraction": 0.1},
        "training": {"method": "dpo", "max_steps": 4, "batch_size": 4, "learning_rate": 0.02, "max_length": 96,
                     "lora": {"r": 4, "alpha": 16}},
        "generation": {"max_new_tokens": 6, "batch_size": 8},
        "evaluation": {"suites": [{"name": "value_prompts", "limit": 4, "options": {"source": "heldout"}},
                                  {"name": "harmful_requests", "limit": 4}]},
    }
    data.update(over)
    return data


# A value extractor with fixed scores (calibration and report tests).
@functools.cache
def register_fixed_scores() -> type:
    """Register (once) and return the `test-fixed` value extractor: the empathy score read from the response
    text ("score=0.9"), every other value 0. Test modules that use it call this at import."""
    import numpy as np

    from valind.instruments.values.base import ValueExtractor, extractors

    @extractors.register("test-fixed")
    class FixedScores(ValueExtractor):
        """Empathy score read from the response text ("score=0.9"); every other value scores 0."""

        def score_batch(self, prompts, responses):
            out = np.zeros((len(responses), len(self.value_names)))
            for i, r in enumerate(responses):
                out[i, self.value_names.index("empathy")] = float(r.split("score=")[1])
            return out

    return FixedScores
