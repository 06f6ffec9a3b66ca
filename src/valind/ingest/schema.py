"""The canonical preference pair, shared by every ingest adapter and every later stage.

Stored as `RUN_DIR/ingest/pairs.parquet` with columns:
  id (str), source (str), prompt (list of {role, content}), chosen (str), rejected (str)
The prompt holds every turn before the final assistant turn, as chat messages;
chosen and rejected are the two final assistant turns.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..artifacts import hash_text

ROLES = ("system", "user", "assistant")


@dataclass
class Pair:
    id: str
    source: str
    prompt: list[dict]
    chosen: str
    rejected: str

    def as_row(self) -> dict:
        return {"id": self.id, "source": self.source, "prompt": self.prompt,
                "chosen": self.chosen, "rejected": self.rejected}

    @property
    def prompt_text(self) -> str:
        """The last user turn (what the responses answer), used as context by extractors."""
        users = [m["content"] for m in self.prompt if m["role"] == "user"]
        return users[-1] if users else ""


def content_id(source: str, prompt: list[dict], chosen: str, rejected: str) -> str:
    """A stable id from the content, for sources without ids."""
    flat = [source] + [f"{m['role']}:{m['content']}" for m in prompt] + [chosen, rejected]
    return hash_text(*flat)[:16]


def prompt_text(prompt) -> str:
    """Last user turn of a prompt given as a list of message dicts (or numpy array of them from Parquet)."""
    users = [m["content"] for m in list(prompt) if m["role"] == "user"]
    return users[-1] if users else ""


def last_turns(messages, n: int | None) -> list[dict]:
    """The last `n` messages of a conversation, starting at a user turn (all of it when n is None).

    Long multi-turn HH-RLHF contexts dominate CPU time in training and generation; the study config keeps
    every turn, the CPU configs keep the last one (training.prompt_turns, value_prompts' last_turns)."""
    messages = list(messages)
    if n is None:
        return messages
    tail = messages[-n:]
    while tail and tail[0]["role"] != "user":  # a conversation starts with the user
        tail = tail[1:]
    return tail or messages[-1:]


def conversation_text(prompt, max_chars: int | None = None) -> str:
    """The whole conversation up to the response, for extractors: a single user turn as it is, several
    turns as "User: ... / Assistant: ..." blocks; over `max_chars`, cut from the left (the latest turns
    are the ones the response answers)."""
    turns = [m for m in list(prompt) if m["role"] in ("user", "assistant", "system") and m["content"]]
    if len(turns) == 1 and turns[0]["role"] == "user":
        text = turns[0]["content"]
    else:
        names = {"user": "User", "assistant": "Assistant", "system": "System"}
        text = "\n\n".join(f"{names[m['role']]}: {m['content']}" for m in turns)
    if max_chars is not None and len(text) > max_chars:
        text = "[...] " + text[len(text) - max_chars:]
    return text


PAIRS_FILE = "pairs.parquet"


def pair_schema():
    """The Arrow schema of `ingest/pairs.parquet`."""
    import pyarrow as pa

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    return pa.schema([("id", pa.string()), ("source", pa.string()), ("prompt", pa.list_(message)),
                      ("chosen", pa.string()), ("rejected", pa.string())])
