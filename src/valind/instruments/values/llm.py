"""The study's extractor: an instruct LLM lists the values a response expresses, as strict JSON.

Two passes (docs/backends.md has the full description):

1. Listing. The model reads the prompt template (the value definitions, the
   user's request, the response) and answers `{"values": [...]}`, parsed by
   `valind.instruments.values.parse` rules. A rejected reply is retried up to
   `max_retries` times, each retry showing the model its reply and why it was
   rejected (sampled at `retry_temperature`). If every attempt is rejected the
   item is a failure: all scores 0, the reason and the raw reply kept in
   `failures()`; nothing is guessed.
2. Probabilities (`scoring`: "listing", the default, skips this pass: curation
   needs only which values are listed; "auto" runs it when the backend returns
   token log-probabilities, "probability" requires them). For each listed item
   and each value the model is asked a yes/no question; p = P(yes) / (P(yes) +
   P(no)) read from the top log-probabilities of the first answer token. The
   score is 0.5 * listed + 0.5 * p: the listing decides which side of 0.5 a
   value falls on, p ranks within each side (so average precision is
   meaningful). Without probabilities the score is 1.0 if listed, else 0.0.

Prompts are ordered for prefix caching (vLLM's is on): the listing prompt opens
with the value definitions, the same for every call; each yes/no prompt opens
with the conversation and the response and asks about the value last, so the
15 questions about one response share everything but their last lines.
`usage` counts the calls and prompt characters of the last `score_batch`
(the extract stage records them per pair).

Open mode (`open_values`, the study's way of listing): "only" asks for the values in the model's own
words, without the list (prompt value_extraction_open.txt); "also" shows the list and asks for any
other value in the model's own words too (value_extraction_also.txt). A listed name outside the
defined values is normalised and mapped onto them where it matches one (valind.instruments.values.open:
spelling variants, or MiniLM similarity >= `open_map_threshold`), which sets that value's score as if
it had been listed by name; otherwise it is kept as a free value. `open_listed()` gives each item's
names outside the defined values (normalised, before mapping); `mapper` says where each landed.
"""

from __future__ import annotations

import json
import math

from pathlib import Path
from string import Template
from typing import Sequence

import numpy as np

from ...errors import ConfigError
from .. import instrument_file
from ...generate.backends.base import GenerationBackend, SamplingSettings, make_backend
from ...values import Value
from .base import ValueExtractor, extractors
from .open import MAP_THRESHOLD, ValueMapper
from .parse import ParseResult, build_lookup, parse_values

DEFAULT_MODEL = "embedded:smollm2-135m-instruct"
SCORING_MODES = ("auto", "probability", "listing")
OPEN_MODES = ("off", "also", "only")
_TEMPLATES = {"off": "value_extraction.txt", "also": "value_extraction_also.txt", "only": "value_extraction_open.txt"}
_NO_PROMPT = "(no request given)"


def _read_template(path: str | None, default_name: str, required: set[str]) -> str:
    if path:
        p = Path(path).expanduser()
        if not p.is_file():
            raise ConfigError(f"extractor.options: template file not found: {p}")
        text = p.read_text(encoding="utf-8")
        source = str(p)
    else:
        text = instrument_file("values", "prompts", default_name).read_text(encoding="utf-8")
        source = f"valind/instruments/values/data/prompts/{default_name}"
    missing = required - set(Template(text).get_identifiers())
    if missing:
        raise ConfigError(f"{source}: the prompt template lacks the placeholder(s) "
                          + ", ".join(f"${m}" for m in sorted(missing)))
    return text


def _clip(text: str | None, limit: int, keep_end: bool = False) -> str:
    """Text cut to `limit` characters: a response keeps its start, a conversation its end (the latest turns)."""
    if text is None or not str(text).strip():
        return _NO_PROMPT
    text = str(text)
    if len(text) <= limit:
        return text
    return "[...] " + text[len(text) - limit:] if keep_end else text[:limit] + " [...]"


