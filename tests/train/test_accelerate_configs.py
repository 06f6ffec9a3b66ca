"""The shipped accelerate configs (DDP, DeepSpeed ZeRO-2, FSDP) through accelerate's own config loader and
`accelerate launch` argument parsing and validation, with the exact arguments valind launches a job with."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from accelerate.commands.config.config_args import load_config_from_file
from accelerate.commands.launch import _validate_launch_command, launch_command_parser

from valind.train.stage import accelerate_arguments

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs" / "accelerate").glob("*.yaml"))


def check(config_file: Path) -> object:
    """Load and validate as `accelerate launch --config_file F -m valind.train.worker ...` would; every key of the
    nested deepspeed/fsdp sections must be an option accelerate launch knows (unknown ones are silently ignored)."""
    config = load_config_from_file(str(config_file))  # rejects unknown top-level keys
    parser = launch_command_parser()
    args = parser.parse_args(accelerate_arguments(str(config_file), "job.json", "work"))
    _validate_launch_command(args)
    known = {a.dest for a in parser._actions}
    for section in ("deepspeed_config", "fsdp_config"):
        for key in getattr(config, section) or {}:
            name = key if section != "fsdp_config" or key.startswith("fsdp") else f"fsdp_{key}"
            if name not in known:
                raise ValueError(f"{config_file.name}: {section}.{key} is not an accelerate launch option")
    return args


@pytest.mark.parametrize("config_file", CONFIGS, ids=[c.stem for c in CONFIGS])
def test_shipped_config_passes_accelerates_own_checks(config_file):
    args = check(config_file)
    assert args.training_script == "valind.train.worker" and args.module
    kind = yaml.safe_load(config_file.read_text())["distributed_type"]
    assert {"DEEPSPEED": args.use_deepspeed, "FSDP": args.use_fsdp, "MULTI_GPU": args.multi_gpu}[kind]


def test_a_misspelt_key_is_caught(tmp_path):
    data = yaml.safe_load(next(c for c in CONFIGS if c.stem == "deepspeed_zero2").read_text())
    data["deepspeed_config"]["zero_stag"] = 2
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match=r"deepspeed_config\.zero_stag"):
        check(bad)
    data = yaml.safe_load(next(c for c in CONFIGS if c.stem == "fsdp").read_text())
    data["num_procceses"] = 8
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match="unknown keys"):
        check(bad)


def test_paper_config_accumulation_matches_its_deepspeed_config():
    repo = Path(__file__).resolve().parents[2]
    paper = yaml.safe_load((repo / "configs" / "paper_llama8b.yaml").read_text())
    ds = yaml.safe_load((repo / "configs" / paper["training"]["accelerate_config"]).read_text())
    assert ds["deepspeed_config"]["gradient_accumulation_steps"] == paper["training"]["gradient_accumulation_steps"]
