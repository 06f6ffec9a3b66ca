"""Training options TRL has and valind does not name (`training.trl_overrides`), and base checkpoints
without a chat template (`models[].chat_template`), on a tiny Llama."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from valind.config import parse_study
from valind.errors import ConfigError

STUDY = {"name": "opts", "sources": [{"kind": "generic", "path": "x.jsonl"}]}


def with_training(**training) -> dict:
    return {**STUDY, "training": training}


def checked(data: dict):
    """Load a study, then check its training options where training is planned (loading never imports TRL)."""
    from valind.train.stage import check_training_options

    cfg = parse_study(data)
    check_training_options([cfg.training])
    return cfg


def test_trl_overrides_are_checked_against_the_installed_trl_configs(tmp_path):
    with pytest.raises(ConfigError, match=r"training\.trl_overrides\.warmup_stepz: not a field of DPOConfig "
                                          r"in the installed TRL [\d.]+; did you mean warmup_steps"):
        checked(with_training(trl_overrides={"warmup_stepz": 10}))
    with pytest.raises(ConfigError, match=r"trl_overrides\.learning_rate: valind sets this from training\.learning_rate"):
        checked(with_training(trl_overrides={"learning_rate": 1e-4}))
    with pytest.raises(ConfigError, match=r"trl_overrides\.label_smoothing: not a field of SFTConfig"):
        checked(with_training(method="sft", trl_overrides={"label_smoothing": 0.1}))  # a DPO-only option
    # the train stage plans its jobs through the same check, before anything trains
    from valind.context import RunContext
    from valind.train.stage import plan_jobs

    (tmp_path / "curate").mkdir()
    (tmp_path / "curate" / "stats.csv").write_text("value,pairs,train,heldout,flipped_share,trained\nempathy,8,8,0,0.0,True\n")
    (tmp_path / "curate" / "subsets" / "empathy").mkdir(parents=True)
    (tmp_path / "curate" / "subsets" / "empathy" / "train.jsonl").write_text("")
    bad = parse_study({**with_training(trl_overrides={"warmup_stepz": 10}), "values": ["empathy"]})
    with pytest.raises(ConfigError, match=r"trl_overrides\.warmup_stepz: not a field of DPOConfig"):
        plan_jobs(RunContext(config=bad, run_dir=tmp_path))
    cfg = checked(with_training(trl_overrides={"warmup_steps": 10, "lr_scheduler_type": "cosine",
                                                   "weight_decay": 0.01, "loss_type": ["ipo"]}))
    assert cfg.training.trl_overrides["lr_scheduler_type"] == "cosine"


def test_trl_overrides_reach_the_trainer_config_and_the_job_hash(tmp_path, tiny_model_dir):
    from valind.config import ModelSpec, TrainingSpec
    from valind.train.induce import TrainJob, trl_args

    def job(**over):
        return TrainJob(model=ModelSpec(name=str(tiny_model_dir)), value="empathy", seed=0, train_file="none",
                        training=TrainingSpec(**over), out_dir=str(tmp_path))

    plain, tuned = job(), job(trl_overrides={"warmup_steps": 3, "lr_scheduler_type": "cosine", "loss_type": ["ipo"]})
    args = trl_args(tuned, str(tmp_path / "t"), 10)
    assert args.warmup_steps == 3 and "cosine" in str(args.lr_scheduler_type).lower() and args.loss_type == ["ipo"]
    assert trl_args(plain, str(tmp_path / "p"), 10).warmup_steps != 3
    assert plain.job_hash != tuned.job_hash  # a changed override retrains


@pytest.fixture(scope="module")
def base_checkpoint(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny Llama without a chat template, as a base checkpoint ships."""
    import json

    out = tmp_path_factory.mktemp("base") / "tiny-base"
    shutil.copytree(tiny_model_dir, out)
    (out / "chat_template.jinja").unlink(missing_ok=True)
    cfg_file = out / "tokenizer_config.json"
    cfg = json.loads(cfg_file.read_text())
    cfg.pop("chat_template", None)
    cfg_file.write_text(json.dumps(cfg))
    from transformers import AutoTokenizer

    assert not AutoTokenizer.from_pretrained(out).chat_template
    return out


