"""The study config: one YAML file, validated with pydantic.

Every section is a model with `extra="forbid"`, so a misspelt field is an
error that names its path and the fields that are allowed.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from .errors import ConfigError
from .redact import redact_secrets
from .registry import backends, extractors, judges, suites

EMBEDDED_MODEL = "embedded:smollm2-135m-instruct"

# ---------------------------------------------------------------- names that become folders
# Model labels, value names and suite names become path components under the run
# directory (train/<model>/<value>/seed0, generate/.../<suite>.jsonl). This is the one
# rule for them, so no config can make valind write outside the run directory.
_SAFE_COMPONENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+=-]{0,99}")


def check_path_component(name: str, what: str) -> str:
    """`name` if it is safe as one folder name; otherwise ValueError saying why and what is allowed."""
    if not isinstance(name, str) or not _SAFE_COMPONENT.fullmatch(name) or name.endswith("."):
        raise ValueError(f"{what} {name!r} cannot be used as a folder name under the run directory: use 1-100 "
                         f"letters, digits and . _ - + = , starting with a letter or digit (no '/', '\\' or '..')")
    return name


def safe_path_component(text: str, fallback: str = "x") -> str:
    """A folder name made from any text: unsafe characters become '-', leading/trailing dots are dropped."""
    out = "".join(c if c.isascii() and (c.isalnum() or c in "-_.+=") else "-" for c in text)[:100]
    out = out.strip(".").lstrip("-_+=")
    return out if out and _SAFE_COMPONENT.fullmatch(out) else fallback


CONTROL = "control"  # the label of the value-agnostic control adapters (`control`, or `control-n<N>` per size)


def is_control(label: str) -> bool:
    """Whether an induced label (possibly `name@point`) is a control adapter."""
    name = str(label).split("@", 1)[0]
    return name == CONTROL or name.startswith(CONTROL + "-n")


def check_value_name(name: str) -> str:
    """A value name usable as a folder and not taken by the control arm."""
    check_path_component(name, "value name")
    if is_control(name):
        raise ValueError(f"value name {name!r} is reserved for the control adapters; rename the value")
    return name


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ModelSpec(_Section):
    """A base model: a hub id, a local directory, or `embedded:smollm2-135m-instruct`."""

    name: str = Field(description="Hub id (e.g. meta-llama/Llama-3.1-8B-Instruct), local path, or embedded:smollm2-135m-instruct")
    label: str | None = Field(None, description="Short name used in tables and paths; derived from `name` if unset")
    revision: str | None = None
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="Inference weights (generation, QA): auto = bfloat16 where the device computes it fast "
                            "(CUDA with bf16; a CPU with AMX or AVX512-BF16), else float32 (valind.precision)")
    trust_remote_code: bool = Field(False, description="Run model code from the hub. Off unless you ask for it.")
    chat_template: str | None = Field(
        None, description="Chat template for a checkpoint that has none (base and some SFT models): 'plain', 'tulu' "
                          "or a .jinja file (relative to the config). Never replaces a model's own template.")

    @field_validator("label")
    @classmethod
    def _label_is_a_folder_name(cls, v: str | None) -> str | None:
        return None if v is None else check_path_component(v, "model label")

    @property
    def slug(self) -> str:
        if self.label:
            return self.label
        base = self.name.rstrip("/").split("/")[-1].split(":")[-1]
        return safe_path_component(base, "model")


SourceKind = Literal["hh_rlhf", "pku_saferlhf", "ultrafeedback", "helpsteer2", "generic"]
# The licence each known dataset is published under (hub licence identifiers); a generic source's is
# unknown unless its `license` field says. Written into the model card of every adapter trained on it.
SOURCE_LICENSES = {"hh_rlhf": "mit", "pku_saferlhf": "cc-by-nc-4.0", "ultrafeedback": "mit", "helpsteer2": "cc-by-4.0"}


class SourceSpec(_Section):
    """One preference data source. Give `path` (local file) or `hub` (dataset name)."""

    kind: SourceKind
    path: str | None = Field(None, description="Local file (JSONL, JSON, CSV, Parquet, .gz allowed); relative to the config file")
    hub: str | None = Field(None, description="Hub dataset name for datasets.load_dataset")
    hub_config: str | None = Field(None, description="Hub dataset config name (e.g. 'main')")
    data_dir: str | None = Field(None, description="Hub data_dir (e.g. 'harmless-base' for Anthropic/hh-rlhf)")
    split: str = "train"
    limit: int | None = Field(None, ge=1, description="Read at most this many rows")
    label: str | None = Field(None, description="Name recorded in the pairs' `source` column")
    # adapter options
    preference: Literal["safer", "better"] = Field("safer", description="PKU-SafeRLHF: which preference defines chosen")
    pair_rule: Literal["best_vs_worst", "best_vs_random", "best_vs_each"] = Field(
        "best_vs_worst", description="UltraFeedback: how pairs are formed from rated completions")
    rating: str = Field("overall_score", description="UltraFeedback: rating used to rank completions")
    attribute: str = Field("helpfulness", description="HelpSteer2: attribute that ranks responses to the same prompt")
    columns: dict[str, str] = Field(default_factory=dict, description="generic: canonical field -> column (prompt, chosen, rejected, id)")
    license: str | None = Field(None, description="Licence of the data (a hub licence id such as mit, cc-by-4.0); "
                                "known kinds default to their published licence, generic sources to unknown")

    @model_validator(mode="after")
    def _one_location(self) -> "SourceSpec":
        if bool(self.path) == bool(self.hub):
            raise ValueError("give exactly one of 'path' (local file) or 'hub' (dataset name)")
        if self.kind == "generic" and not {"chosen", "rejected"} <= set(self.columns) | {"chosen", "rejected"}:
            raise ValueError("generic sources need columns for chosen and rejected")
        return self

    @property
    def source_label(self) -> str:
        return self.label or self.kind

    @property
    def data_license(self) -> str:
        """The licence the adapter cards report for this source: given, published for the kind, or unknown."""
        return self.license or SOURCE_LICENSES.get(self.kind, "unknown")


class OpenValuesSpec(_Section):
    """Open-ended extraction (the study's mode): the LLM extractor lists values in its own words too."""

    mode: Literal["also", "only"] = Field(
        "also", description="also: tag the defined values and name any other in the model's own words; only: the "
                            "model's own words alone, without the list (the study's prompt); either way a name that "
                            "matches a defined value counts as it, others are kept as free values")
    map_threshold: float = Field(0.75, gt=0, le=1, description="MiniLM cosine similarity at or above which a free "
                                 "name is mapped to the nearest defined value (0.75: sentence-transformers' default "
                                 "for near-duplicates, not tuned here; valind.instruments.values.open)")
    min_count: int = Field(3, ge=1, description="Free values listed fewer times in one model's generations of a "
                           "suite (all adapters together) are kept in the items but get no effect")
    report_top: int = Field(10, ge=1, description="Free values shown per adapter in the report, largest change first")


class ExtractorSpec(_Section):
    name: str = Field("learned", description="Extractor plug-in: learned (offline default: heads on MiniLM features trained on real labels), ensemble (embedding + lexicon), embedding, lexicon, llm")
    batch_size: int = Field(64, ge=1)
    thresholds_file: str | None = Field(None, description="YAML/JSON of per-value thresholds (from `valind extract validate --calibrate`)")
    context: Literal["last_turn", "conversation"] | None = Field(
        None, description="What extractors read beside each response: the last user turn, or the whole conversation "
                          "up to it (cut from the left to context_chars). Unset: conversation for the llm extractor, "
                          "last_turn for the offline ones (measured: bench/RESULTS.md)")
    context_chars: int = Field(4000, ge=100, description="Longest conversation context, in characters (kept: the end)")
    options: dict[str, Any] = Field(default_factory=dict, description="Extractor-specific options")
    open_values: OpenValuesSpec | None = Field(
        None, description="Open-ended extraction: values in the extractor's own words, mapped onto the defined values "
                          "where they match one and kept as free values otherwise (needs the llm extractor)")

    @model_validator(mode="after")
    def _open_values_need_an_llm(self) -> "ExtractorSpec":
        if self.open_values is not None and self.name != "llm":
            raise ValueError(f"open_values needs the llm extractor (an instruct model that lists values in its own "
                             f"words); the '{self.name}' extractor can only tag the defined values. Set "
                             f"extractor.name: llm (a GPU or an OpenAI-compatible server), or remove open_values")
        if self.open_values is not None and "open_values" in self.options:
            raise ValueError("give open-ended extraction once: extractor.open_values, not extractor.options.open_values")
        return self

    def plugin_options(self) -> dict[str, Any]:
        """The options the extractor plug-in is built with: `options`, plus the open-ended settings."""
        opts = dict(self.options)
        if self.open_values is not None:
            opts.update(open_values=self.open_values.mode, open_map_threshold=self.open_values.map_threshold)
        return opts

    @field_validator("name")
    @classmethod
    def _known_extractor(cls, v: str) -> str:
        return extractors.check(v)


class CurationSpec(_Section):
    min_subset_size: int = Field(500, ge=1, description="Values with fewer XOR pairs are reported and not trained")
    max_subset_size: int | None = Field(None, ge=1, description="Cap per subset (sampled deterministically)")
    heldout_fraction: float = Field(0.1, ge=0.0, lt=1.0)
    seed: int = 0
    equalize: bool = Field(True, description="Every trained value gets as many training pairs as the smallest trained "
                           "subset (the rest subsampled away, deterministically by `seed`), so effects are comparable")
    control: bool = Field(True, description="Train value-agnostic control adapters (label `control`) on random "
                          "source-stratified draws from the union of the value subsets, size- and step-matched; "
                          "every effect is then also reported against the control")
    value_suite_per_value: int = Field(20, ge=0, description="Prompts per value for the held-out value-expression "
                                       "suite (curate/value_suite.jsonl; suite value_prompts with options.source: "
                                       "heldout): prompts never trained on whose source responses expressed the value")
    value_suite_values: Literal["all", "induced"] = Field(
        "all", description="Which values the value suite draws prompts for: all defined values (the profile of "
                           "every value), or only the induced ones (power for the manipulation check: "
                           "value_suite_per_value prompts that invite each induced value)")


class LoraSpec(_Section):
    r: int = Field(4, ge=1)
    alpha: int = Field(16, ge=1)
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: list[str] | Literal["all-linear"] = ["q_proj", "k_proj", "v_proj", "o_proj"]


class TrainingSpec(_Section):
    method: Literal["dpo", "sft"] = "dpo"
    lora: LoraSpec = Field(default_factory=LoraSpec)
    beta: float = Field(0.1, gt=0)
    epochs: float = Field(5, gt=0)
    max_steps: int | None = Field(None, ge=1, description="Stop after this many optimizer steps (overrides epochs)")
    learning_rate: float = Field(5e-5, gt=0)
    batch_size: int = Field(4, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    max_length: int = Field(512, ge=8)
    prompt_turns: int | None = Field(None, ge=1, description="Keep only the last N messages of each training prompt "
                                     "(from a user turn on); default: the whole conversation. Long multi-turn "
                                     "contexts otherwise dominate CPU time and get truncated away at a short max_length")
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto", description="Training, the DPO reference pass and the implicit-reward check: auto = bf16 where the "
                            "device computes it fast (CUDA with bf16; a CPU with AMX or AVX512-BF16), else fp32. On a "
                            "CPU, bf16 is autocast over fp32 weights")
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    logging_steps: int = Field(1, ge=1)
    accelerate_config: str | None = Field(None, description="Run training under `accelerate launch --config_file` (DDP/DeepSpeed/FSDP)")
    precompute_ref_logprobs: bool = Field(True, description="DPO: compute the reference log-probs once per (model, subset) "
                                          "and reuse them across epochs, seeds and sweep points")
    reward_check_pairs: int = Field(200, ge=0, description="DPO: held-out pairs per value on which every adapter's "
                                    "implicit-reward accuracy and margin are measured after training (0 = off)")
    trl_overrides: dict[str, Any] = Field(
        default_factory=dict, description="Further TRL options valind does not name (e.g. warmup_steps, lr_scheduler_type, "
                                          "weight_decay, loss_type, gradient_checkpointing), checked against the installed "
                                          "DPOConfig / SFTConfig fields when training is planned (valind train, plan)")
    report_to: list[Literal["tensorboard", "wandb", "mlflow"]] = Field(
        default_factory=list, description="Experiment tracking through TRL (default none): tensorboard (offline; "
        "events in each adapter's tensorboard/ folder), wandb, mlflow (configured by their usual environment "
        "variables). One run per adapter, named by its job id, with the study config attached")

    @field_validator("report_to", mode="before")
    @classmethod
    def _report_to_list(cls, v):
        """Accept one name or `none` as TRL does: `report_to: tensorboard`, `report_to: none`."""
        if isinstance(v, str):
            return [] if v == "none" else [v]
        return v


class GenerationSpec(_Section):
    backend: str = Field("transformers", description="Generation backend: transformers, vllm, openai, or auto (vllm where it is installed and starts, else transformers)")
    max_new_tokens: int = Field(128, ge=1)
    temperature: float = Field(0.0, ge=0.0, description="0 = greedy")
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    batch_size: int = Field(8, ge=1)
    seed: int = 0
    options: dict[str, Any] = Field(default_factory=dict, description="Backend options (e.g. base_url, api_key_env)")

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, v: str) -> str:
        return backends.check(v, extra=("auto",))


