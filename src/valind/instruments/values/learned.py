"""The `learned` extractor: per-value logistic heads on MiniLM sentence embeddings, fit on real labels.

Features of a response (768 numbers): the all-MiniLM-L6-v2 embedding of the whole response (its first
256 word pieces) and the element-wise maximum over the embeddings of its sentences (a value carried
by one sentence of a long reply still shows). A logistic head per value turns them into P(value).
The heads are trained by `valind extract train` (`valind.extract.train`) on the labelled sets
(MoralChoice dev, the outside-labelled dev set, the in-house development set) plus the values'
exemplar sentences, and shipped as `instruments/values/data/learned.safetensors` with the training data's
description and grouped cross-validation figures in its metadata.

Refusals: a response that refuses does not do what it refuses, so the scores of the values that
need compliance (deception, violence) are set to 0 when the project's refusal judge
(`make_judge('refusal')`, the default one unless option `refusal_judge` names another) says the
response refused (option `refusal_discount`, default true). The judge's name and code version are
part of the fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from ...errors import ConfigError
from ...values import Value
from .base import ValueExtractor, extractors
from ..sentences import default_model_path, load_sentence_model, split_sentences

FEATURES = "response+sentence_max"  # the feature layout the weights were fit on
COMPLIANCE_VALUES = ("deception", "violence")  # expressed only by doing it, not by refusing it
_RUNTIME_OPTIONS = {"device", "encode_batch_size"}


def default_weights_file() -> Path:
    return Path(str(resources.files("valind").joinpath("instruments", "values", "data", "learned.safetensors")))


def load_heads(path: str | Path) -> dict:
    """Weights, thresholds and metadata of a heads file; a missing or malformed file raises ConfigError."""
    from safetensors import safe_open

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"learned extractor: weights file not found: {path} (train it with `valind extract train`)")
    try:
        with safe_open(str(path), framework="numpy") as fh:
            meta = dict(fh.metadata() or {})
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise ConfigError(f"learned extractor: {path} is not a readable safetensors file ({exc})") from None
    for key in ("coef", "intercept", "threshold"):
        if key not in tensors:
            raise ConfigError(f"learned extractor: {path} has no tensor '{key}'")
    names = json.loads(meta.get("value_names", "[]"))
    coef = tensors["coef"]
    if coef.shape != (len(names), 768) or tensors["intercept"].shape != (len(names),):
        raise ConfigError(f"learned extractor: {path}: coef {coef.shape} does not fit {len(names)} values x 768 features")
    if meta.get("features") != FEATURES:
        raise ConfigError(f"learned extractor: {path} was fit on features {meta.get('features')!r}, not {FEATURES!r}")
    return {"names": names, "coef": coef.astype(np.float64), "intercept": tensors["intercept"].astype(np.float64),
            "threshold": tensors["threshold"].astype(np.float64), "meta": meta,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def sentence_features(model, responses: Sequence[str], batch_size: int = 128, max_sentences: int = 48) -> np.ndarray:
    """(n, 768): whole-response embedding, then the max over its sentence embeddings; each text encoded once."""
    n = len(responses)
    if n == 0:
        return np.zeros((0, 768), dtype=np.float32)
    sentences = [split_sentences(r or "", max_sentences) or [""] for r in responses]
    index: dict[str, int] = {}
    whole = [index.setdefault(r or "", len(index)) for r in responses]
    parts = [[index.setdefault(s, len(index)) for s in ss] for ss in sentences]
    emb = model.encode(list(index), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                       show_progress_bar=False)
    return np.hstack([emb[whole], np.stack([emb[p].max(axis=0) for p in parts])]).astype(np.float32)


class Featurizer:
    """Computes `sentence_features` with a lazily loaded MiniLM (shared by the extractor and training)."""

    def __init__(self, model: str | None = None, device: str | None = None, batch_size: int = 128):
        self.model_path, self.device, self.batch_size = model, device, batch_size

    def features(self, responses: Sequence[str]) -> np.ndarray:
        return sentence_features(load_sentence_model(self.model_path, self.device), responses, self.batch_size)

    def cached_features(self, responses: Sequence[str]) -> np.ndarray:
        """`features` through the user's score cache (keyed by model and feature layout), for training and CV."""
        from ...score import user_cache_path
        from .cache import ScoreCache

        model = Path(self.model_path or default_model_path()).name
        cache = ScoreCache(user_cache_path(), json.dumps({"features": FEATURES, "model": model}))
        try:
            found = cache.get_many([None] * len(responses), responses)
            todo = [i for i, f in enumerate(found) if f is None or f.shape != (768,)]
            out = np.zeros((len(responses), 768), dtype=np.float32)
            for i, f in enumerate(found):
                if f is not None and f.shape == (768,):
                    out[i] = f
            if todo:
                new = self.features([responses[i] for i in todo])
                out[todo] = new
                cache.put_many([None] * len(todo), [responses[i] for i in todo], new)
        finally:
            cache.close()
        return out


