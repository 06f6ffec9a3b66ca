"""The run's own validation (RUN_DIR/validation/): the instruments the study is configured with, in-sample
figures marked, LLM judges measured only when reachable, and stamped with the instruments' code version."""

from __future__ import annotations

import http.server
import json
import socket
import threading

import pytest

from valind.calibration import stage as validation
from valind.config import parse_study
from valind.context import RunContext
from valind.instruments import instruments_version


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def _ctx(tmp_path, port, xstest_judge=None) -> RunContext:
    llm = {"backend": "openai", "model": "judge-8b", "backend_options": {"base_url": f"http://127.0.0.1:{port}/v1"}}
    cfg = parse_study({"sources": [{"kind": "generic", "path": "x.jsonl"}],
                       "extractor": {"name": "lexicon", "options": {"context": False}},  # no refusal judge: quick
                       "evaluation": {"suites": [
                           {"name": "harmful_requests", "judge": "prefix"},
                           {"name": "advbench", "judge": "prefix"},       # the same judge: measured once
                           {"name": "xstest", "judge": xstest_judge},     # None: the offline default (learned)
                           {"name": "anthrobench", "judge": "llm", "options": {"judge_options": llm}},
                           {"name": "sycophancy"}]}}, base_dir=tmp_path)
    return RunContext(config=cfg, run_dir=tmp_path / "run", progress=False)


def test_validation_measures_the_configured_instruments(tmp_path, shared_data, monkeypatch):
    ctx = _ctx(tmp_path, _closed_port(), xstest_judge="xstest-strmatch")
    assert validation.write_validation(ctx)
    judges = json.loads((ctx.run_dir / "validation" / "judges.json").read_text())
    extractor = json.loads((ctx.run_dir / "validation" / "extractor.json").read_text())
    assert judges["instruments_version"] == extractor["instruments_version"] == instruments_version()
    entries = judges["judges"]
    assert set(entries) == {"refusal:prefix", "refusal:xstest-strmatch", "sycophancy:detector",
                            next(k for k in entries if k.startswith("anthro:llm "))}
    assert "refusal:learned" not in entries  # not a fixed default set: only what the suites use
    prefix = entries["refusal:prefix"]
    assert prefix["suites"] == ["harmful_requests", "advbench"] and entries["refusal:xstest-strmatch"]["suites"] == ["xstest"]
    assert prefix["n"] == 450 and 0.5 < prefix["all"]["refused"]["accuracy"] < 1.0 and prefix["in_sample"] is False
    llm = next(v for k, v in entries.items() if k.startswith("anthro:llm"))
    assert "not reachable" in llm["not_measured"] and "all" not in llm and "outside_dev" not in llm
    assert "no labelled sycophancy set" in entries["sycophancy:detector"]["not_measured"]
    # the configured extractor, on the in-house set and the sets nobody here wrote
    assert extractor["extractor"] == "lexicon" and extractor["options"] == {"context": False}
    # the in-house set was written by the author of the lexicon's cues: its figure there is marked in-sample
    assert extractor["in_sample"] is True and "in-house" in extractor["in_sample_note"]
    assert 0 < extractor["macro"]["ap"] <= 1 and extractor["failures"] == 0
    assert 0 < extractor["labelled_sets"]["moralchoice"]["macro_ap"] <= 1
    assert set(extractor["labelled_sets"]["moralchoice"]["per_value"]) <= {"deception", "violence", "legality"}

    assert not validation.write_validation(ctx)  # current: nothing measured again
    monkeypatch.setattr(validation, "instruments_version", lambda measure=None: "an-edited-instrument")
    assert validation.write_validation(ctx)  # an edited instrument invalidates the figures
    again = json.loads((ctx.run_dir / "validation" / "judges.json").read_text())
    assert again["instruments_version"] == "an-edited-instrument"


@pytest.mark.slow
def test_a_fitted_judge_is_the_default_when_unset_and_its_figure_is_marked_in_sample(tmp_path, shared_data):
    entry = {"task": "refusal", "judge": "learned", "options": {}, "suites": ["xstest"]}
    assert entry in validation.configured_judges(_ctx(tmp_path, _closed_port()).config)
    res = validation.measure_judge(entry)
    assert res["in_sample"] is True and "fitted on these rows" in res["in_sample_note"] and res["n"] == 450
    # beside the in-sample figure: the judge refitted per fold (by prompt) and on one model, tested on the other
    assert "grouped by prompt" in res["cross_validated"]["how"] and "leave one model out" in res["transfer"]["how"]
    assert 0.5 < res["cross_validated"]["refused"]["accuracy"] < res["all"]["refused"]["accuracy"] + 0.05


def test_an_llm_backend_counts_as_reachable_only_when_something_answers():
    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # a server that answers, even with an error, is reachable
            self.send_error(404)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        assert validation.unreachable({"backend": "openai", "backend_options": {"base_url": url}}) is None
    finally:
        server.shutdown()
        server.server_close()
    why = validation.unreachable({"backend": "openai", "backend_options": {"base_url": url}})
    assert why and "not reachable" in why and url.split("//")[1] in why
    local = validation.unreachable({"backend": "transformers"})
    import torch
    assert (local is None) == torch.cuda.is_available()


def test_a_second_run_with_the_same_instruments_copies_the_figures(tmp_path, shared_data, monkeypatch):
    """The figures depend on the instruments and the labelled files only: kept per machine, a second run
    copies them; an edited instrument or --force measures again."""
    first = _ctx(tmp_path, _closed_port(), xstest_judge="xstest-strmatch")
    assert validation.write_validation(first)
    second = RunContext(config=first.config, run_dir=tmp_path / "run2", progress=False)
    measured = []
    real = validation.measure_extractor
    monkeypatch.setattr(validation, "measure_extractor", lambda ctx: measured.append(ctx) or real(ctx))
    assert validation.write_validation(second) and measured == []
    for f in ("extractor.json", "judges.json"):
        assert (second.run_dir / "validation" / f).read_bytes() == (first.run_dir / "validation" / f).read_bytes()
    forced = RunContext(config=first.config, run_dir=tmp_path / "run3", force=True, progress=False)
    assert validation.write_validation(forced) and len(measured) == 1
    monkeypatch.setattr(validation, "instruments_version", lambda measure=None: "an-edited-instrument")
    assert validation.write_validation(RunContext(config=first.config, run_dir=tmp_path / "run4", progress=False))
    assert len(measured) == 2