class UserSimulatorSpec(_Section):
    """The LLM that plays AnthroBench's user after the first turn (multi-turn anthrobench)."""

    model: str = Field(description="Hub id, local path or embedded:smollm2-135m-instruct of the user model")
    backend: str | None = Field(None, description="Generation backend of the user model; unset = generation.backend")
    options: dict[str, Any] = Field(default_factory=dict, description="Its backend's options (e.g. base_url)")
    max_new_tokens: int = Field(96, ge=1, description="Length limit of a simulated user turn")
    temperature: float = Field(0.0, ge=0.0, description="0 = greedy")


class ConversationSpec(_Section):
    """Suite options `turns` and `user`: how many assistant turns each conversation has, and who plays the user."""

    turns: int = Field(1, ge=1, le=20, description="Assistant turns per conversation; 1 = first turns only")
    user: UserSimulatorSpec | None = Field(None, description="The user simulator (needed when turns > 1)")

    @model_validator(mode="after")
    def _user_when_several_turns(self) -> "ConversationSpec":
        if self.turns > 1 and self.user is None:
            raise ValueError("turns > 1 needs a user simulator: user: {model: ...}")
        return self


CONVERSATION_OPTIONS = ("turns", "user")
CONVERSATION_SUITES = ("anthrobench",)  # suites whose items carry a scenario a simulated user can continue