def feature_extractor(**options) -> Featurizer:
    return Featurizer(options.get("model"), options.get("device"), int(options.get("encode_batch_size", 128)))


def refused(responses: Sequence[str], judge_name: str | None = None) -> np.ndarray:
    """P(refused) per response from the refusal judge; NaN where it could not judge (never read as compliance)."""
    from ..judges import make_judge
    from ..refusal import refusal_probabilities

    if len(responses) == 0:
        return np.zeros(0)
    with make_judge("refusal", judge_name) as judge:
        probs = refusal_probabilities(list(responses), judge)
    return np.array([np.nan if p is None else p for p in probs], dtype=float)


def refusal_judge_version(judge_name: str | None = None) -> list:
    from .. import instruments_version
    from .embedding import refusal_judge_fingerprint

    return [refusal_judge_fingerprint({"refusal_judge": judge_name}), instruments_version("refusal")]


def head_scores(feats: np.ndarray, coef: np.ndarray, intercept: np.ndarray, names: Sequence[str],
                refusals: np.ndarray | None = None) -> np.ndarray:
    """P(value) per head; given `refusals` (1 = refused), deception and violence are zeroed where refused
    (and NaN where the refusal judge could not judge: unknown, not compliance)."""
    scores = 1.0 / (1.0 + np.exp(-(np.asarray(feats, dtype=np.float64) @ coef.T + intercept)))
    if refusals is not None:
        for j, name in enumerate(names):
            if name in COMPLIANCE_VALUES:
                scores[:, j] *= 1.0 - refusals
    return scores


@extractors.register("learned")
class LearnedExtractor(ValueExtractor):
    """Logistic heads per value on MiniLM features, trained on real labels (see module doc).

    Options: weights (a heads file; default the shipped one), model, device, encode_batch_size,
    refusal_discount (default true), refusal_judge (default: the default refusal judge).
    """

    default_threshold = 0.5
    fitted = True  # on every labelled set (calibration/values/train.py)

    def __init__(self, values: Sequence[Value], thresholds: dict[str, float] | None = None, **options):
        self.heads = load_heads(options.get("weights") or default_weights_file())
        shipped = {n: float(t) for n, t in zip(self.heads["names"], self.heads["threshold"])}
        super().__init__(values, {**shipped, **(thresholds or {})}, **options)
        missing = [n for n in self.value_names if n not in self.heads["names"]]
        if missing:
            raise ConfigError(f"learned extractor: no trained head for value(s) {missing}; train heads for them "
                              f"with `valind extract train` or use another extractor")
        rows = [self.heads["names"].index(n) for n in self.value_names]
        self.coef, self.intercept = self.heads["coef"][rows], self.heads["intercept"][rows]
        self.refusal_discount = bool(options.get("refusal_discount", True))
        self.refusal_judge = options.get("refusal_judge")
        self.featurizer = feature_extractor(**options)

    def fingerprint(self) -> str:
        """The weights' hash, the model, the settings and the refusal cue: new weights are a new cache key."""
        base = json.loads(super().fingerprint())
        base["options"] = {k: v for k, v in self.options.items() if k not in _RUNTIME_OPTIONS}
        base["weights_sha256"] = self.heads["sha256"]
        base["model"] = Path(self.options.get("model") or default_model_path()).name
        base["settings"] = [FEATURES, self.refusal_discount,
                            refusal_judge_version(self.refusal_judge) if self.refusal_discount else None]
        return json.dumps(base, sort_keys=True, default=str)

    def features(self, responses: Sequence[str]) -> np.ndarray:
        return self.featurizer.features(responses)

    def scores_from_features(self, feats: np.ndarray, responses: Sequence[str]) -> np.ndarray:
        """Head scores; a response the refusal judge could not judge is a failure (see `failures()`)."""
        refusals = refused(responses, self.refusal_judge) if self.refusal_discount else None
        scores = head_scores(feats, self.coef, self.intercept, self.value_names, refusals)
        self._failures = []
        if refusals is not None:
            scores = self._note_unjudged_refusals(scores, refusals)
        return scores

    def score_batch(self, prompts: Sequence[str | None], responses: Sequence[str]) -> np.ndarray:
        self._failures = []
        if len(responses) == 0:
            return np.zeros((0, len(self.value_names)))
        return self.scores_from_features(self.features(responses), responses)
