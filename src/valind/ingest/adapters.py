"""Adapters: turn the rows of one dataset format into canonical `Pair`s.

One adapter per source kind. `pairs(row, record)` returns the pairs a row
yields (possibly none) or raises `InputError` naming the row and field;
`finish()` returns pairs that need every row first (HelpSteer2 groups
responses by prompt). The same code reads local files and hub datasets.
Counts of rows that yield no pair by design (ties, lone responses) go into
`self.counts`, so nothing is dropped silently.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections import Counter
from typing import Any, Iterable

from ..config import SourceSpec
from ..errors import ConfigError, InputError
from .hh_rlhf import TranscriptError, split_pair
from .readers import describe
from .schema import ROLES, Pair, content_id

_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")


class Adapter:
    """Base: holds the source's name (for errors), its spec and adapter-specific counts."""

    def __init__(self, spec: SourceSpec, name: str):
        self.spec, self.name, self.label = spec, name, spec.source_label
        self.counts: Counter = Counter()

    def pairs(self, row: int, record: dict) -> list[Pair]:
        raise NotImplementedError

    def finish(self) -> Iterable[Pair]:
        return ()

    # ---- field access that names the file, row and field on every problem
    def error(self, row: int | None, field: str | None, problem: str) -> InputError:
        return InputError(self.name, row, field, problem)

    def get(self, row: int, record: dict, column: str, field: str | None = None) -> Any:
        """`record[column]`; a missing column names itself and lists the present ones."""
        if column not in record:
            present = ", ".join(map(str, record)) or "(none)"
            what = f"column '{column}'" + (f" (mapped to {field})" if field and field != column else "")
            raise self.error(row, column, f"{what} not found; columns present: {present}")
        return record[column]

    def text(self, row: int, value: Any, field: str, *, allow_empty: bool = False) -> str:
        """A stripped, non-empty string with no NUL bytes and only UTF-8 text."""
        if not isinstance(value, str):
            raise self.error(row, field, f"expected text, got {describe(value)}")
        bad = _BAD_CHARS.search(value)
        if bad:
            if bad.group() == "\x00":
                raise self.error(row, field, f"contains a NUL byte at character {bad.start()}")
            byte = ord(bad.group()) - 0xDC00
            hint = f"byte 0x{byte:02x}" if 0x80 <= byte <= 0xFF else "an invalid surrogate"
            raise self.error(row, field, f"not UTF-8 text ({hint} at character {bad.start()}); re-save the file as UTF-8")
        value = value.strip()
        if not value and not allow_empty:
            raise self.error(row, field, "is empty")
        return value

    def number(self, row: int, value: Any, field: str) -> float | None:
        """A rating as a float; None for 'N/A' or an empty/missing rating."""
        if value is None or (isinstance(value, str) and value.strip().upper() in ("", "N/A", "NA")):
            return None
        if isinstance(value, bool):
            raise self.error(row, field, f"expected a number, got {describe(value)}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise self.error(row, field, f"expected a number, got {describe(value)}") from None
        if math.isnan(number):
            return None
        return number

    def message_list(self, row: int, value: Any, field: str) -> list[dict]:
        """A non-empty list of {role, content} chat messages (a Parquet/Arrow array counts as a list)."""
        if not isinstance(value, (list, tuple)) and type(value).__name__ != "ndarray":
            raise self.error(row, field, f"expected text or a list of chat messages, got {describe(value)}")
        if len(value) == 0:
            raise self.error(row, field, "is an empty list of messages")
        out = []
        for i, msg in enumerate(value):
            where = f"{field}[{i}]"
            if not isinstance(msg, dict) or "role" not in msg or "content" not in msg:
                raise self.error(row, where, f"expected a message {{role, content}}, got {describe(msg)}")
            if msg["role"] not in ROLES:
                raise self.error(row, f"{where}.role", f"unknown role {msg['role']!r}; allowed: {', '.join(ROLES)}")
            out.append({"role": msg["role"], "content": self.text(row, msg["content"], f"{where}.content")})
        return out

    def messages(self, row: int, value: Any, field: str) -> list[dict]:
        """A chat prompt: a string (one user turn) or a list of messages ending with the user's turn."""
        if isinstance(value, str):
            return [{"role": "user", "content": self.text(row, value, field)}]
        return check_prompt(self.message_list(row, value, field), lambda problem: self.error(row, field, problem))

    def pair(self, prompt: list[dict], chosen: str, rejected: str, given_id: str | None = None) -> Pair:
        pid = f"{self.label}:{given_id}" if given_id is not None else content_id(self.label, prompt, chosen, rejected)
        return Pair(id=pid, source=self.label, prompt=prompt, chosen=chosen, rejected=rejected)


def check_prompt(messages: list[dict], error) -> list[dict]:
    """A prompt needs a user turn, and its last turn is the user's (the responses answer it)."""
    if not any(m["role"] == "user" for m in messages):
        raise error("prompt has no user turn")
    if messages[-1]["role"] != "user":
        raise error(f"prompt ends with a '{messages[-1]['role']}' turn; its last turn must be the user's")
    return messages


# ---------------------------------------------------------------- HH-RLHF
class HHRLHF(Adapter):
    """`{chosen, rejected}` full transcripts; see `hh_rlhf.split_pair`."""

    def pairs(self, row, record):
        chosen = self.text(row, self.get(row, record, "chosen"), "chosen")
        rejected = self.text(row, self.get(row, record, "rejected"), "rejected")
        try:
            prompt, chosen_reply, rejected_reply = split_pair(chosen, rejected)
        except TranscriptError as exc:
            raise self.error(row, exc.field, exc.problem) from None
        return [self.pair(prompt, chosen_reply, rejected_reply)]


# ---------------------------------------------------------------- PKU-SafeRLHF
class PKUSafeRLHF(Adapter):
    """Hub rows (response_0/1 + `<preference>_response_id`) or local `{prompt, response: [preferred, other]}`."""

    def pairs(self, row, record):
        prompt = self.messages(row, self.get(row, record, "prompt"), "prompt")
        if "response" in record:
            responses = record["response"]
            if not isinstance(responses, (list, tuple)) or len(responses) != 2:
                raise self.error(row, "response", f"expected a list [preferred, other] of two texts, got {describe(responses)}")
            chosen = self.text(row, responses[0], "response[0]")
            rejected = self.text(row, responses[1], "response[1]")
        else:
            if "response_0" not in record:
                raise self.error(row, "response_0", "no 'response' (local form) or 'response_0'/'response_1' (hub form) "
                                                    f"column; columns present: {', '.join(map(str, record))}")
            id_col = f"{self.spec.preference}_response_id"
            best = self.get(row, record, id_col)
            if isinstance(best, str) and best.strip() in ("0", "1"):
                best = int(best)
            if isinstance(best, bool) or best not in (0, 1):
                raise self.error(row, id_col, f"expected 0 or 1, got {describe(best)}")
            texts = [self.text(row, self.get(row, record, f"response_{i}"), f"response_{i}") for i in (0, 1)]
            chosen, rejected = texts[int(best)], texts[1 - int(best)]
        return [self.pair(prompt, chosen, rejected)]


# ---------------------------------------------------------------- UltraFeedback
class UltraFeedback(Adapter):
    """`instruction` + rated `completions`; pairs by `pair_rule`, ranked by `rating`; ties give no pair."""

    SCORES = ("overall_score", "fine-grained_score")

    def rating_of(self, row: int, completion: dict, i: int) -> float | None:
        name = self.spec.rating
        if name in self.SCORES:
            if name not in completion:
                raise self.error(row, f"completions[{i}].{name}", f"not found; fields present: {', '.join(completion)}")
            return self.number(row, completion[name], f"completions[{i}].{name}")
        annotations = completion.get("annotations")
        if not isinstance(annotations, dict):
            raise self.error(row, f"completions[{i}].annotations", f"expected a mapping of aspects, got {describe(annotations)}")
        if name not in annotations:
            raise self.error(row, f"completions[{i}].annotations.{name}",
                             f"rating '{name}' not found; aspects present: {', '.join(annotations) or '(none)'} "
                             f"(or use {' / '.join(self.SCORES)})")
        aspect = annotations[name]
        value = aspect.get("Rating") if isinstance(aspect, dict) else aspect
        return self.number(row, value, f"completions[{i}].annotations.{name}.Rating")

    def pairs(self, row, record):
        instruction = self.text(row, self.get(row, record, "instruction"), "instruction")
        prompt = [{"role": "user", "content": instruction}]
        completions = self.get(row, record, "completions")
        if not isinstance(completions, (list, tuple)):
            raise self.error(row, "completions", f"expected a list of completions, got {describe(completions)}")
        rated = []
        for i, comp in enumerate(completions):
            if not isinstance(comp, dict) or "response" not in comp:
                raise self.error(row, f"completions[{i}]", f"expected a completion with a 'response', got {describe(comp)}")
            score = self.rating_of(row, comp, i)
            if score is None:
                self.counts["unrated_completions"] += 1
            else:
                rated.append((score, i, comp))
        if len(rated) < 2:
            self.counts["no_pair"] += 1
            return []
        best = max(rated, key=lambda r: (r[0], -r[1]))  # highest score, first on ties
        worse = [r for r in rated if r[0] < best[0]]
        if not worse:
            self.counts["no_pair"] += 1  # every completion tied
            return []
        rule = self.spec.pair_rule
        if rule == "best_vs_worst":
            losers = [min(worse, key=lambda r: (r[0], r[1]))]
        elif rule == "best_vs_random":
            seed = int.from_bytes(hashlib.sha256(instruction.encode("utf-8")).digest()[:8], "big")
            losers = [random.Random(seed).choice(worse)]
        else:  # best_vs_each
            losers = worse
        chosen = self.text(row, best[2]["response"], f"completions[{best[1]}].response")
        return [self.pair(prompt, chosen, self.text(row, lose[2]["response"], f"completions[{lose[1]}].response"))
                for lose in losers]


# ---------------------------------------------------------------- HelpSteer2
class HelpSteer2(Adapter):
    """One rated response per row; responses to the same prompt form best-vs-worst pairs by `attribute`.

    Rows are grouped by prompt over the whole source; only the best and worst
    response of each prompt are kept in memory. The `preference` config's
    rows (`response_1`, `response_2`, `preference_strength`) are read as
    ready-made pairs.
    """

    def __init__(self, spec, name):
        super().__init__(spec, name)
        self.groups: dict[str, dict] = {}

    def pairs(self, row, record):
        if "preference_strength" in record:
            return self._preference_row(row, record)
        prompt_text = self.text(row, self.get(row, record, "prompt"), "prompt")
        response = self.text(row, self.get(row, record, "response"), "response")
        attr = self.spec.attribute
        score = self.number(row, self.get(row, record, attr), attr)
        if score is None:
            raise self.error(row, attr, "rating is missing")
        key = hashlib.sha256(prompt_text.encode("utf-8")).hexdigest()
        group = self.groups.get(key)
        if group is None:
            self.groups[key] = {"prompt": prompt_text, "best": (score, response), "worst": (score, response), "n": 1}
        else:
            group["n"] += 1
            if score > group["best"][0]:
                group["best"] = (score, response)
            if score < group["worst"][0]:
                group["worst"] = (score, response)
        return []

    def _preference_row(self, row, record):
        prompt = [{"role": "user", "content": self.text(row, self.get(row, record, "prompt"), "prompt")}]
        strength = self.number(row, record["preference_strength"], "preference_strength")
        one = self.text(row, self.get(row, record, "response_1"), "response_1")
        two = self.text(row, self.get(row, record, "response_2"), "response_2")
        if not strength:
            self.counts["no_pair"] += 1
            return []
        return [self.pair(prompt, two, one) if strength > 0 else self.pair(prompt, one, two)]

    def finish(self):
        for group in self.groups.values():
            if group["n"] < 2:
                self.counts["no_pair"] += 1  # a prompt with a single response
            elif group["best"][0] == group["worst"][0]:
                self.counts["no_pair"] += 1  # every response tied on the attribute
            else:
                prompt = [{"role": "user", "content": group["prompt"]}]
                yield self.pair(prompt, group["best"][1], group["worst"][1])
        self.groups.clear()


# ---------------------------------------------------------------- generic
class Generic(Adapter):
    """Any table with a column mapping: prompt (text or chat messages), chosen, rejected, optional id.

    chosen/rejected may also be conversations (lists of messages ending with
    the assistant's reply, as in ultrafeedback_binarized); without a prompt
    column the prompt is then the conversation before that reply.
    """

    FIELDS = ("prompt", "chosen", "rejected", "id")

    def __init__(self, spec, name):
        super().__init__(spec, name)
        unknown = sorted(set(spec.columns) - set(self.FIELDS))
        if unknown:
            raise ConfigError(f"sources ({name}).columns: unknown field(s) {unknown}; allowed: {', '.join(self.FIELDS)}")
        self.columns = {f: spec.columns.get(f, f) for f in ("prompt", "chosen", "rejected")}
        self.id_column = spec.columns.get("id")

    def reply(self, row, value, field) -> tuple[str, list[dict] | None]:
        """(response text, conversation before it or None) from a string or a message list."""
        if not isinstance(value, (list, tuple)) and type(value).__name__ != "ndarray":
            return self.text(row, value, field), None
        convo = self.message_list(row, value, field)
        if convo[-1]["role"] != "assistant":
            raise self.error(row, field, "conversation does not end with an assistant reply")
        return convo[-1]["content"], convo[:-1]

    def pairs(self, row, record):
        cols = self.columns
        chosen, chosen_ctx = self.reply(row, self.get(row, record, cols["chosen"], "chosen"), cols["chosen"])
        rejected, rejected_ctx = self.reply(row, self.get(row, record, cols["rejected"], "rejected"), cols["rejected"])
        if cols["prompt"] in record or "prompt" in self.spec.columns or chosen_ctx is None:
            prompt = self.messages(row, self.get(row, record, cols["prompt"], "prompt"), cols["prompt"])
        else:
            if chosen_ctx != rejected_ctx:
                raise self.error(row, cols["rejected"], f"conversation before the reply differs from {cols['chosen']}'s")
            prompt = check_prompt(chosen_ctx, lambda problem: self.error(row, cols["chosen"], problem))
        given_id = None
        if self.id_column:
            value = self.get(row, record, self.id_column, "id")
            if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
                raise self.error(row, self.id_column, f"expected a non-empty text or integer id, got {describe(value)}")
            given_id = str(value).strip()
        return [self.pair(prompt, chosen, rejected, given_id)]


ADAPTERS: dict[str, type[Adapter]] = {
    "hh_rlhf": HHRLHF,
    "pku_saferlhf": PKUSafeRLHF,
    "ultrafeedback": UltraFeedback,
    "helpsteer2": HelpSteer2,
    "generic": Generic,
}
