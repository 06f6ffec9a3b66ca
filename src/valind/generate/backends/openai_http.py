"""Any OpenAI-compatible chat-completions endpoint over HTTP (vLLM or TGI server, Ollama, a hosted API).

Requests run concurrently on one `httpx.AsyncClient`, at most `concurrency` at a
time. 429, 408, 5xx, connection errors and timeouts are retried with
exponential backoff and jitter (a `Retry-After` header is honoured); other
4xx fail at once. A LoRA adapter is chosen by sending its served name as the
`model` (how `vllm serve --lora-modules NAME=PATH` exposes adapters).

Secrets: the API key is read from the environment variable named by
`api_key_env`. It, and any user:password or query value in `base_url`, never
appear in this object's repr or options, in log lines (httpx's request log
included: a redacting filter is installed on its loggers) or in error
messages (`scrub`).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import os
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from ...errors import ConfigError, ValindError
from ...redact import RedactingFilter, redact_url, scrub  # noqa: F401 (scrub and redact_url: used by importers)
from ...redact import Secret as _Secret
from ...redact import remember_secret as _remember_secret
from .base import Completion, GenerationBackend, Messages, SamplingSettings, backends

log = logging.getLogger(__name__)

RETRY_STATUS = {408, 429}  # plus every 5xx
MAX_TOP_LOGPROBS = 20  # the OpenAI API's limit; vLLM servers accept more (option `max_top_logprobs`)


class BackendRequestError(ValindError):
    """Requests to the endpoint failed after all retries (the message carries no secret)."""


# ---------------------------------------------------------------- secrets (valind.redact)
_FILTER = RedactingFilter()
for _name in ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2",
              "httpcore.proxy", "httpcore.connection_pool", __name__):
    logging.getLogger(_name).addFilter(_FILTER)


# ---------------------------------------------------------------- the backend
@backends.register("openai")
class OpenAIHTTPBackend(GenerationBackend):
    """Chat completions from `{base_url}/chat/completions`, concurrently, with retries."""

    def __init__(self, model: str, *, base_url: str = "http://127.0.0.1:8000/v1", api_key_env: str | None = None,
                 concurrency: int = 8, max_retries: int = 4, timeout: float = 60.0, backoff_base: float = 0.5,
                 backoff_max: float = 30.0, max_retry_after: float = 120.0, on_error: str = "raise",
                 adapter_names: dict[str, str] | None = None, max_top_logprobs: int = MAX_TOP_LOGPROBS,
                 extra_body: dict | None = None, **options):
        if "api_key" in options:
            raise ConfigError("openai backend: do not put the API key in the config; set it in an environment "
                              "variable and name that variable with 'api_key_env'")
        if concurrency < 1 or max_retries < 0 or timeout <= 0:
            raise ConfigError("openai backend: concurrency >= 1, max_retries >= 0 and timeout > 0 are required")
        if on_error not in ("raise", "empty"):
            raise ConfigError("openai backend: on_error must be 'raise' or 'empty'")
        super().__init__(model, **options)
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"openai backend: base_url must be an http(s) URL, got {redact_url(base_url)!r}")
        _remember_secret(parts.username)
        _remember_secret(parts.password)
        for _, value in parse_qsl(parts.query, keep_blank_values=True):
            _remember_secret(value)
        key = None
        if api_key_env:
            key = os.environ.get(api_key_env)
            if not key:
                raise ConfigError(f"openai backend: environment variable {api_key_env} (api_key_env) is not set")
            _remember_secret(key)
        self._key = _Secret(key) if key else None
        self._url = _Secret(base_url)
        self.base_url = redact_url(base_url)  # for display and manifests
        self.api_key_env = api_key_env
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.timeout = float(timeout)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.on_error = on_error
        self.adapter_names = dict(adapter_names or {})
        self.max_top_logprobs = max_top_logprobs
        self.extra_body = dict(extra_body or {})
        self._rng = random.Random()

    def __repr__(self) -> str:
        return (f"OpenAIHTTPBackend(model={self.model!r}, base_url={self.base_url!r}, "
                f"api_key_env={self.api_key_env!r}, concurrency={self.concurrency})")

    # ---------------------------------------------------------------- public API
    def generate(self, conversations: Sequence[Messages], settings: SamplingSettings,
                 adapter: str | None = None) -> list[Completion]:
        def run():
            return asyncio.run(self._generate_all(list(conversations), settings, adapter))

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return run()
        with ThreadPoolExecutor(1) as pool:  # called from inside an event loop (a notebook): use a thread
            return pool.submit(run).result()

    # ---------------------------------------------------------------- internals
    def _endpoint(self) -> str:
        parts = urlsplit(self._url.reveal())
        path = parts.path.rstrip("/") + "/chat/completions"
        return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))

    def _body(self, conversation: Messages, settings: SamplingSettings, adapter: str | None) -> dict:
        body = {
            "model": self.adapter_names.get(adapter, adapter) if adapter else self.model,
            "messages": conversation,
            "max_tokens": settings.max_new_tokens,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "seed": settings.seed,
        }
        if settings.logprobs > 0:
            body["logprobs"] = True
            body["top_logprobs"] = min(settings.logprobs, self.max_top_logprobs)
        body.update(self.extra_body)
        return body

    async def _generate_all(self, conversations: list[Messages], settings: SamplingSettings,
                            adapter: str | None) -> list[Completion]:
        import httpx

        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        headers = {"Authorization": f"Bearer {self._key.reveal()}"} if self._key else {}
        gate = asyncio.Semaphore(self.concurrency)
        endpoint = self._endpoint()
        async with httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), limits=limits, headers=headers) as client:
            async def one(i: int) -> Completion | str:
                async with gate:
                    return await self._request(client, endpoint, i, self._body(conversations[i], settings, adapter))

            results = await asyncio.gather(*(one(i) for i in range(len(conversations))))
        errors = [(i, r) for i, r in enumerate(results) if isinstance(r, str)]
        if errors and self.on_error == "raise":
            i, first = errors[0]
            raise BackendRequestError(
                f"{len(errors)} of {len(results)} requests to {self.base_url} failed "
                f"(up to {self.max_retries + 1} attempts each); first (item {i}): {first}")
        return [Completion(text="", meta={"error": r}) if isinstance(r, str) else r for r in results]

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        delay = min(self.backoff_max, self.backoff_base * (2 ** attempt))
        return delay * (0.5 + 0.5 * self._rng.random())  # jitter: spread retries of concurrent requests

    async def _request(self, client, endpoint: str, item: int, body: dict) -> Completion | str:
        """One completion, or a (scrubbed) error message once retries are spent."""
        import httpx

        problem = "no attempt made"
        for attempt in range(self.max_retries + 1):
            retry_after = None
            try:
                response = await asyncio.wait_for(client.post(endpoint, json=body), timeout=self.timeout)
            except (asyncio.TimeoutError, httpx.TimeoutException):
                problem = f"timed out after {self.timeout:g} s"
            except httpx.TransportError as exc:  # connect errors, dropped connections
                problem = f"{type(exc).__name__}: {scrub(str(exc)) or 'connection failed'}"
            else:
                status = response.status_code
                if status == 200:
                    try:
                        return _completion(response.json(), attempt + 1)
                    except (ValueError, KeyError, IndexError, TypeError) as exc:
                        problem = f"malformed response body ({type(exc).__name__}): {scrub(response.text[:200])!r}"
                else:
                    problem = f"HTTP {status}: {scrub(response.text[:200])!r}"
                    if status not in RETRY_STATUS and status < 500:
                        return problem  # a client error: retrying would not help
                    retry_after = _retry_after(response.headers.get("retry-after"))
            if attempt < self.max_retries:
                wait = self._backoff(attempt, retry_after)
                log.warning("request %d: %s; retry %d/%d in %.2f s", item, problem, attempt + 1,
                            self.max_retries, wait)
                await asyncio.sleep(wait)
        return problem


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        seconds = float(value)
        return seconds if math.isfinite(seconds) else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _completion(data: dict, attempts: int) -> Completion:
    choice = data["choices"][0]
    text = choice["message"].get("content") or ""
    top = None
    content = (choice.get("logprobs") or {}).get("content")
    if content:
        top = []
        for position in content:
            alternatives = position.get("top_logprobs") or [position]
            options: dict[str, float] = {}
            for alt in alternatives:
                token, lp = alt["token"], float(alt["logprob"])
                options[token] = max(lp, options.get(token, -math.inf))
            top.append(options)
    return Completion(text=text, top_logprobs=top,
                      meta={"finish_reason": choice.get("finish_reason"), "usage": data.get("usage"),
                            "attempts": attempts})
