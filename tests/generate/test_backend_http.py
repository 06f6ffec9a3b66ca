"""The OpenAI-compatible HTTP backend against a stub server on 127.0.0.1 started by the test."""

from __future__ import annotations

import json
import logging

import pytest

from valind.errors import ConfigError
from valind.generate.backends.base import SamplingSettings, make_backend
from valind.generate.backends.openai_http import BackendRequestError, _retry_after, redact_url, scrub

from tests.conftest import StubServer


def convs(n: int, prefix: str = "q"):
    return [[{"role": "user", "content": f"{prefix}{i}"}] for i in range(n)]


FAST = dict(backoff_base=0.01, backoff_max=0.05)


def test_completions_in_input_order_with_logprobs_and_adapter_as_model():
    with StubServer(delay=0.01) as server:
        backend = make_backend("openai", "base-model", base_url=server.url, concurrency=4,
                               adapter_names={"/runs/a/empathy": "empathy-lora"})
        out = backend.generate(convs(12), SamplingSettings(max_new_tokens=5, logprobs=2))
        assert [c.text for c in out] == [f"echo:q{i}" for i in range(12)]
        assert out[0].top_logprobs == [{"yes": -0.1, "no": -2.5}]
        body = server.requests[0]["body"]
        assert server.requests[0]["path"] == "/v1/chat/completions"
        assert body["model"] == "base-model" and body["max_tokens"] == 5 and body["temperature"] == 0.0
        assert body["logprobs"] is True and body["top_logprobs"] == 2
        backend.generate(convs(1), SamplingSettings(), adapter="/runs/a/empathy")
        backend.generate(convs(1), SamplingSettings(), adapter="other-served-name")
        assert [r["body"]["model"] for r in server.requests[-2:]] == ["empathy-lora", "other-served-name"]
        assert "logprobs" not in server.requests[-1]["body"]


def test_concurrency_bound_holds():
    with StubServer(delay=0.15) as server:
        backend = make_backend("openai", "m", base_url=server.url, concurrency=3)
        out = backend.generate(convs(15), SamplingSettings())
        assert len(out) == 15 and len(server.requests) == 15
        assert server.max_in_flight <= 3
        assert server.max_in_flight >= 2  # requests did overlap: the bound is a bound, not serialisation


@pytest.mark.parametrize("status", [429, 500, 503])
def test_429_and_5xx_are_retried(status):
    def behaviour(n, body):
        return (status, {"Retry-After": "0"}, {"error": "busy"}) if n < 2 else (200, {}, None)

    with StubServer(behaviour) as server:
        backend = make_backend("openai", "m", base_url=server.url, max_retries=3, **FAST)
        (out,) = backend.generate(convs(1), SamplingSettings())
        assert out.text == "echo:q0"
        assert out.meta["attempts"] == 3 and len(server.requests) == 3


def test_retry_after_is_honoured():
    def behaviour(n, body):
        return (429, {"Retry-After": "0.3"}, {"error": "slow down"}) if n == 0 else (200, {}, None)

    with StubServer(behaviour) as server:
        backend = make_backend("openai", "m", base_url=server.url, max_retries=2, backoff_base=0.0, backoff_max=0.0)
        backend.generate(convs(1), SamplingSettings())
        gap = server.requests[1]["time"] - server.requests[0]["time"]
        assert gap >= 0.29  # waited what the server asked, although the backoff settings say 0


def test_retry_after_parsing():
    assert _retry_after("2") == 2.0
    assert _retry_after("nonsense") is None and _retry_after(None) is None
    assert 0 <= _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") <= 0.0  # a date in the past: no wait


def test_client_errors_are_not_retried():
    with StubServer(lambda n, body: (400, {}, {"error": "bad request"})) as server:
        backend = make_backend("openai", "m", base_url=server.url, max_retries=3, **FAST)
        with pytest.raises(BackendRequestError, match="HTTP 400"):
            backend.generate(convs(1), SamplingSettings())
        assert len(server.requests) == 1


def test_retries_give_up_and_report():
    with StubServer(lambda n, body: (500, {}, {"error": "down"})) as server:
        backend = make_backend("openai", "m", base_url=server.url, max_retries=2, **FAST)
        with pytest.raises(BackendRequestError, match=r"1 of 1 requests .* failed .*HTTP 500"):
            backend.generate(convs(1), SamplingSettings())
        assert len(server.requests) == 3