class SuiteSpec(_Section):
    name: str = Field(description="Suite name, e.g. value_prompts, harmful_requests, advbench, xstest, anthrobench, sycophancy, qa")
    limit: int | None = Field(None, ge=1)
    path: str | None = Field(None, description="Override the suite's data file")
    judge: str | None = Field(None, description="Judge plug-in; the suite's offline default if unset")
    options: dict[str, Any] = Field(default_factory=dict, description="Suite options; anthrobench also takes `turns` "
                                    "and `user` (ConversationSpec: multi-turn conversations with a simulated user)")

    @field_validator("name")
    @classmethod
    def _name_is_a_known_suite(cls, v: str) -> str:
        return suites.check(check_path_component(v, "suite name"))

    @field_validator("judge")
    @classmethod
    def _judge_of_the_suite_task(cls, v: str | None, info: ValidationInfo) -> str | None:
        """A named judge must be one for the suite's task (its `task` fact): checked at load, not after training."""
        if v is None or "name" not in info.data:  # no judge, or the suite name already failed
            return v
        task = suites.get(info.data["name"]).task
        if task is None:
            raise ValueError(f"suite '{info.data['name']}' uses no judge; remove `judge: {v}`")
        return judges[task].check(v)

    @model_validator(mode="after")
    def _conversation_options(self) -> "SuiteSpec":
        conv = self.conversation
        if conv.turns > 1 and self.name not in CONVERSATION_SUITES:
            raise ValueError(f"options.turns: multi-turn conversations are run for {', '.join(CONVERSATION_SUITES)} "
                             f"only, not {self.name}")
        return self

    @property
    def conversation(self) -> ConversationSpec:
        """The suite's `turns` and `user` options, validated (turns 1 and no user when unset)."""
        picked = {k: self.options[k] for k in CONVERSATION_OPTIONS if k in (self.options or {})}
        try:
            return ConversationSpec.model_validate(picked)
        except ValidationError as exc:
            raise ValueError("; ".join(".".join(["options", *map(str, e["loc"])]) + ": "
                                       + e["msg"].removeprefix("Value error, ") for e in exc.errors())) from None


