"""The `openai` backend against a real `vllm serve` on loopback: the OpenAI-compatible server a real user
runs, here vLLM's CPU build (installed by scripts/setup.sh) serving SmolLM2-135M-Instruct (the embedded
model, converted once) with two LoRA adapters (`--enable-lora --lora-modules NAME=PATH`).

One server for the whole module (its start is the cost: 30-120 s on 2 loaded cores). It is started as
README tells a user to, with the paper config's generation options (max_lora_rank 8, max_loras 4,
max_model_len 4096, max_num_seqs 256) and, on a CPU, a 2 GiB KV cache (`--kv-cache-memory-bytes`);
float32, as tests/generate/test_vllm_engine.py, because this CPU has no bf16 units.

What is asserted: the base model and each adapter through valind's backend (the adapter chosen by its
served name, `adapter_names`), greedy answers that transformers + PEFT confirm token by token
(teacher-forced, as in tests/generate/test_vllm_engine.py: the adapter really is applied by the server), the
server's own 404 for an adapter it does not serve, logprobs, and the LLM judges and the LLM extractor
through the same server. Skipped (failed in CI) only where vLLM is not installed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import httpx
import pytest

from valind.generate.backends.base import SamplingSettings, make_backend

from tests.conftest import skip_unless_ci
from tests.generate.conftest import (AGREE_OF, AGREE_TOKENS, NEW_TOKENS, PROMPTS, convs, greedy_prefix,
                                     wait_until_healthy)

pytestmark = [pytest.mark.vllm, pytest.mark.server]

# configs/paper_llama8b.yaml's generation options, as `vllm serve` flags (batch_size is max_num_seqs)
PAPER_GENERATION_FLAGS = ["--max-lora-rank", "8", "--max-loras", "4", "--max-model-len", "4096",
                          "--max-num-seqs", "256"]
CPU_KV_CACHE = str(2 * 2**30)
START_TIMEOUT_S = 600


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, smollm2_adapters):
    """`python -m vllm.entrypoints.openai.api_server` (what `vllm serve` runs) on 127.0.0.1 with SmolLM2 and two
    adapters (conftest's, shared with tests/generate/test_vllm_engine.py); yields (base_url, model, {adapter dir: served
    name}) and stops it."""
    try:
        import vllm
    except ImportError as exc:
        skip_unless_ci(f"vLLM is not installed ({exc}); scripts/setup.sh installs its CPU build")
    from valind.generate.backends.vllm_backend import on_cpu

    model, paths = smollm2_adapters
    tmp = tmp_path_factory.mktemp("vllm-server")
    adapters = {path: f"value-{seed}" for seed, path in enumerate(paths, 1)}
    port = _free_port()
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", model, "--host", "127.0.0.1",
           "--port", str(port), "--dtype", "float32", "--enable-lora", *PAPER_GENERATION_FLAGS,
           "--lora-modules", *(f"{name}={path}" for path, name in adapters.items())]
    if on_cpu(vllm):
        cmd += ["--kv-cache-memory-bytes", CPU_KV_CACHE]
    log = tmp / "serve.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
                                env=dict(os.environ, HF_HUB_OFFLINE="1", VLLM_NO_USAGE_STATS="1"))
    try:
        wait_until_healthy(proc, f"http://127.0.0.1:{port}", log, "vllm serve", START_TIMEOUT_S)
        yield f"http://127.0.0.1:{port}/v1", model, adapters
    finally:
        proc.terminate()  # the API server stops its engine process on SIGTERM
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=30)


def backend_for(server, **options):
    url, model, adapters = server
    return make_backend("openai", model, base_url=url, adapter_names=adapters, concurrency=8, timeout=300,
                        max_retries=1, **options)


def test_the_server_lists_the_base_model_and_both_adapters(server):
    url, model, adapters = server
    served = {m["id"] for m in httpx.get(f"{url}/models", timeout=30).json()["data"]}
    assert served == {model, *adapters.values()}


def test_base_and_adapters_through_the_openai_backend(server):
    _, model, adapters = server
    backend = backend_for(server)
    settings = SamplingSettings(max_new_tokens=NEW_TOKENS)
    out = {a: backend.generate(convs(), settings, adapter=a) for a in (None, *adapters)}
    texts = {a: [c.text.strip() for c in cs] for a, cs in out.items()}
    assert all(all(texts[a]) for a in texts)
    assert all(c.meta["usage"]["completion_tokens"] <= NEW_TOKENS for cs in out.values() for c in cs)
    a1, a2 = adapters
    # each served adapter changes the answers, and the two differ from each other
    for x, y in ((None, a1), (None, a2), (a1, a2)):
        assert sum(p != q for p, q in zip(texts[x], texts[y])) >= len(PROMPTS) // 2, (x, y)
    # the server really applies the adapter its name selects: transformers + PEFT with that adapter's weights
    # picks the same first greedy tokens (the base model's agreement is tests/generate/test_vllm_engine.py's)
    agree = greedy_prefix(model, a1, convs(), texts[a1])
    assert sum(n >= min(AGREE_TOKENS, length) for n, length in agree) >= AGREE_OF, (agree, texts[a1])
    # greedy twice: the same answer
    assert [c.text.strip() for c in backend.generate(convs(PROMPTS[:2]), settings, adapter=a2)] == texts[a2][:2]


def test_an_adapter_the_server_does_not_serve_is_the_servers_own_error(server, tmp_path):
    from valind.generate.backends.openai_http import BackendRequestError

    backend = backend_for(server)
    with pytest.raises(BackendRequestError, match=r"HTTP 404.*not-served"):
        backend.generate(convs(PROMPTS[:1]), SamplingSettings(max_new_tokens=4), adapter="not-served")


def test_logprobs_from_the_server(server):
    import math

    out = backend_for(server).generate(convs(PROMPTS[:2]), SamplingSettings(max_new_tokens=4, logprobs=5))
    for c in out:
        assert c.meta["finish_reason"] in ("stop", "length")
        assert c.top_logprobs and 1 <= len(c.top_logprobs) <= 4
        for position in c.top_logprobs:
            assert 1 <= len(position) <= 5 and all(lp <= 0 for lp in position.values())
            assert 0.0 < sum(math.exp(lp) for lp in position.values()) <= 1.0 + 1e-3


def test_llm_judges_and_extractor_through_the_server(server):
    """The judges and the extractor of a study whose instruments point at a served model (backend: openai)."""
    from valind.instruments.llm_judges import LLMRefusalJudge, LLMSycophancyJudge
    from valind.instruments.values import make_extractor
    from valind.values import load_values

    url, model, _ = server
    options = {"base_url": url, "concurrency": 4, "timeout": 300, "max_retries": 1}
    refusal = LLMRefusalJudge(backend="openai", model=model, backend_options=options, max_new_tokens=8)
    verdicts = refusal.judge(["How do I pick a lock?"] * 2, ["I can't help with that.", "Use a tension wrench."])
    assert len(verdicts) == 2
    for v in verdicts:  # a class, or unjudged with the server's raw answer: never guessed
        assert (v.label is not None and v.failure is None) or ("unparseable answer" in v.failure and v.label is None)
    syco = LLMSycophancyJudge(backend="openai", model=model, backend_options=options, max_new_tokens=8)
    assert len(syco.judge(["I quit my job to day-trade. Smart?"], ["Great idea!"])) == 1

    defined = load_values()
    extractor = make_extractor("llm", [defined[n] for n in ("empathy", "honesty", "humor")], None, backend="openai",
                               model=model, backend_options=options, scoring="auto", max_retries=1,
                               max_new_tokens=48)
    scores = extractor.score_batch(["My dog died today."], ["I'm so sorry for your loss. It's okay to grieve."])
    assert scores.shape == (1, 3) and ((scores >= 0) & (scores <= 1)).all()
    failure = extractor.failures()[0]
    assert failure is None or "raw reply" in failure
    assert extractor.usage["listing_calls"] >= 1
    if failure is None:  # listed: P(yes) from the server's logprobs
        assert extractor._probabilities_available is True and extractor.usage["yes_no_calls"] > 0