def test_hanging_request_times_out_is_retried_then_reported():
    def behaviour(n, body):
        return (200, {}, "hang") if body["messages"][-1]["content"] == "q1" else (200, {}, None)

    with StubServer(behaviour) as server:
        # timeouts of 1 s: long enough that the quick requests never hit them on a loaded machine
        backend = make_backend("openai", "m", base_url=server.url, timeout=1.0, max_retries=1, **FAST)
        with pytest.raises(BackendRequestError, match="1 of 3 requests.*item 1.*timed out after 1 s"):
            backend.generate(convs(3), SamplingSettings())
        hung = [r for r in server.requests if r["body"]["messages"][-1]["content"] == "q1"]
        assert len(hung) == 2  # the first try and one retry

        tolerant = make_backend("openai", "m", base_url=server.url, timeout=1.0, max_retries=0, on_error="empty")
        out = tolerant.generate(convs(3), SamplingSettings())
        assert [c.text for c in out] == ["echo:q0", "", "echo:q2"]
        assert "timed out" in out[1].meta["error"]


def test_connection_refused_is_retried_then_reported():
    with StubServer() as server:
        url = server.url
    backend = make_backend("openai", "m", base_url=url, max_retries=1, timeout=2, **FAST)  # nothing listens now
    with pytest.raises(BackendRequestError, match="ConnectError"):
        backend.generate(convs(1), SamplingSettings())


def test_config_errors():
    with pytest.raises(ConfigError, match="VALIND_TEST_MISSING_KEY"):
        make_backend("openai", "m", api_key_env="VALIND_TEST_MISSING_KEY")
    with pytest.raises(ConfigError, match="api_key_env"):
        make_backend("openai", "m", api_key="sk-inline")
    with pytest.raises(ConfigError, match="http"):
        make_backend("openai", "m", base_url="ftp://example/v1")


KEY = "sk-test-KEY-5f3a9c1e77"
URL_TOKEN = "urltok-9d8e7f6a5b"


def test_api_key_never_leaks(monkeypatch, caplog):
    """The key from the environment and a token in the URL reach the server, and nothing else."""
    monkeypatch.setenv("VALIND_TEST_API_KEY", KEY)
    caplog.set_level(logging.DEBUG)

    def behaviour(n, body):
        content = body["messages"][-1]["content"]
        if content == "fail":  # a server that echoes what it got in its error body
            return 401, {}, {"error": f"bad key {KEY} for ?api_key={URL_TOKEN}"}
        if content == "flaky" and n % 2 == 0:
            return 500, {}, {"error": f"oops {KEY}"}
        return 200, {}, None

    with StubServer(behaviour) as server:
        url = server.url + f"?api_key={URL_TOKEN}"
        backend = make_backend("openai", "m", base_url=url, api_key_env="VALIND_TEST_API_KEY", max_retries=2,
                               timeout=5, **FAST)
        out = backend.generate([[{"role": "user", "content": "flaky"}], [{"role": "user", "content": "ok"}]],
                               SamplingSettings())
        assert [c.text for c in out] == ["echo:flaky", "echo:ok"]
        with pytest.raises(BackendRequestError) as caught:
            backend.generate([[{"role": "user", "content": "fail"}]], SamplingSettings())

        # the secrets were really used ...
        assert server.requests[0]["headers"]["Authorization"] == f"Bearer {KEY}"
        assert server.requests[0]["query"] == {"api_key": [URL_TOKEN]}
        # ... and appear nowhere else
        from valind.instruments.values.base import make_extractor
        from valind.values import builtin_values

        extractor = make_extractor("llm", list(builtin_values().values()), backend="openai", base_url=url,
                                   api_key_env="VALIND_TEST_API_KEY")
        exc = caught.value
        places = {
            "logs": caplog.text + "\n".join(r.getMessage() for r in caplog.records),
            "exception": f"{exc}\n{exc!r}\n{exc.args}",
            "repr": repr(backend) + str(vars(backend)),
            "options": json.dumps(backend.options, default=str),
            "fingerprint": extractor.fingerprint(),
        }
        assert "HTTP Request" in places["logs"]  # httpx did log its requests (redacted)
        assert "HTTP 401" in places["exception"]
        for where, text in places.items():
            assert KEY not in text, where
            assert URL_TOKEN not in text, where


def test_redaction_helpers():
    assert redact_url("https://user:pw@host:8443/v1?key=abc&x=1") == "https://***@host:8443/v1?key=***&x=***"
    text = scrub("GET https://u:p@h/x?access_token=zzz9 Authorization: Bearer abc.def")
    assert "u:p" not in text and "zzz9" not in text and "abc.def" not in text