class EvaluationSpec(_Section):
    suites: list[SuiteSpec] = Field(default_factory=lambda: [SuiteSpec(name="value_prompts"), SuiteSpec(name="harmful_requests")])


class ManipulationCheckSpec(_Section):
    """The confirmatory family: per induced value, pre-specified one-sided outcomes (valind.stats.manipulation)."""

    outcomes: list[Literal["reward_vs_chance", "reward_vs_control", "expression_vs_control"]] = Field(
        default_factory=lambda: ["reward_vs_chance", "reward_vs_control", "expression_vs_control"], min_length=1,
        description="reward_vs_chance: held-out implicit-reward accuracy above 0.5; reward_vs_control: above the "
                    "control adapter's on the same pairs; expression_vs_control: own-value expression above the "
                    "control's on the same held-out prompts")
    correction: Literal["holm", "bh"] = Field("holm", description="Correction across values x outcomes, within this "
                                              "family only (the exploratory effects are corrected separately)")
    alpha: float = Field(0.05, gt=0, lt=1)


class AnalysisSpec(_Section):
    manipulation_check: ManipulationCheckSpec = Field(default_factory=ManipulationCheckSpec)


class PlanSpec(_Section):
    """What `valind plan` assumes before anything has run (no effect on any stage)."""

    subset_sizes: Literal["all_pairs", "published"] = Field(
        "all_pairs", description="The training bound before curation: all_pairs = every induced value's subset holds "
                                 "every source pair; published = the study's published subset sizes (empathy 66.5k "
                                 "and violence 637 pairs; the other values were not published and are bounded by "
                                 "the largest), then valind's held-out split, equal budgets and caps")