def test_a_base_checkpoint_needs_a_template_and_gets_the_named_one(base_checkpoint, tiny_model_dir):
    from valind.generate.backends.base import SamplingSettings, make_backend, release_engines
    from valind.models import load_tokenizer

    with pytest.raises(ConfigError, match=r"has no chat template .*`chat_template:`"):
        make_backend("transformers", str(base_checkpoint))
    tok = load_tokenizer(str(base_checkpoint), chat_template="plain")
    text = tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True)
    assert text == "User: Hi\n\nAssistant:"
    backend = make_backend("transformers", str(base_checkpoint), chat_template="tulu")
    assert backend.generate([[{"role": "user", "content": "Hi"}]], SamplingSettings(max_new_tokens=3))[0].text is not None
    assert "<|assistant|>" in backend.tokenizer.chat_template
    release_engines()
    own = load_tokenizer(str(tiny_model_dir), chat_template="tulu")  # a model's own template is never replaced
    assert "<|im_start|>" in own.chat_template


def test_dpo_trains_a_base_checkpoint_with_the_fallback_template(base_checkpoint, tmp_path):
    from tests.conftest import write_curated
    from valind.config import ModelSpec, TrainingSpec
    from valind.train.induce import TrainJob, train_adapter

    write_curated(tmp_path / "run", {"empathy": 8})
    job = TrainJob(model=ModelSpec(name=str(base_checkpoint), chat_template="tulu"), value="empathy", seed=0,
                   train_file=str(tmp_path / "run" / "curate" / "subsets" / "empathy" / "train.jsonl"),
                   training=TrainingSpec(max_steps=2, batch_size=4, learning_rate=5e-3, max_length=64),
                   out_dir=str(tmp_path / "job"))
    metrics = train_adapter(job, tmp_path / "work")
    assert metrics["steps"] == 2 and metrics["lora_tensors_changed"] > 0
    with pytest.raises(ConfigError, match="no chat template"):
        train_adapter(TrainJob(**{**job.__dict__, "model": ModelSpec(name=str(base_checkpoint))}), tmp_path / "w2")


def test_prompt_turns_trains_on_the_last_turn_of_long_conversations(tiny_model_dir, tmp_path):
    """training.prompt_turns: 1 keeps each prompt's last user turn, in training and in the reward check,
    so multi-turn prompts longer than max_length still leave the replies to learn from; it is part of
    the job's identity (a changed value retrains)."""
    import json

    from valind.config import ModelSpec, TrainingSpec
    from valind.train.induce import TrainJob, build_dataset, train_adapter

    earlier = [{"role": r, "content": f"turn {i}: " + "a long earlier message about many things " * 12}
               for i, r in enumerate(["user", "assistant"] * 3)]
    records = [{"prompt": earlier + [{"role": "user", "content": f"Question {k}: can you help me?"}],
                "chosen": "I am glad to help you kindly.", "rejected": "No, figure it out yourself."}
               for k in range(8)]
    train_file = tmp_path / "train.jsonl"
    train_file.write_text("".join(json.dumps(r) + "\n" for r in records))

    whole, last = build_dataset(records, "dpo"), build_dataset(records, "dpo", prompt_turns=1)
    assert len(whole[0]["prompt"]) == 7
    assert last[0]["prompt"] == [{"role": "user", "content": "Question 0: can you help me?"}]
    assert build_dataset(records, "dpo", prompt_turns=2)[0]["prompt"] == last[0]["prompt"]  # never an assistant first

    def job(**over):
        return TrainJob(model=ModelSpec(name=str(tiny_model_dir)), value="empathy", seed=0, train_file=str(train_file),
                        training=TrainingSpec(max_steps=2, batch_size=4, learning_rate=5e-3, max_length=48, **over),
                        out_dir=str(tmp_path / "job"))

    assert job().job_hash != job(prompt_turns=1).job_hash
    metrics = train_adapter(job(prompt_turns=1), tmp_path / "work")
    assert metrics["steps"] == 2 and metrics["lora_tensors_changed"] > 0
    with pytest.raises(ConfigError, match="prompt_turns"):
        parse_study(with_training(prompt_turns=0))
