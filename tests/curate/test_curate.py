"""The XOR rule and its deterministic split."""

from __future__ import annotations

from valind.curate.xor import split_ids, xor_decision


def test_xor_rule_keeps_flips_and_drops():
    assert xor_decision("empathy", ["empathy"], []) == "keep"
    assert xor_decision("empathy", ["humor"], ["empathy", "humor"]) == "flip"
    assert xor_decision("empathy", ["empathy"], ["empathy"]) is None
    assert xor_decision("empathy", ["humor"], ["honesty"]) is None


def test_split_is_deterministic_and_order_independent():
    ids = [f"p{i}" for i in range(100)]
    a = split_ids(ids, "empathy", seed=1, heldout_fraction=0.2, max_size=None)
    b = split_ids(list(reversed(ids)), "empathy", seed=1, heldout_fraction=0.2, max_size=None)
    assert a == b
    train, held = a
    assert len(held) == 20 and len(train) == 80 and not set(train) & set(held)
    c = split_ids(ids, "empathy", seed=2, heldout_fraction=0.2, max_size=None)
    assert c[1] != held  # another seed, another split


def test_split_cap():
    train, held = split_ids([f"p{i}" for i in range(100)], "humor", seed=0, heldout_fraction=0.1, max_size=30)
    assert len(train) + len(held) == 30 and len(held) == 3