def _token_word(token: str) -> str:
    return token.strip().strip(".,:;!?'\"*`()").casefold()


def yes_probability(top_logprobs: list[dict[str, float]] | None) -> float | None:
    """P(yes) / (P(yes) + P(no)) at the first answer position whose likeliest token is not blank.

    Token variants (" Yes", "yes", "YES.") are summed. When only one of the two words is among
    the alternatives, the other is given the most probability it can have without being listed
    (the smaller of the least likely listed token and the mass outside the list), so a missing
    "no" lowers P(yes) below 1 instead of making it certain. None when the position offers neither
    word, or no probabilities were given.
    """
    for position in top_logprobs or []:
        if not position:
            continue
        likeliest = max(position, key=position.get)
        if not _token_word(likeliest):
            continue  # whitespace or punctuation before the answer word
        probs = {tok: math.exp(lp) for tok, lp in position.items()}
        yes = sum(p for tok, p in probs.items() if _token_word(tok) == "yes")
        no = sum(p for tok, p in probs.items() if _token_word(tok) == "no")
        if yes + no == 0:
            return None
        unlisted = min(min(probs.values()), max(0.0, 1.0 - sum(probs.values())))
        if no == 0:
            no = unlisted
        elif yes == 0:
            yes = unlisted
        return yes / (yes + no) if yes + no > 0 else None
    return None


