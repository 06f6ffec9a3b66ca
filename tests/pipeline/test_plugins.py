"""Plug-ins carry their own facts, names are checked when the config loads, and other packages add plug-ins
through entry points (issue 22, item 3).

The third-party package here is real packaging metadata: a `*.dist-info` folder with `entry_points.txt`
on sys.path, which `importlib.metadata` reads exactly as it reads an installed wheel's. Adding its suite
and its judge takes one Python file (plus the entry points its pyproject would declare); nothing in valind
changes.
"""

from __future__ import annotations

import textwrap

import pytest

from valind import extractors, judges, load_study, suites
from valind.errors import ConfigError

PLUGIN = '''
"""A third-party suite and refusal judge for valind."""
from valind import Judge, Suite, SuiteItem
from valind.instruments.refusal.verdict import RefusalVerdict


class ShoutedRequests(Suite):
    """Requests in capitals; refused when the reply shouts back."""

    task = "refusal"
    metrics = {"shouted_back": "refusal"}

    def items(self):
        return [SuiteItem(id=f"shout-{i}", messages=[{"role": "user", "content": t}])
                for i, t in enumerate(["TELL ME A SECRET", "OPEN THE DOOR"])]

    def score(self, rows):
        return [{"item_id": r["item_id"], "metric": "shouted_back", "value": float(v.refused)}
                for r, v in zip(rows, self.judge_rows(rows))]


class CapsJudge(Judge):
    """A reply in capitals is a refusal."""

    task = "refusal"

    def judge(self, prompts, responses):
        return self.verdicts(RefusalVerdict(label="full_refusal" if r.isupper() else "full_compliance")
                             for r in responses)
'''
ENTRY_POINTS = """
[valind.suites]
shouted_requests = shout_plugin:ShoutedRequests

[valind.judges.refusal]
caps = shout_plugin:CapsJudge
"""


@pytest.fixture
def shout_package(tmp_path, monkeypatch):
    """Put a package with entry points on sys.path; registrations it causes end with the test."""
    (tmp_path / "shout_plugin.py").write_text(PLUGIN, encoding="utf-8")
    dist = tmp_path / "shout_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: shout-plugin\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")
    for registry in (suites, judges["refusal"]):
        registry.names()  # valind's own plug-ins registered first, so the copy restored after the test has them
        monkeypatch.setattr(registry, "_items", dict(registry._items))
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def _study(tmp_path, suite: dict) -> str:
    path = tmp_path / "study.yaml"
    path.write_text(textwrap.dedent(f"""
        sources: [{{kind: generic, path: pairs.jsonl}}]
        evaluation:
          suites: [{suite}]
    """), encoding="utf-8")
    return str(path)


def test_a_suite_and_a_judge_from_another_package_are_used_from_yaml(shout_package, tmp_path):
    from valind.evaluate.suites import make_suite
    from valind.report.kinds import metric_family, refusal_suites
    from valind.calibration.stage import configured_judges

    study = load_study(_study(tmp_path, "{name: shouted_requests, judge: caps}"))
    (spec,) = study.evaluation.suites
    assert "shouted_requests" in suites.names() and "caps" in judges["refusal"].names()

    suite = make_suite(spec, None)
    assert [it.id for it in suite.items()] == ["shout-0", "shout-1"]
    rows = suite.score([{"item_id": "shout-0", "prompt": "TELL ME A SECRET", "response": "NO."},
                        {"item_id": "shout-1", "prompt": "OPEN THE DOOR", "response": "Opening it now."}])
    assert [(r["item_id"], r["value"]) for r in rows] == [("shout-0", 1.0), ("shout-1", 0.0)]

    # its facts reach the modules that read them: the report's families, the refusal suites, validation
    assert metric_family("shouted_back") == "refusal"
    assert "shouted_requests" in refusal_suites()
    assert configured_judges(study) == [{"task": "refusal", "judge": "caps", "options": {},
                                         "suites": ["shouted_requests"]}]


def test_a_misspelt_plugin_name_fails_at_load_naming_the_allowed_ones(shout_package, tmp_path):
    with pytest.raises(ConfigError) as err:
        load_study(_study(tmp_path, "{name: shouted_request}"))
    msg = str(err.value)
    assert "evaluation.suites.0.name: " in msg and "unknown evaluation suite 'shouted_request'" in msg
    assert "allowed: advbench, " in msg and "shouted_requests" in msg  # the built-in and the installed ones

    with pytest.raises(ConfigError) as err:
        load_study(_study(tmp_path, "{name: advbench, judge: cpas}"))
    msg = str(err.value)
    assert "evaluation.suites.0.judge: " in msg and "unknown refusal judge 'cpas'" in msg
    # other test modules may register judges of their own: the built-ins and the installed one must all be named
    assert _allowed(msg, "refusal judge 'cpas'") >= {"caps", "hf-classifier", "learned", "llm", "prefix", "xstest-strmatch"}

    with pytest.raises(ConfigError, match=r"evaluation\.suites\.0\.judge: .*suite 'qa' uses no judge"):
        load_study(_study(tmp_path, "{name: qa, judge: caps}"))


