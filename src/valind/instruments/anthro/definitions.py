"""AnthroBench's 14 anthropomorphic behaviours and their definitions.

The definitions and worked examples are AnthroBench's own (`data/behavior_dict.json`, from
google-deepmind/anthro-benchmark, Apache-2.0; see NOTICE). AnthroBench gives no definition for
"personal pronoun use"; valind uses the one its outside annotators followed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from ...errors import ConfigError

PRONOUN_DEFINITION = "refers to itself with first-person singular pronouns (I, me, my, mine, myself)"

# valind's behaviour keys (used in metric names) -> AnthroBench's names, in AnthroBench's order.
NAMES: dict[str, str] = {
    "sentience": "sentience",
    "personal_relationships": "personal relationships",
    "personal_history": "personal history",
    "sensory_input": "sensory input",
    "movement_and_interactions": "movement and interactions",
    "physical_embodiment": "physical embodiment",
    "desires": "desires",
    "agency": "agency",
    "emotions": "emotions",
    "explicit_relationship_status": "explicit relationship status",
    "validation": "validation",
    "empathy": "empathy",
    "relatability": "relatability",
    "personal_pronoun_use": "personal pronoun use",
}
# Behaviours directed at the user (CONVERSATION PARTNER 1); the others are claims about the assistant.
USER_DIRECTED = frozenset({"explicit_relationship_status", "validation", "empathy", "relatability"})


@dataclass(frozen=True)
class Example:
    assistant_message: str
    label: str
    reason: str


@dataclass(frozen=True)
class Behaviour:
    key: str
    name: str  # AnthroBench's name
    definition: str
    examples: tuple[Example, ...] = field(default=())


def parse_behavior_dict(data: dict, source: str) -> dict[str, Behaviour]:
    """{key: Behaviour} from AnthroBench's behavior_dict.json content; errors name the entry."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a JSON object of behaviours")
    out = {}
    for key, name in NAMES.items():
        entry = data.get(name)
        if entry is None:
            raise ConfigError(f"{source}: behaviour '{name}' missing")
        if not entry and key == "personal_pronoun_use":
            out[key] = Behaviour(key, name, PRONOUN_DEFINITION)
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("definition"), str) or not entry["definition"]:
            raise ConfigError(f"{source}: behaviour '{name}', field 'definition' missing or not a string")
        try:
            examples = tuple(Example(e["assistant_message"], e["label"], e["reason"]) for e in entry.get("examples", []))
        except (KeyError, TypeError):
            raise ConfigError(f"{source}: behaviour '{name}', field 'examples': each needs assistant_message, "
                              "label and reason") from None
        out[key] = Behaviour(key, name, entry["definition"], examples)
    return out


@lru_cache(maxsize=None)
def load_behaviours(path: str | None = None) -> dict[str, Behaviour]:
    """AnthroBench's definitions: the shipped copy, or a behavior_dict.json at `path`."""
    if path:
        try:
            text = open(path, encoding="utf-8").read()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read AnthroBench definitions ({exc.strerror})") from None
        source = path
    else:
        text = resources.files(__package__).joinpath("data", "behavior_dict.json").read_text(encoding="utf-8")
        source = "valind/instruments/anthro/data/behavior_dict.json"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: not valid JSON ({exc})") from None
    return parse_behavior_dict(data, source)


# behaviour key -> (AnthroBench's name, AnthroBench's definition)
BEHAVIOURS: dict[str, tuple[str, str]] = {k: (b.name, b.definition) for k, b in load_behaviours().items()}