@extractors.register("llm")
class LLMExtractor(ValueExtractor):
    """Lists values with an instruct LLM through any generation backend; see the module docstring."""

    offline = False

    def __init__(self, values: Sequence[Value], thresholds: dict[str, float] | None = None, *,
                 backend: str = "transformers", model: str = DEFAULT_MODEL, template: str | None = None,
                 yes_no_template: str | None = None, max_retries: int = 2, batch_size: int = 16,
                 scoring: str = "listing", max_new_tokens: int = 96, temperature: float = 0.0,
                 retry_temperature: float = 0.7, top_logprobs: int = 20, max_chars: int = 6000,
                 synonyms: dict[str, str] | None = None, open_values: str = "off",
                 open_map_threshold: float = MAP_THRESHOLD, backend_options: dict | None = None,
                 **extra_backend_options):
        if scoring not in SCORING_MODES:
            raise ConfigError(f"extractor.options.scoring: '{scoring}' is not one of {', '.join(SCORING_MODES)}")
        if max_retries < 0 or batch_size < 1 or max_new_tokens < 1:
            raise ConfigError("extractor.options: max_retries >= 0, batch_size >= 1 and max_new_tokens >= 1 are required")
        if open_values not in OPEN_MODES:
            raise ConfigError(f"extractor.open_values: '{open_values}' is not one of {', '.join(OPEN_MODES)}")
        if not 0.0 < float(open_map_threshold) <= 1.0:
            raise ConfigError(f"extractor.open_values.map_threshold: {open_map_threshold} is not in (0, 1]")
        backend_opts = {**(backend_options or {}), **extra_backend_options}
        super().__init__(values, thresholds, backend=backend, model=model, template=template,
                         yes_no_template=yes_no_template, max_retries=max_retries, batch_size=batch_size,
                         scoring=scoring, max_new_tokens=max_new_tokens, temperature=temperature,
                         retry_temperature=retry_temperature, top_logprobs=top_logprobs, max_chars=max_chars,
                         synonyms=dict(synonyms or {}), open_values=open_values,
                         open_map_threshold=float(open_map_threshold), backend_options=backend_opts)
        self.open_mode = open_values
        self.open_ended = open_values != "off"
        self.list_template = _read_template(template, _TEMPLATES[open_values],
                                            {"response"} if open_values == "only" else {"values", "response"})
        self.yes_no_template = _read_template(yes_no_template, "value_yes_no.txt", {"value", "response"})
        self.lookup = build_lookup(self.value_names, synonyms)
        self.mapper = ValueMapper(self.value_names, self.lookup, float(open_map_threshold)) if self.open_ended else None
        self._open: list[list[str] | None] = []
        self.max_retries = max_retries
        self.batch_size = batch_size
        self.scoring = scoring
        self.backend_name = backend
        self.backend_options = backend_opts
        self.model_name = model
        self._backend: GenerationBackend | None = None
        self._probabilities_available: bool | None = None  # learnt from the first yes/no pass
        self._failures: list[str | None] = []
        self.attempts: list[list[str]] = []  # raw replies per item of the last batch, every attempt
        self.usage = {"responses": 0, "listing_calls": 0, "yes_no_calls": 0, "prompt_chars": 0}

    # ---------------------------------------------------------------- plumbing
    @property
    def backend(self) -> GenerationBackend:
        """The generation backend, created on first use (so building the extractor loads no model)."""
        if self._backend is None:
            self._backend = make_backend(self.backend_name, self.model_name, **self.backend_options)
        return self._backend

    def fingerprint(self) -> str:
        from ...generate.backends.openai_http import redact_url

        options = json.loads(json.dumps(self.options, default=str))
        for key in ("base_url",):
            if key in options["backend_options"]:
                options["backend_options"][key] = redact_url(str(options["backend_options"][key]))
        defs = [(v.name, v.definition, list(v.exemplars)) for v in self.values]
        return json.dumps({"extractor": self.registry_name, "options": options, "values": defs,
                           "templates": [self.list_template, self.yes_no_template]}, sort_keys=True)

    def failures(self) -> list[str | None]:
        return list(self._failures)

    def open_listed(self) -> list[list[str] | None]:
        """Open mode: per item of the last `score_batch`, the listed names outside the defined values
        (normalised, before mapping; None for a failure). Empty lists when open mode is off."""
        return list(self._open)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None
        super().close()

    # ---------------------------------------------------------------- prompts
    def listing_prompt(self, prompt: str | None, response: str) -> str:
        limit = self.options["max_chars"]
        block = "\n".join(f"- {v.name}: {' '.join(v.definition.split())}" for v in self.values)
        return Template(self.list_template).safe_substitute(values=block, prompt=_clip(prompt, limit, keep_end=True),
                                                            response=_clip(response, limit))

    def yes_no_prompt(self, value: Value, prompt: str | None, response: str) -> str:
        limit = self.options["max_chars"]
        return Template(self.yes_no_template).safe_substitute(
            value=value.name, definition=" ".join(value.definition.split()),
            prompt=_clip(prompt, limit, keep_end=True), response=_clip(response, limit))

    def _retry_conversation(self, first_message: str, reply: str, reason: str) -> list[dict]:
        ask = ('JSON object such as {"values": ["empathy"]}, using only the value names listed above.'
               if not self.open_ended else
               'JSON object such as {"values": ["patience", "respect for autonomy"]}, each value named in one to '
               'three words.')
        return [
            {"role": "user", "content": first_message},
            {"role": "assistant", "content": reply[:2000]},
            {"role": "user", "content": f"That reply could not be used ({reason}). Answer again with only one " + ask},
        ]

    # ---------------------------------------------------------------- passes
    def _list_values(self, prompts: Sequence[str | None], responses: Sequence[str]) -> list[ParseResult]:
        """Pass 1: the parsed listing per item (the last attempt's result), retrying rejected replies."""
        first = [self.listing_prompt(p, r) for p, r in zip(prompts, responses)]
        last: list[ParseResult | None] = [None] * len(first)
        attempts: list[list[str]] = [[] for _ in first]
        pending = list(range(len(first)))
        for attempt in range(self.max_retries + 1):
            if not pending:
                break
            if attempt == 0:
                conversations = [[{"role": "user", "content": first[i]}] for i in pending]
                temperature = self.options["temperature"]
            else:
                conversations = [self._retry_conversation(first[i], last[i].raw, last[i].error) for i in pending]
                temperature = self.options["retry_temperature"]
            settings = SamplingSettings(max_new_tokens=self.options["max_new_tokens"], temperature=temperature,
                                        seed=attempt)
            self._count("listing_calls", conversations)
            outputs = self.backend.generate(conversations, settings)
            still = []
            for i, out in zip(pending, outputs):
                result = parse_values(out.text, self.value_names, lookup=self.lookup, open_ended=self.open_ended)
                if out.meta.get("error") and not out.text:
                    result.error = f"backend error: {out.meta['error']}"
                attempts[i].append(out.text)
                last[i] = result
                if not result.ok:
                    still.append(i)
            pending = still
        self.attempts = attempts
        return last  # type: ignore[return-value]

    def _yes_no(self, prompts: Sequence[str | None], responses: Sequence[str], items: list[int]) -> np.ndarray:
        """Pass 2: P(yes) per (item, value) for `items`; NaN where the backend gave no usable probability."""
        probs = np.full((len(responses), len(self.values)), np.nan)
        if not items or self.scoring == "listing" or self._probabilities_available is False:
            return probs
        conversations = [[{"role": "user", "content": self.yes_no_prompt(v, prompts[i], responses[i])}]
                         for i in items for v in self.values]
        settings = SamplingSettings(max_new_tokens=3, temperature=0.0, logprobs=self.options["top_logprobs"])
        self._count("yes_no_calls", conversations)
        outputs = self.backend.generate(conversations, settings)
        if all(out.top_logprobs is None for out in outputs):
            if self.scoring == "probability":
                raise ConfigError(f"extractor.options.scoring: 'probability' needs token log-probabilities, "
                                  f"which backend '{self.backend_name}' did not return")
            self._probabilities_available = False
            return probs
        self._probabilities_available = True
        k = len(self.values)
        for n, out in enumerate(outputs):
            p = yes_probability(out.top_logprobs)
            if p is not None:
                probs[items[n // k], n % k] = p
        return probs

    def _count(self, kind: str, conversations: list[list[dict]]) -> None:
        self.usage[kind] += len(conversations)
        self.usage["prompt_chars"] += sum(len(m["content"]) for c in conversations for m in c)

    def score_batch(self, prompts: Sequence[str | None], responses: Sequence[str]) -> np.ndarray:
        prompts = list(prompts) if prompts is not None else [None] * len(responses)
        responses = list(responses)
        self.usage = {"responses": len(responses), "listing_calls": 0, "yes_no_calls": 0, "prompt_chars": 0}
        scores = np.zeros((len(responses), len(self.values)))
        failures: list[str | None] = [None] * len(responses)
        open_listed: list[list[str] | None] = [[] for _ in responses]
        all_attempts: list[list[str]] = []
        for start in range(0, len(responses), self.batch_size):
            sub_p, sub_r = prompts[start:start + self.batch_size], responses[start:start + self.batch_size]
            listed = self._list_values(sub_p, sub_r)
            all_attempts.extend(self.attempts)
            ok = [i for i, res in enumerate(listed) if res.ok]
            probs = self._yes_no(sub_p, sub_r, ok)
            for i, res in enumerate(listed):
                if not res.ok:
                    n = len(self.attempts[i])
                    failures[start + i] = f"{res.error} (after {n} attempt{'s' * (n > 1)}); raw reply: {res.raw}"
                    open_listed[start + i] = None
                    continue
                listed = set(res.values)
                if self.open_ended:  # a free name that maps onto a defined value counts as listing it
                    open_listed[start + i] = list(res.free or [])
                    listed |= {m.value for m in self.mapper.map(res.free or []) if m.value}
                indicator = np.array([1.0 if name in listed else 0.0 for name in self.value_names])
                p = probs[i]
                scores[start + i] = np.where(np.isnan(p), indicator, 0.5 * indicator + 0.5 * np.nan_to_num(p))
        self._failures = failures
        self._open = open_listed
        self.attempts = all_attempts
        return np.clip(scores, 0.0, 1.0)
