"""The study-config loader under bad files and arbitrary data.

1. A matrix of bad files: each is a ConfigError naming the file and the field
   (and through the CLI: exit 2, one message, no traceback).
2. Properties (hypothesis): any YAML-able mapping either validates or raises
   ConfigError, never another exception; a mutated field is named by its path;
   secrets never survive the config dump; any name becomes a safe folder.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from valind.cli import main as cli_main
from valind.config import (ConfigError, StudyConfig, check_path_component, load_study, parse_study,
                           safe_path_component)

BASE = {"sources": [{"kind": "hh_rlhf", "path": "data.jsonl"}]}

# case -> (file bytes, text the ConfigError must carry after "FILE: ")
BAD_FILES = {
    "empty": (b"", "the file is empty"),
    "only a comment": (b"# nothing here\n\n", "the file is empty"),
    "wrong encoding": ("name: caf\xe9\n".encode("latin-1") + b"sources: []\n", "not UTF-8 text"),
    "UTF-16": ("name: study\n".encode("utf-16"), "not UTF-8 text"),
    "NUL byte": (b"name: a\x00b\nsources: []\n", "not valid YAML: unacceptable character #x0000"),
    "broken YAML": (b"sources: [\n  {kind: hh_rlhf\n", "not valid YAML"),
    "a list, not a mapping": (b"- kind: hh_rlhf\n", "a study config is a YAML mapping, got list"),
    "a bare string": (b"just some words\n", "a study config is a YAML mapping, got str"),
    "duplicate key": (b"sources: [{kind: hh_rlhf, path: a}]\ntraining: {beta: 0.1}\ntraining: {epochs: 2}\n",
                      "duplicate key 'training' (first given on line 2)"),
    "missing sources": (b"name: x\n", "sources: field required"),
    "empty sources": (b"sources: []\n", "sources: List should have at least 1 item"),
    "wrong type": (b"sources: [{kind: hh_rlhf, path: a}]\ntraining: {max_steps: many}\n",
                   "training.max_steps: Input should be a valid integer"),
    "wrong type in a list": (b"sources: [{kind: hh_rlhf, path: a}]\ntraining: {seeds: [0, one]}\n",
                             "training.seeds.1: Input should be a valid integer"),
    "unknown field": (b"sources: [{kind: hh_rlhf, path: a}]\ntrainig: {beta: 0.1}\n",
                      "trainig: unknown field; allowed here: analysis, curation,"),
    "unknown nested field": (b"sources: [{kind: hh_rlhf, path: a}]\ntraining: {lora: {rank: 8}}\n",
                             "training.lora.rank: unknown field; allowed here: alpha, dropout, r, target_modules"),
    "unknown source kind": (b"sources: [{kind: reddit, path: a}]\n", "sources.0.kind: Input should be"),
    "path and hub": (b"sources: [{kind: hh_rlhf, path: a, hub: b}]\n", "sources.0: Value error, give exactly one"),
    "infinite number": (b"sources: [{kind: hh_rlhf, path: a}]\ntraining: {beta: .inf}\n",
                        "training.beta: Input should be a finite number"),
    "NUL in a path": (b'sources: [{kind: hh_rlhf, path: "a\\0b"}]\n', "sources.0.path: not a usable path"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_config_file_is_a_clear_error(case, tmp_path, capsys):
    data, words = BAD_FILES[case]
    path = tmp_path / "study.yaml"
    path.write_bytes(data)
    with pytest.raises(ConfigError) as info:
        load_study(path)
    assert str(info.value).startswith(f"{path}: "), str(info.value)
    assert words in str(info.value), str(info.value)
    assert cli_main(["ingest", str(path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"valind: error: {path}: ") and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + yaml.safe_dump(BASE).encode())
    assert load_study(path).sources[0].path == str(tmp_path / "data.jsonl")


@pytest.mark.parametrize("where, words", [("missing.yaml", "study config not found"),
                                          ("folder", "cannot read the study config (Is a directory)")])
def test_config_path_that_is_not_a_file(where, words, tmp_path):
    (tmp_path / "folder").mkdir()
    with pytest.raises(ConfigError) as info:
        load_study(tmp_path / where)
    assert str(info.value) == f"{tmp_path / where}: {words}"


def test_yaml_merge_keys_still_work(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text("sources: [{kind: hh_rlhf, path: a}]\ntraining:\n  lora:\n    <<: {r: 8, alpha: 32}\n    r: 2\n")
    lora = load_study(path).training.lora
    assert (lora.r, lora.alpha) == (2, 32)


# ---------------------------------------------------------------- properties
SCALARS = (st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=12))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=8) | st.integers(0, 3), inner, max_size=3), max_leaves=12)
FIELDS = sorted(StudyConfig.model_fields)
PATHS = ["name", "models", "models.0", "models.0.name", "models.0.label", "models.0.dtype", "models.0.trust_remote_code",
         "values", "values.0", "sources", "sources.0", "sources.0.kind", "sources.0.path", "sources.0.limit",
         "sources.0.columns", "extractor", "extractor.batch_size", "extractor.options", "curation.min_subset_size",
         "curation.heldout_fraction", "training", "training.beta", "training.epochs", "training.seeds",
         "training.seeds.0", "training.lora", "training.lora.r", "training.lora.target_modules", "training.method",
         "generation.temperature", "generation.top_p", "generation.options", "evaluation.suites",
         "evaluation.suites.0", "evaluation.suites.0.name", "evaluation.suites.0.limit", "output_dir",
         "skip_bad_rows", "sweep"]
VALID = {"name": "s", "models": [{"name": "m", "label": "m"}], "values": ["empathy"],
         "sources": [{"kind": "generic", "path": "d.jsonl", "columns": {"chosen": "c", "rejected": "r"}}],
         "training": {"seeds": [0], "lora": {"r": 4}}, "evaluation": {"suites": [{"name": "value_prompts"}]}}


def _outcome(data, tmp_path: Path | None = None):
    """'ok' or the ConfigError text; any other exception fails the test with its traceback."""
    try:
        if tmp_path is None:
            parse_study(data, "<prop>", Path("/tmp"))
        else:
            path = tmp_path / "prop.yaml"
            path.write_text(yaml.safe_dump(data), encoding="utf-8")
            load_study(path)
        return "ok"
    except ConfigError as exc:
        return str(exc)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), VALUES, max_size=6))
def test_any_mapping_validates_or_is_a_config_error(data):
    out = _outcome(data)
    if out != "ok":
        first, *rest = out.splitlines()
        assert first.startswith("<prop>: ")
        assert all(line.startswith("  ") and ": " in line for line in rest), out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=4))
def test_through_a_yaml_file_the_outcome_is_the_same(data, tmp_path):
    via_file = _outcome({**BASE, **data}, tmp_path)
    direct = _outcome({**BASE, **data})
    assert (via_file == "ok") == (direct == "ok"), (via_file, direct)


def _set(data: dict, path: str, value) -> bool:
    """Set a dotted path (list indexes as numbers) in nested data; False when the path does not exist."""
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if not isinstance(node, (dict, list)):
            return False
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return True


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PATHS), VALUES)
def test_a_bad_field_is_named_by_its_path(path, value):
    import copy

    data = copy.deepcopy(VALID)
    assume(_set(data, path, value))
    out = _outcome(data)
    if out == "ok":
        return
    parent = path.rsplit(".", 1)[0] if "." in path else path
    assert f"{path}:" in out or f"{path}." in out or f"{parent}:" in out, (path, value, out)


SECRET = st.text(st.sampled_from("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"), min_size=10,
                 max_size=24).map(lambda s: "Zq9" + s)  # the prefix keeps it from matching ordinary config words
SECRET_KEYS = st.sampled_from(["api_key", "apikey", "token", "hf_token", "access_token", "password", "secret",
                               "client_secret", "auth", "Authorization", "key", "openai-api-key"])


@settings(max_examples=200, deadline=None)
@given(SECRET, SECRET_KEYS, SECRET, st.sampled_from(["key", "token", "sig", "api-version", "x"]), SECRET)
def test_secrets_never_survive_the_config_dump(field_secret, field, query_secret, param, password):
    from valind.pipeline import study_yaml

    options = {field: field_secret, "base_url": f"https://user:{password}@h.example/v1?{param}={query_secret}",
               "nested": {"list": [{field: field_secret}]}, "api_key_env": "MY_ENV_VAR"}
    cfg = parse_study({**BASE, "generation": {"options": options}, "extractor": {"options": {"x": options}}})
    text = study_yaml(cfg)
    for secret in (field_secret, query_secret, password):
        assert secret not in text
    assert "MY_ENV_VAR" in text and "h.example/v1" in text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_name_becomes_a_folder_inside_the_run_dir(name):
    run = Path("/srv/run")
    slug = safe_path_component(name)
    assert check_path_component(slug, "name") == slug
    assert (run / slug).resolve().parent == run
    try:
        checked = check_path_component(name, "name")
    except ValueError as exc:
        assert "folder name" in str(exc)
    else:
        assert checked == name and (run / name).resolve().parent == run


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_numbers_must_be_finite(bad):
    assert "generation.temperature: Input should be a finite number" in _outcome({**BASE, "generation": {"temperature": bad}})