class StudyConfig(_Section):
    """A whole study: what to ingest, which values to induce in which models, what to measure."""

    name: str = "study"
    models: list[ModelSpec] = Field(default_factory=lambda: [ModelSpec(name=EMBEDDED_MODEL)], min_length=1)
    values: list[str] = Field(default_factory=list, description="Values to induce (names from the value definitions); empty = all")
    value_definitions: str | None = Field(None, description="YAML adding or replacing value definitions")
    sources: list[SourceSpec] = Field(min_length=1)
    extractor: ExtractorSpec = Field(default_factory=ExtractorSpec)
    curation: CurationSpec = Field(default_factory=CurationSpec)
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    generation: GenerationSpec = Field(default_factory=GenerationSpec)
    evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)
    analysis: AnalysisSpec = Field(default_factory=AnalysisSpec, description="Pre-registered analysis: the "
                                   "manipulation check's confirmatory family")
    output_dir: str = Field("runs/study", description="Run directory (relative to the current directory)")
    skip_bad_rows: bool = Field(False, description="Skip and count malformed input rows instead of stopping")
    sweep: dict[str, list[Any]] = Field(default_factory=dict, description="Extra grid axes: dotted config path -> values")
    plan: PlanSpec = Field(default_factory=PlanSpec, description="Assumptions of `valind plan` before a run")

    @field_validator("values")
    @classmethod
    def _values_are_folder_names(cls, v: list[str]) -> list[str]:
        return [check_value_name(name) for name in v]

    def redacted_dump(self) -> dict:
        """The config as plain data with secrets (API keys, URL credentials and query values) replaced by ***."""
        return redact_secrets(self.model_dump(mode="json"))

    def section_hash(self, *sections: str) -> str:
        """Stable hash of the named sections, used to decide whether a stage must rerun."""
        data = self.model_dump(mode="json")
        picked = {s: data[s] for s in sections}
        return hashlib.sha256(json.dumps(picked, sort_keys=True).encode()).hexdigest()[:16]

    def resolve_value_names(self, known: dict) -> list[str]:
        names = self.values or list(known)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ConfigError(f"values: unknown value(s) {unknown}; allowed: {sorted(known)} (or add them in value_definitions)")
        for name in names:  # value definitions from a user file become subset and adapter folders
            try:
                check_value_name(name)
            except ValueError as exc:
                raise ConfigError(f"value_definitions: {exc}") from None
        return names