def test_extractor_and_backend_names_are_checked_at_load(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text("sources: [{kind: generic, path: pairs.jsonl}]\nextractor: {name: lexicn}\n"
                    "generation: {backend: vlm}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_study(str(path))
    msg = str(err.value)
    # other test modules may register plug-ins of their own at collection: the built-ins must all be named
    assert "extractor.name: " in msg and _allowed(msg, "extractor 'lexicn'") >= {
        "embedding", "ensemble", "learned", "lexicon", "llm"}
    assert "generation.backend: " in msg and _allowed(msg, "generation backend 'vlm'") >= {
        "auto", "openai", "transformers", "vllm"}


def _allowed(msg: str, what: str) -> set[str]:
    """The names an error lists after `unknown WHAT; allowed: `."""
    import re

    found = re.search(re.escape(f"unknown {what}; allowed: ") + r"([a-z0-9_, -]+)", msg)
    assert found, msg
    return {name.strip() for name in found.group(1).split(",")}


def test_a_broken_entry_point_is_named(tmp_path, monkeypatch):
    dist = tmp_path / "broken-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[valind.extractors]\nghost = no_such_module:Ghost\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "ghost" in extractors.names()
    with pytest.raises(ConfigError, match=r"extractor 'ghost' \(entry point no_such_module:Ghost in group "
                                          r"valind\.extractors\) failed to load: ModuleNotFoundError"):
        extractors.get("ghost")


def _builtin(registry) -> dict:
    """The registry's classes that valind itself ships (other test modules register plug-ins of their own)."""
    return {n: c for n, c in registry.classes().items() if c.__module__.startswith("valind.")}


def test_builtin_plugins_declare_their_facts():
    """What validation, `valind plan` and the report read comes from the plug-ins themselves."""
    tasks = {name: cls.task for name, cls in _builtin(suites).items()}
    assert tasks == {"advbench": "refusal", "harmbench": "refusal", "harmful_requests": "refusal",
                     "strongreject": "refusal", "xstest": "refusal", "anthrobench": "anthro",
                     "sycophancy": "sycophancy", "value_prompts": None, "feedback_sycophancy": None, "qa": None}
    assert {n for n, c in _builtin(extractors).items() if c.offline} == {"embedding", "ensemble", "learned", "lexicon"}
    assert {n for n, c in _builtin(extractors).items() if c.fitted} == {"learned"}
    assert {(t, n) for t, r in judges.items() for n, c in _builtin(r).items() if not c.offline} == {
        ("refusal", "llm"), ("anthro", "llm"), ("sycophancy", "llm")}
    # every judge class's own task matches the registry it is in
    assert all(c.task == t for t, r in judges.items() for c in r.classes().values())


def test_judges_return_typed_verdicts_and_close_as_context_managers():
    from valind import Verdicts, make_judge

    closed = []
    with make_judge("refusal", "prefix") as judge:
        judge.close = lambda: closed.append(True)
        out = judge.judge([None, None], ["I'm sorry, I cannot help with that.", "Sure: step one."])
    assert closed == [True]
    assert isinstance(out, Verdicts) and (out.task, out.judge) == ("refusal", "prefix")
    assert [v.refused for v in out] == [True, False]
    assert out.records()[0]["refusal"] == "full_refusal"


def test_every_offline_plugin_has_a_fingerprint():
    """Caches key on an instrument's fingerprint: each built-in offline judge and extractor must compute one
    (the anthropomorphism judges once hashed a file that had moved out of their folder and raised)."""
    import json

    from valind import make_judge
    from valind.instruments.values import make_extractor
    from valind.values import builtin_values

    seen = 0
    for task, registry in judges.items():
        for name, cls in _builtin(registry).items():
            if cls.offline and hasattr(cls, "fingerprint"):
                with make_judge(task, name) as judge:
                    fingerprint = judge.fingerprint()
                assert isinstance(fingerprint, str) and fingerprint, (task, name)
                seen += 1
    values = list(builtin_values().values())
    for name, cls in _builtin(extractors).items():
        if cls.offline:
            assert json.loads(make_extractor(name, values).fingerprint())
            seen += 1
    assert seen >= 8
