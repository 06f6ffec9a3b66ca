"""Secrets never reach a file or a log: config redaction, URL redaction, and scrubbing of log text.

The bottom layer: imports nothing of valind, so the config, the backends and the loggers can all use it.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

REDACTED = "***"
# Keys whose values are secrets wherever they appear in a config (`*_env` keys name a variable: kept).
_SECRET_KEY = re.compile(r"(?i)^(?:.*[_-])?(?:api[_-]?key|key|token|secret|password|passwd|credentials?|auth|authorization)$")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]+")

_SECRETS: set[str] = set()  # every secret a backend in this process was given, for redaction
_SECRETS_LOCK = threading.Lock()
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/@\s]*@")
_TOKEN_PARAM = re.compile(r"(?i)([?&](?:[a-z0-9_\-]*(?:key|token|secret|password|passwd|sig|signature|auth)[a-z0-9_\-]*)=)[^&#\s'\"]+")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]+")


class Secret:
    """Holds a secret string; its repr and str never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


def remember_secret(value: str | None) -> None:
    """Add a secret this process was given (an API key, URL credentials) to what `scrub` removes."""
    if value and len(value) >= 3:
        with _SECRETS_LOCK:
            _SECRETS.add(value)


def scrub(text: str) -> str:
    """`text` with known secrets, URL userinfo, token-like query values and bearer tokens replaced by ***."""
    out = str(text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        out = out.replace(secret, REDACTED)
    out = _USERINFO.sub(r"\1***@", out)
    out = _TOKEN_PARAM.sub(r"\1***", out)
    return _BEARER.sub(r"\1***", out)


def redact_url(url: str) -> str:
    """The URL with its user:password and every query value replaced by *** (safe to log or record)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = "&".join(f"{k}=***" for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_secrets(data: Any) -> Any:
    """A copy of config data safe to write or show: secret-named fields, URL userinfo and URL query values -> ***."""
    if isinstance(data, dict):
        return {k: (REDACTED if isinstance(k, str) and _SECRET_KEY.match(k) and not k.lower().endswith("_env")
                    and data[k] not in (None, "") else redact_secrets(v)) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [redact_secrets(v) for v in data]
    if isinstance(data, str) and "://" in data:
        return _URL.sub(lambda m: redact_url(m.group(0)), data)
    return data


class RedactingFilter(logging.Filter):
    """Rewrites log records that would show a secret (httpx logs every request URL at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is not ours to fix
            return True
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True
