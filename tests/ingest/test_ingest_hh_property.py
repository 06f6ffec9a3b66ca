"""Property tests for the HH-RLHF transcript splitter: render a conversation, split it back."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from valind.ingest.hh_rlhf import ASSISTANT, HUMAN, TranscriptError, render, split_pair

# text that likes to look like the format: markers without their blank line, colons, newlines, non-ASCII
pieces = st.sampled_from(["Human", "Assistant", ":", "\n", "\n\n", " ", "hi", "é", "?", "Human:", "Assistant:", "\t", "🙂"])
tricky = st.lists(pieces, min_size=1, max_size=12).map("".join)
content = st.one_of(tricky, st.text(min_size=1, max_size=40)).map(str.strip).filter(
    lambda s: s and HUMAN not in s and ASSISTANT not in s)


@st.composite
def conversations(draw):
    """(alternating messages that start and end with the user, chosen reply, rejected reply)."""
    n_user = draw(st.integers(1, 4))
    messages = []
    for i in range(n_user):
        if i:
            messages.append({"role": "assistant", "content": draw(content)})
        messages.append({"role": "user", "content": draw(content)})
    chosen = draw(content)
    rejected = draw(content.filter(lambda s: s != chosen))
    return messages, chosen, rejected


@settings(max_examples=300, deadline=None)
@given(conversations())
def test_render_then_split_round_trips(conv):
    messages, chosen, rejected = conv
    assert split_pair(render(messages, chosen), render(messages, rejected)) == (messages, chosen, rejected)


@settings(max_examples=100, deadline=None)
@given(conversations(), st.sampled_from(["", " ", "\n", "  \n "]), st.sampled_from(["", " ", "\n", "\n\n "]))
def test_surrounding_whitespace_does_not_matter(conv, lead, trail):
    messages, chosen, rejected = conv
    a, b = render(messages, chosen), render(messages, rejected)
    assert split_pair(lead + a.lstrip("\n") + trail, b + trail) == (messages, chosen, rejected)


@settings(max_examples=100, deadline=None)
@given(conversations(), content)
def test_consecutive_turns_of_one_speaker_are_merged(conv, extra):
    messages, chosen, rejected = conv
    if len(messages) < 3:
        messages = messages + [{"role": "assistant", "content": "ok"}, {"role": "user", "content": "and?"}]
    doubled = messages[:2] + [{"role": "assistant", "content": extra}] + messages[2:]
    prompt, c, r = split_pair(render(doubled, chosen), render(doubled, rejected))
    merged = [dict(m) for m in messages]
    merged[1]["content"] = f"{messages[1]['content']}\n\n{extra}"
    assert (prompt, c, r) == (merged, chosen, rejected)


@settings(max_examples=300, deadline=None)
@given(st.one_of(tricky, st.text()), st.one_of(tricky, st.text()))
def test_any_input_splits_cleanly_or_raises_a_transcript_error(a, b):
    """Arbitrary strings never crash the splitter; what it returns is well formed."""
    for chosen, rejected in ((a, b), ("\n\nHuman: q" + a, "\n\nHuman: q" + b)):
        try:
            prompt, c, r = split_pair(chosen, rejected)
        except TranscriptError as exc:
            assert exc.field in ("chosen", "rejected") and exc.problem
            continue
        roles = [m["role"] for m in prompt]
        assert roles[0] == "user" and roles[-1] == "user"
        assert all(x != y for x, y in zip(roles, roles[1:]))
        assert all(m["content"] for m in prompt) and c and r
