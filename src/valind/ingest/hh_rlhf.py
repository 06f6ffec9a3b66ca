"""Split HH-RLHF transcripts ("\\n\\nHuman: ...\\n\\nAssistant: ...") into a chat prompt and two responses.

The prompt is the part the chosen and rejected transcripts share, cut at its
last "\\n\\nAssistant:" marker; what follows that marker in each transcript is
the response. Cutting at the shared prefix (not at each transcript's own last
marker) matters on the real data: a few responses contain a made-up
"Assistant:" turn of their own, which would otherwise end up in the prompt.
"""

from __future__ import annotations

import os
import re

HUMAN = "\n\nHuman:"
ASSISTANT = "\n\nAssistant:"
_TURN = re.compile(r"\n\n(Human|Assistant):")
_ROLE = {"Human": "user", "Assistant": "assistant"}


class TranscriptError(ValueError):
    """A transcript pair that cannot be split; `field` names the transcript at fault."""

    def __init__(self, field: str | None, problem: str):
        super().__init__(problem)
        self.field, self.problem = field, problem


def _normalise(text: str) -> str:
    """Undo leading/trailing whitespace quirks: the transcript must start with "\\n\\nHuman:"."""
    text = text.rstrip()
    stripped = text.lstrip()
    if stripped.startswith(("Human:", "Assistant:")):
        return "\n\n" + stripped
    return text


def parse_turns(prompt_text: str, field: str = "chosen") -> list[dict]:
    """Chat messages from a transcript prefix; consecutive turns of one speaker are merged."""
    if not prompt_text.startswith(HUMAN):
        start = prompt_text.strip()[:40]
        raise TranscriptError(field, f"transcript does not start with a 'Human:' turn (starts with {start!r})")
    marks = list(_TURN.finditer(prompt_text))
    messages: list[dict] = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(prompt_text)
        role = _ROLE[m.group(1)]
        content = prompt_text[m.end():end].strip()
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"] = (messages[-1]["content"] + "\n\n" + content).strip()
        else:
            messages.append({"role": role, "content": content})
    for i, msg in enumerate(messages):
        if not msg["content"]:
            raise TranscriptError(field, f"turn {i + 1} of the prompt ({msg['role']}) is empty")
    if messages[-1]["role"] != "user":
        raise TranscriptError(field, "the prompt's last turn is the assistant's; expected a 'Human:' turn before the final 'Assistant:'")
    return messages


def split_pair(chosen: str, rejected: str) -> tuple[list[dict], str, str]:
    """(prompt messages, chosen response, rejected response) from two full transcripts."""
    chosen, rejected = _normalise(chosen), _normalise(rejected)
    cut = chosen.rfind(ASSISTANT)
    if cut < 0 or rejected.rfind(ASSISTANT) != cut or not rejected.startswith(chosen[:cut + len(ASSISTANT)]):
        cut = os.path.commonprefix([chosen, rejected]).rfind(ASSISTANT)  # slow path: the real data's quirks
    if cut < 0:
        field = "chosen" if ASSISTANT not in chosen else "rejected" if ASSISTANT not in rejected else None
        if field:
            raise TranscriptError(field, "transcript has no '\\n\\nAssistant:' turn")
        raise TranscriptError("rejected", "transcript shares no prompt with the chosen one (they differ before the first 'Assistant:' turn)")
    prompt = parse_turns(chosen[:cut])
    chosen_reply = chosen[cut + len(ASSISTANT):].strip()
    rejected_reply = rejected[cut + len(ASSISTANT):].strip()
    if HUMAN in chosen_reply and HUMAN in rejected_reply:
        raise TranscriptError("rejected", "transcript differs from the chosen one before the final turn "
                                    "(both continue with a 'Human:' turn after the shared prompt)")
    for field, reply in (("chosen", chosen_reply), ("rejected", rejected_reply)):
        if not reply:
            raise TranscriptError(field, "the final assistant turn is empty")
    return prompt, chosen_reply, rejected_reply


def render(messages: list[dict], reply: str) -> str:
    """The HH-RLHF transcript of a prompt and a final reply (the inverse of `split_pair`)."""
    label = {"user": "Human", "assistant": "Assistant"}
    turns = [f"\n\n{label[m['role']]}: {m['content']}" for m in messages]
    return "".join(turns) + f"{ASSISTANT} {reply}"


def read_pairs(path):
    """(prompt messages, chosen, rejected) of each row of an HH-RLHF .jsonl(.gz) file; rows that do not
    split into a pair (an empty reply, as 4 harmless-base test rows have) are skipped."""
    import gzip
    import json

    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            try:
                yield split_pair(row["chosen"], row["rejected"])
            except TranscriptError:
                continue