def _format_validation_error(exc: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid study config"]
    for err in exc.errors():
        loc = ".".join(_loc_part(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            parent = _model_at(StudyConfig, err["loc"][:-1])
            allowed = sorted(parent.model_fields) if parent else []
            msg = f"unknown field; allowed here: {', '.join(allowed)}"
        elif err["type"] == "missing":
            msg = "field required"
        if "input" in err and err["type"] not in ("missing", "extra_forbidden") and not isinstance(err["input"], dict):
            msg += f" (got {redact_secrets(err['input'])!r})"
        lines.append(f"  {loc}: {msg}")
    return "\n".join(lines)


def _loc_part(part) -> str:
    """One step of a field path; odd keys (empty, control characters, dots) are quoted so the path stays readable."""
    text = str(part)
    return text if text and text.isprintable() and not any(c in text for c in ".: ") else repr(part)


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """Walk a location path through nested pydantic models (skipping list indexes)."""
    import typing

    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        ann = field.annotation
        candidates = [ann, *typing.get_args(ann)]
        for arg in list(candidates):
            candidates.extend(typing.get_args(arg))
        nxt = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if nxt is None:
            return None
        model = nxt
    return model


def _resolve_paths(config: StudyConfig, base: Path, source: str = "<config>") -> StudyConfig:
    """Make relative data paths in the config relative to the config file's folder."""
    def fix(p: str | None, field: str) -> str | None:
        if p is None or p.startswith("package:"):
            return p
        try:
            q = Path(p).expanduser()
            return str(q if q.is_absolute() else (base / q).resolve())
        except (ValueError, RuntimeError, OSError) as exc:  # a NUL byte, ~unknownuser, ...
            raise ConfigError(f"{source}: {field}: not a usable path ({exc}): {p!r}") from None

    for i, s in enumerate(config.sources):
        s.path = fix(s.path, f"sources.{i}.path")
    config.value_definitions = fix(config.value_definitions, "value_definitions")
    config.extractor.thresholds_file = fix(config.extractor.thresholds_file, "extractor.thresholds_file")
    config.training.accelerate_config = fix(config.training.accelerate_config, "training.accelerate_config")
    for i, model in enumerate(config.models):
        if model.chat_template and model.chat_template.endswith(".jinja"):
            model.chat_template = fix(model.chat_template, f"models.{i}.chat_template")
    for i, suite in enumerate(config.evaluation.suites):
        suite.path = fix(suite.path, f"evaluation.suites.{i}.path")
    return config


class _StudyLoader(yaml.SafeLoader):
    """yaml.safe_load, except that a key given twice in one mapping is an error, not a silent overwrite."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # `<<: *anchor` merges are meant to be overridden
                key = self.construct_object(key_node, deep=deep)
                try:
                    duplicate = key in seen
                except TypeError:
                    continue  # an unhashable key: PyYAML reports it itself
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first given on line {seen[key] + 1})", key_node.start_mark)
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def parse_study(data: Any, source: str = "<config>", base_dir: Path | None = None) -> StudyConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a study config is a YAML mapping, got {type(data).__name__}")
    try:
        cfg = StudyConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, source)) from None
    return _resolve_paths(cfg, base_dir or Path.cwd(), source)


def load_study(path: str | Path | None = None) -> StudyConfig:
    """Load and validate a study YAML; with no path, the embedded default study."""
    if path is None:
        text = resources.files("valind").joinpath("data/default_study.yaml").read_text(encoding="utf-8")
        return parse_study(yaml.safe_load(text), "embedded default study", Path.cwd())
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: study config not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = yaml.load(text, Loader=_StudyLoader)  # noqa: S506 - a SafeLoader subclass
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the study config ({exc.strerror or exc})") from None
    if data is None:
        raise ConfigError(f"{path}: the file is empty; a study config is a YAML mapping (see `valind run --help`)")
    return parse_study(data, str(path), path.parent.resolve())
