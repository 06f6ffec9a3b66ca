"""`valind export hub RUN_DIR --repo-prefix ORG/NAME`: every adapter of a run as a hub model repo.

For each adapter the upload folder is staged under RUN_DIR/export/hub/<model>/<value>/seed<k>/: the
PEFT adapter's files (safetensors weights, adapter_config.json whose `base_model_name_or_path` names
the hub base model instead of a local path, tokenizer files) and the model card (README.md, rewritten
from the run first). The upload is a plan of huggingface_hub `HfApi` calls (`create_repo`,
`upload_folder`); `--dry-run` prints the plan and the files and calls nothing. The token is read from
HF_TOKEN only, passed to HfApi, and never printed or written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, ValindError
from ..layout import RunFolder
from .cards import CARD, Adapter, adapter_files, base_model_ref, write_cards

UPLOADED_SUFFIXES = {".safetensors", ".json", ".jinja", ".txt", ".model", ".md"}  # never pickles (.bin, .pt)
_REPO_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass
class RepoPlan:
    """One repo: its id, the staged folder, what is uploaded, what is left out and why, the HfApi calls."""

    repo_id: str
    folder: Path
    files: list[Path]
    left_out: list[str] = field(default_factory=list)
    calls: list[tuple[str, dict]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # card fields the run could not fill


def check_prefix(prefix: str) -> tuple[str, str]:
    parts = prefix.split("/")
    if len(parts) != 2 or not all(_REPO_PART.fullmatch(p) for p in parts):
        raise ConfigError(f"--repo-prefix {prefix!r}: give ORG/NAME (letters, digits, '-', '_', '.'), e.g. "
                          f"my-lab/valind-empathy")
    return parts[0], parts[1]


def repo_id(prefix: str, a: Adapter) -> str:
    """ORG/NAME-<model>-<value>[-<point>]-seed<k>, within the hub's naming rules (96 characters, no '--')."""
    org, name = check_prefix(prefix)
    raw = "-".join([name, a.model_slug, a.label.replace("@", "-"), f"seed{a.seed}"])
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", raw)
    clean = re.sub(r"-{2,}", "-", re.sub(r"\.{2,}", ".", clean)).strip("-.")
    if len(clean) > 96:
        raise ConfigError(f"hub repo name {clean!r} is longer than 96 characters; use a shorter --repo-prefix")
    return f"{org}/{clean}"


def _stage(a: Adapter, card: str, folder: Path, base_model: str) -> tuple[list[Path], list[str]]:
    """Copy the adapter's uploadable files and its card into `folder`; point adapter_config at the hub base model."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / CARD).write_text(card, encoding="utf-8")
    files, left_out = [folder / CARD], []
    for src in adapter_files(a.adapter_dir):
        rel = src.relative_to(a.adapter_dir)
        if src.suffix not in UPLOADED_SUFFIXES:
            left_out.append(f"{rel} (not a safetensors/JSON/text file)")
            continue
        dst = folder / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        files.append(dst)
    config = folder / "adapter_config.json"
    if config.exists():
        data = json.loads(config.read_text(encoding="utf-8"))
        hub_base, _ = base_model_ref(base_model)
        # A local path (the embedded model's cache, a checkpoint folder) means nothing to someone else.
        data["base_model_name_or_path"] = hub_base or Path(str(data.get("base_model_name_or_path", ""))).name
        config.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return files, left_out


def plan_upload(run_dir: str | Path, repo_prefix: str, *, private: bool = False) -> list[RepoPlan]:
    """Write the cards, stage each adapter's upload folder, and return the HfApi calls that upload them."""
    run_dir = Path(run_dir)
    check_prefix(repo_prefix)
    cards = write_cards(run_dir)
    if not cards:
        raise ValindError(f"{run_dir / 'train'}: no trained adapters; run `valind train` (or `valind run`) first")
    import yaml

    study_path = RunFolder(run_dir).study
    study = (yaml.safe_load(study_path.read_text(encoding="utf-8")) or {}) if study_path.exists() else {}
    names = {m.get("label") or "": m.get("name") for m in study.get("models") or []}
    plans = []
    for a, card, _ in cards:
        rid = repo_id(repo_prefix, a)
        folder = run_dir / "export" / "hub" / a.job_dir.relative_to(RunFolder(run_dir).train)
        base = names.get(a.model_slug) or str(a.metrics.get("model", ""))
        files, left_out = _stage(a, str(card.card), folder, base)
        message = f"valind adapter {a.job_id} (study {study.get('name', '?')})"
        calls = [("create_repo", {"repo_id": rid, "repo_type": "model", "private": private, "exist_ok": True}),
                 ("upload_folder", {"repo_id": rid, "repo_type": "model", "folder_path": str(folder),
                                    "commit_message": message})]
        plans.append(RepoPlan(rid, folder, sorted(files), left_out, calls, card.missing))
    if len({p.repo_id for p in plans}) != len(plans):
        raise ConfigError("two adapters map to the same hub repo name; use a shorter model label or value name")
    return plans


def upload(plans: list[RepoPlan], token: str) -> list[str]:
    """Run the planned calls with HfApi; return the repo URLs. Errors name the repo, never the token."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    urls = []
    for plan in plans:
        for name, kwargs in plan.calls:
            try:
                result = getattr(api, name)(**kwargs)
            except Exception as exc:  # HTTP, offline mode, permissions: one clear line  # noqa: BLE001
                text = str(exc).replace(token, "***") if token else str(exc)
                raise ValindError(f"hub upload of {plan.repo_id} failed at {name}: {type(exc).__name__}: {text}") \
                    from None
            if name == "create_repo":
                urls.append(str(result))
    return urls


def main(args) -> int:
    plans = plan_upload(args.run_dir, args.repo_prefix, private=args.private)
    for p in plans:
        size = sum(f.stat().st_size for f in p.files)
        print(f"{p.repo_id}  ({len(p.files)} files, {size / 1e6:.2f} MB, staged in {p.folder})")
        for f in p.files:
            print(f"    {f.relative_to(p.folder)}  {f.stat().st_size:,} bytes")
        for note in p.left_out:
            print(f"    not uploaded: {note}")
        if p.missing:
            print(f"    card lacks: {'; '.join(p.missing)}")
        for name, kwargs in p.calls:
            print(f"    HfApi.{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})")
    if args.dry_run:
        print(f"dry run: {len(plans)} repos planned, nothing uploaded")
        return 0
    token = os.environ.get("HF_TOKEN")
    if not token:
        raise ConfigError("set HF_TOKEN to a hub token with write access; valind reads it from the environment only "
                          "and never writes it (or use --dry-run)")
    for url in upload(plans, token):
        print(f"uploaded: {url}")
    return 0


__all__ = ["RepoPlan", "plan_upload", "repo_id", "upload"]
