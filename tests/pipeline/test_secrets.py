"""Security: secrets leave no trace, outputs stay inside the run directory, no remote code, no pickles.

The secrets test runs a whole study (ingest -> report) whose generation goes to
an OpenAI-compatible stub server on 127.0.0.1, with a fake API key in the
environment (`api_key_env`) and another in the endpoint URL's query string. The
stub checks that both keys really were sent; afterwards neither key may appear
in any file under the run directory (study.yaml, manifests, caches, report) or
in anything logged or printed, and an endpoint failure must not show them either.
"""

from __future__ import annotations

import ast
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from valind.cli import main as cli_main
from valind.config import ConfigError, load_study, parse_study
from valind.pipeline import STAGES, run_stage, run_study
from valind.values import load_values
from tests.conftest import DEMO_PAIRS

ENV_KEY = "sk-FAKEENVKEY-5f3a9c71"
URL_KEY = "FAKEURLKEY-77b1e2d4"
HUB_TOKEN = "hf_FAKEHUBTOKEN_0c9e"
SECRETS = (ENV_KEY, URL_KEY, HUB_TOKEN)
SRC = Path(__file__).resolve().parents[2] / "src" / "valind"


class _StubOpenAI(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        data = json.dumps({"choices": [{"message": {"content": "I cannot help with that, sorry."},
                                        "finish_reason": "stop"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def stub_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubOpenAI)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _study(tiny_model_dir: Path, base_url: str) -> dict:
    return {
        "name": "secrets",
        "models": [{"name": str(tiny_model_dir), "label": "tiny"}],
        "values": ["empathy"],
        "sources": [{"kind": "generic", "path": DEMO_PAIRS, "limit": 8}],
        "curation": {"min_subset_size": 50},  # 8 pairs: nothing to train: generation is the base model over HTTP
        "generation": {"backend": "openai", "max_new_tokens": 8,
                       "options": {"base_url": base_url, "api_key_env": "VALIND_TEST_API_KEY", "max_retries": 0,
                                   "timeout": 5}},
        "evaluation": {"suites": [{"name": "value_prompts", "limit": 2}, {"name": "harmful_requests", "limit": 2}]},
    }


def _traces(run_dir: Path, texts: list[str]) -> list[str]:
    """Where any secret appears: files under the run dir (bytes), and the given captured texts."""
    found = []
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path}: {s}" for s in SECRETS if s.encode() in data]
    for i, text in enumerate(texts):
        found += [f"captured output #{i}: {s}" for s in SECRETS if s in text]
    return found


def test_secrets_leave_no_trace(tiny_model_dir, stub_server, tmp_path, monkeypatch, caplog, capfd):
    monkeypatch.setenv("VALIND_TEST_API_KEY", ENV_KEY)
    monkeypatch.setenv("HF_TOKEN", HUB_TOKEN)
    caplog.set_level(logging.DEBUG)
    port = stub_server.server_address[1]
    study_file = tmp_path / "study.yaml"
    study_file.write_text(yaml.safe_dump(_study(tiny_model_dir, f"http://127.0.0.1:{port}/v1?key={URL_KEY}")))
    run_dir = tmp_path / "run"

    # `valind run` minus its instrument validation on the gold set (slow, and it reads no secret)
    ctx = run_study(load_study(study_file), run_dir, progress=False, stages=STAGES[:STAGES.index("evaluate") + 1])
    run_stage(ctx, "report")

    # The keys were really used: the stub saw both.
    assert stub_server.seen, "no request reached the stub server"
    assert all(r["auth"] == f"Bearer {ENV_KEY}" for r in stub_server.seen)
    assert all(parse_qs(urlsplit(r["path"]).query) == {"key": [URL_KEY]} for r in stub_server.seen)
    assert (run_dir / "evaluate" / "results.parquet").exists() and (run_dir / "report" / "report.html").exists()
    dumped = yaml.safe_load((run_dir / "study.yaml").read_text())
    assert dumped["generation"]["options"]["base_url"] == f"http://127.0.0.1:{port}/v1?key=***"
    assert dumped["generation"]["options"]["api_key_env"] == "VALIND_TEST_API_KEY"  # the variable's name stays

    # An endpoint failure: the error and the logs name the endpoint without its key.
    bad = _study(tiny_model_dir, f"http://127.0.0.1:{_free_port()}/v1?key={URL_KEY}")
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text(yaml.safe_dump(bad))
    assert cli_main(["generate", str(bad_file), "--out", str(run_dir), "--force", "--no-progress"]) == 2
    out, err = capfd.readouterr()
    assert "valind: error:" in err and "key=***" in err

    assert _traces(run_dir, [caplog.text, out, err]) == []


def test_config_dump_redacts_every_kind_of_secret():
    cfg = parse_study({
        "sources": [{"kind": "hh_rlhf", "path": "x.jsonl"}],
        "generation": {"backend": "openai", "options": {
            "base_url": "https://alice:FAKEPASS-1@api.example.com/v1?api-version=2024&token=FAKETOKEN-2",
            "api_key": "FAKEKEY-3", "api_key_env": "MY_KEY", "extra_body": {"hf_token": "FAKETOKEN-4"}}},
        "extractor": {"name": "llm", "options": {"backend_options": {"password": "FAKEPASS-5"}}},
    })
    from valind.pipeline import study_yaml

    text = study_yaml(cfg)
    assert not any(f"FAKE{k}" in text for k in ("PASS-1", "TOKEN-2", "KEY-3", "TOKEN-4", "PASS-5")), text
    assert "MY_KEY" in text and "api.example.com/v1" in text
    assert cfg.generation.options["api_key"] == "FAKEKEY-3"  # the live config is untouched


def test_config_errors_do_not_echo_a_secret_url():
    with pytest.raises(ConfigError) as info:
        parse_study({"sources": [{"kind": "hh_rlhf", "path": "x.jsonl"}],
                     "generation": {"options": "http://h/v1?key=FAKEKEY-6"}})
    assert "generation.options" in str(info.value) and "FAKEKEY-6" not in str(info.value)


# ---------------------------------------------------------------- outputs stay under the run directory
@pytest.mark.parametrize("section, field_path", [
    ({"models": [{"name": "x", "label": "../../evil"}]}, "models.0.label"),
    ({"models": [{"name": "x", "label": "/tmp/evil"}]}, "models.0.label"),
    ({"values": ["../x"]}, "values"),
    ({"evaluation": {"suites": [{"name": "../../suite"}]}}, "evaluation.suites.0.name"),
    ({"evaluation": {"suites": [{"name": ".."}]}}, "evaluation.suites.0.name"),
])
def test_names_that_would_leave_the_run_dir_are_config_errors(section, field_path):
    with pytest.raises(ConfigError) as info:
        parse_study({"sources": [{"kind": "hh_rlhf", "path": "x.jsonl"}], **section})
    assert f"{field_path}:" in str(info.value) and "folder name" in str(info.value)


def test_a_hostile_study_writes_nothing_outside_the_run_dir(tmp_path, capsys):
    """The CLI refuses before writing anything; and a user value file naming a value '../x' is refused too."""
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump({"values": {"../x": {
        "definition": "A value whose name tries to climb out.", "category": "Social", "valence": "neutral"}}}))
    study = tmp_path / "cfg" / "study.yaml"
    study.parent.mkdir()
    study.write_text(yaml.safe_dump({"sources": [{"kind": "generic", "path": DEMO_PAIRS}],
                                     "models": [{"name": "x", "label": "../../evil"}]}))
    before = sorted(p for p in tmp_path.rglob("*"))
    assert cli_main(["ingest", str(study), "--out", str(tmp_path / "cfg" / "run")]) == 2
    assert "models.0.label" in capsys.readouterr().err
    assert sorted(p for p in tmp_path.rglob("*")) == before

    cfg = parse_study({"sources": [{"kind": "hh_rlhf", "path": "x.jsonl"}], "value_definitions": str(values_file)})
    with pytest.raises(ConfigError, match=r"value_definitions: value name '\.\./x'"):
        cfg.resolve_value_names(load_values(cfg.value_definitions))


@pytest.mark.parametrize("name, slug", [("org/Model-7B", "Model-7B"), ("../..", "model"), ("/models/x/..", "model"),
                                        ("embedded:smollm2-135m-instruct", "smollm2-135m-instruct"),
                                        ("weird name!/ü", "model"), ("a/b c", "b-c")])
def test_derived_model_folder_names_are_safe(name, slug):
    from valind.config import ModelSpec

    assert ModelSpec(name=name).slug == slug


# ---------------------------------------------------------------- remote code and pickles
def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node, ast.unparse(node.func), {k.arg: k.value for k in node.keywords}


def test_no_remote_code_no_pickles_safetensors_only_in_the_source():
    """Every model load in src/: trust_remote_code is never hard-wired on, weights come from safetensors."""
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = lambda node: f"{path.relative_to(SRC)}:{node.lineno}"  # noqa: E731
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
                if any(n and n.split(".")[0] in ("pickle", "cloudpickle", "dill", "joblib") for n in names):
                    problems.append(f"{where(node)}: imports a pickle library")
        for node, func, kw in _calls(tree):
            trc = kw.get("trust_remote_code")
            if isinstance(trc, ast.Constant) and trc.value is True:
                problems.append(f"{where(node)}: trust_remote_code=True hard-wired")
            if func.endswith("torch.load") or func == "load" and "torch" in ast.unparse(node):
                wo = kw.get("weights_only")
                if not (isinstance(wo, ast.Constant) and wo.value is True):
                    problems.append(f"{where(node)}: torch.load without weights_only=True")
            loads_weights = func.endswith(".from_pretrained") and any(
                k in func for k in ("AutoModel", "ForCausalLM", "ForSequenceClassification"))
            if loads_weights and "gguf_file" not in kw:
                safe = kw.get("use_safetensors")
                if not (isinstance(safe, ast.Constant) and safe.value is True):
                    problems.append(f"{where(node)}: {func} without use_safetensors=True")
    assert problems == []


def test_a_pickle_only_checkpoint_is_refused(tmp_path):
    """A model folder holding only pytorch_model.bin (a pickle) is not loaded."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from valind.models import load_causal_lm

    config = LlamaConfig(vocab_size=32, hidden_size=8, intermediate_size=16, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2)
    folder = tmp_path / "pickled"
    LlamaForCausalLM(config).save_pretrained(folder, safe_serialization=False)
    if not (folder / "pytorch_model.bin").exists():
        torch.save(LlamaForCausalLM(config).state_dict(), folder / "pytorch_model.bin")
    for f in folder.glob("*.safetensors"):
        f.unlink()
    with pytest.raises(OSError, match="safetensors"):
        load_causal_lm(str(folder), device="cpu")
