"""Build the report of a run: effects, figures, one self-contained HTML file and a Markdown summary.

    build_report(run_dir)  ->  RUN_DIR/report/{report.html, summary.md, effects.csv, effects.parquet,
                                              claims.csv, figures/*.png|svg}
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import re
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from ..artifacts import atomic_write_text
from ..errors import ConfigError
from ..export.datacards import write_table
from ..stats import BASE, EffectOptions, compute_effects
from ..values import load_values
from . import figures as F
from .claims import QA_MARGIN, compare_with_study, tally
from .kinds import HARMFUL_SUITES, correction_family, metric_family, metric_name, suite_name
from .rundata import RunData, load_run
from .samples import pick_samples
from .summary import write_summary
from .templates import CSS, TABLE_MACRO, TEMPLATE

log = logging.getLogger("valind")

FAMILY_TITLES = {"expression": "Value expression", "expression_score": "Value scores (0-1)",
                 "refusal": "Refusal", "over_refusal": "Over-refusal",
                 "refusal_detail": "Refusal details (full/partial, by XSTest type)",
                 "anthro": "Anthropomorphic language", "sycophancy": "Sycophancy", "qa": "Question answering",
                 "other": "Other measures (rates, judge failures)"}


# ------------------------------------------------------------------ formatting
def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_pct(x) -> str:
    return "–" if _nan(x) else f"{x * 100:.1f}"


def fmt_effect_ci(e, lo, hi) -> str:
    if _nan(e):
        return "–"
    ci = "" if _nan(lo) else f" [{lo * 100:+.1f}, {hi * 100:+.1f}]"
    return f"{e * 100:+.1f}{ci}"


def fmt_p(p) -> str:
    return "–" if _nan(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-") or "x"


def _table(columns, rows, *, title="", numeric=(), highlight=None, emphasis=None, open_=False, empty="") -> dict:
    return {"title": title, "empty": empty, "columns": list(columns), "rows": [[("–" if _nan(c) else str(c)) for c in r] for r in rows],
            "numeric": set(numeric), "highlight": highlight, "emphasis": emphasis, "open": open_}


def _section(id_, title, intro="") -> dict:
    return {"id": id_, "title": title, "intro": intro, "figures": [], "skipped": [], "tables": [], "pre": []}


# ------------------------------------------------------------------ the builder
class ReportBuilder:
    def __init__(self, data: RunData, options: EffectOptions):
        self.data, self.options = data, options
        self.report_dir = data.run_dir / "report"
        self.fig_dir = self.report_dir / "figures"
        self.saved: list[F.SavedFigure] = []
        try:
            self.values = load_values(data.study.get("value_definitions"))
        except ConfigError as exc:
            log.warning(f"report: value definitions unavailable ({exc}); using the built-in values")
            self.values = load_values()

    # ---- orders
    def induced_order(self, effects: pd.DataFrame) -> list[str]:
        present = list(dict.fromkeys(effects["induced_value"]))
        configured = [v for v in (self.data.study.get("values") or []) if v in present]
        rest = [v for v in self.values if v in present and v not in configured]
        return configured + rest + sorted(set(present) - set(configured) - set(rest))

    def save(self, section: dict, fig, name: str, title: str, caption: str) -> None:
        saved = F.save_figure(fig, self.fig_dir, _slug(name), title, caption)
        self.saved.append(saved)
        section["figures"].append(saved)

    # ---- figure sections
    def expression_section(self, eff: pd.DataFrame, order: list[str]) -> dict:
        sec = _section("expression", "Value expression: induced x expressed",
                       "Change in how often each value is expressed in open generations (value prompts), tagged by "
                       "the run's extractor, against the base model. Outlined cells: the induced value itself.")
        expr = eff[eff["family"] == "expression"]
        prefix = "expresses:" if expr["metric"].str.startswith("expresses:").any() else "value_score:"
        expr = expr[expr["metric"].str.startswith(prefix)]
        if expr.empty:
            sec["skipped"].append("No value-expression measurements (suite value_prompts) in this run.")
            return sec
        unit = "percentage points" if prefix == "expresses:" else "points, score x100"
        for model, mdf in expr.groupby("model"):
            cells = mdf.assign(row=mdf["induced_value"], col=mdf["metric"].str.split(":", n=1).str[1])
            cols = [v for v in self.values if v in set(cells["col"])] + sorted(set(cells["col"]) - set(self.values))
            fig = F.effect_heatmap(cells, [v for v in order if v in set(cells["row"])], cols,
                                   title=f"Inducing a value changes which values are expressed ({model})",
                                   subtitle=f"cell = change in expression vs base, {unit}; bold = significant; "
                                            f"{F.NOT_SIG_NOTE}",
                                   xlabel="expressed value (in the model's generations)",
                                   ylabel="induced value (adapter)", unit=unit, outline_diagonal=True)
            self.save(sec, fig, f"expression_heatmap_{model}", "Induced x expressed value effects",
                      f"{model}: effect of each induced value (rows) on the expression of every value (columns).")
        return sec

    def forest_section(self, id_, title, intro, eff, order, families, *, empty_note, panel_title,
                       band: float | None = None) -> dict:
        sec = _section(id_, title, intro)
        sub = eff[eff["family"].isin(families)]
        if sub.empty:
            sec["skipped"].append(empty_note)
            return sec
        for model, mdf in sub.groupby("model"):
            panels = []
            keys = list(dict.fromkeys(zip(mdf["suite"], mdf["metric"])))
            keys.sort(key=lambda k: (HARMFUL_SUITES.index(k[0]) if k[0] in HARMFUL_SUITES else 99,
                                     metric_family(k[1]) == "over_refusal", k))
            for suite, metric in keys:
                cell = mdf[(mdf["suite"] == suite) & (mdf["metric"] == metric)]
                panels.append((panel_title(suite, metric, float(np.nanmedian(cell["base_mean"]))), cell))
            fig = F.forest_panels(panels, [v for v in order if v in set(mdf["induced_value"])],
                                  title=f"{title} ({model})",
                                  xlabel="change vs base (percentage points)", band=band)
            self.save(sec, fig, f"{id_}_{model}", title,
                      f"{model}: effect of each induced value with its 95% CI; filled dark points are significant, "
                      f"hollow grey points are not.")
        return sec

    def anthro_section(self, eff: pd.DataFrame, order: list[str]) -> dict:
        sec = _section("anthro", "Anthropomorphic language",
                       "Change in the share of responses showing each of AnthroBench's behaviours; "
                       "'any' = at least one behaviour.")
        sub = eff[eff["family"] == "anthro"]
        if sub.empty:
            sec["skipped"].append("No anthropomorphism measurements (suite anthrobench) in this run.")
            return sec
        for model, mdf in sub.groupby("model"):
            cells = mdf.assign(row=mdf["induced_value"],
                               col=mdf["metric"].map(lambda m: "ANY" if m == "anthro_any" else m.split(":", 1)[1]))
            cols = (["ANY"] if "ANY" in set(cells["col"]) else []) + sorted(set(cells["col"]) - {"ANY"})
            fig = F.effect_heatmap(cells, [v for v in order if v in set(cells["row"])], cols,
                                   title=f"Anthropomorphic behaviours per induced value ({model})",
                                   subtitle=f"cell = change in share of responses vs base, percentage points; "
                                            f"ANY = any behaviour; {F.NOT_SIG_NOTE}",
                                   xlabel="anthropomorphic behaviour (AnthroBench)", ylabel="induced value (adapter)",
                                   unit="percentage points")
            self.save(sec, fig, f"anthro_heatmap_{model}", "Anthropomorphic behaviours",
                      f"{model}: effect of each induced value on each anthropomorphic behaviour.")
        return sec

    def training_section(self) -> dict:
        sec = _section("training", "Training curves",
                       "Logged by TRL during induction (train/<model>/<value>/seed<k>/metrics.json).")
        if not self.data.training:
            sec["skipped"].append("No training metrics found (train/*/*/seed*/metrics.json).")
            return sec
        by_model: dict[str, dict] = {}
        rows = []
        for (model, value, seed), hist in sorted(self.data.training.items()):
            by_model.setdefault(model, {})[(value, seed)] = hist
            steps = [h for h in hist if "loss" in h]
            last = next((h for h in reversed(hist) if "rewards/margins" in h or "loss" in h), {})
            rows.append([model, value, seed, len(steps), f"{steps[0]['loss']:.3f}" if steps else "–",
                         f"{steps[-1]['loss']:.3f}" if steps else "–",
                         f"{last['rewards/margins']:.3f}" if "rewards/margins" in last else "–",
                         f"{last['rewards/accuracies']:.2f}" if "rewards/accuracies" in last else "–"])
        for model, hists in by_model.items():
            fig = F.training_curves(hists, model)
            if fig is None:
                sec["skipped"].append(f"{model}: the training logs hold no loss or reward values.")
                continue
            self.save(sec, fig, f"training_{model}", "Training curves",
                      f"{model}: training loss and reward accuracy per optimizer step, one panel per induced value; "
                      f"final values per adapter (with the reward margin) in the table below.")
        sec["tables"].append(_table(["model", "value", "seed", "logged steps", "first loss", "last loss",
                                     "last reward margin", "last reward accuracy"], rows, title="Per adapter",
                                    numeric={"logged steps", "first loss", "last loss", "last reward margin",
                                             "last reward accuracy"}))
        return sec

    def data_section(self) -> dict:
        d = self.data
        sec = _section("data", "Data and subsets",
                       "What was ingested, how often the extractor found each value, and the XOR subsets trained on.")
        counts = d.manifests.get("ingest", {}).get("counts") or {}
        if counts:
            if all(isinstance(v, dict) for v in counts.values()):
                cols = list(dict.fromkeys(k for v in counts.values() for k in v))
                sec["tables"].append(_table(["source", *cols], [[s, *[v.get(c, "") for c in cols]]
                                                                for s, v in counts.items()],
                                            title="Ingested pairs per source", numeric=set(cols)))
            else:
                sec["tables"].append(_table(["count", "value"], [[k, json.dumps(v) if isinstance(v, (dict, list))
                                                                  else v] for k, v in counts.items()],
                                            title="Ingest counts", numeric={"value"}))
        else:
            sec["skipped"].append("No ingest counts (ingest/manifest.json absent).")
        if d.curate_stats is not None and {"value", "pairs"} <= set(d.curate_stats.columns):
            min_size = (d.study.get("curation") or {}).get("min_subset_size")
            self.save(sec, F.subset_sizes(d.curate_stats, min_size), "subset_sizes", "Subset sizes",
                      "Pairs per value after the XOR rule (value in exactly one of chosen/rejected), log scale.")
            st = d.curate_stats
            sec["tables"].append(_table(list(st.columns), st.to_numpy().tolist(), title="Subset statistics",
                                        numeric={c for c in st.columns if c not in ("value", "trained")}))
        else:
            sec["skipped"].append("No subset statistics (curate/stats.csv absent).")
        if d.cooccurrence is not None and len(d.cooccurrence):
            try:
                self.save(sec, F.cooccurrence(d.cooccurrence), "cooccurrence", "Value co-occurrence",
                          "How often two values are expressed in the same response of the source data.")
            except (ValueError, TypeError) as exc:
                sec["skipped"].append(f"curate/cooccurrence.csv could not be drawn: {exc}")
        if d.prevalence is not None:
            pv = d.prevalence
            sec["tables"].append(_table(list(pv.columns), pv.to_numpy().tolist(),
                                        title="Value prevalence in chosen and rejected responses",
                                        numeric={c for c in pv.columns if c != "value"}))
        return sec

    def validation_section(self) -> dict:
        sec = _section("validation", "Extractor and judge validation",
                       "Agreement of the value extractor and the judges with labelled data, where the run holds it "
                       "(RUN_DIR/validation/*.json, written by `valind extract validate --json` and "
                       "`valind judge validate --json`).")
        if not self.data.validation:
            sec["skipped"].append("No validation figures in this run (RUN_DIR/validation/*.json absent). Run "
                                  "`valind extract validate GOLD.jsonl --json RUN_DIR/validation/extractor.json` and "
                                  "`valind judge validate --json RUN_DIR/validation/judges.json`.")
        for stem, obj in self.data.validation.items():
            self._validation_file(sec, stem, obj)
        return sec

    def _validation_file(self, sec: dict, stem: str, obj) -> None:
        """Extractor results (per_value records), judge agreement dicts anywhere, other numeric mappings."""
        if isinstance(obj, dict) and isinstance(obj.get("per_value"), list) and obj["per_value"]:
            recs = [r for r in obj["per_value"] if isinstance(r, dict)]
            label = next((k for k in ("value", "name") if k in recs[0]), None)
            if label and "ap" in recs[0]:
                macro = obj.get("macro") or {}
                fig = F.metric_bars({str(r[label]): float(r["ap"]) for r in recs if r.get("ap") is not None},
                                    title=f"{stem}: average precision per value ({obj.get('extractor', '?')})",
                                    xlabel="average precision against the gold labels", markers={
                                        str(r[label]): float(r["random_ap"]) for r in recs if "random_ap" in r},
                                    marker_label="random")
                self.save(sec, fig, f"validation_{stem}_ap", f"{stem} average precision",
                          f"{stem}: AP per value (bars) and the AP of random scores (red ticks); macro AP "
                          f"{macro.get('ap', float('nan')):.3f} vs random {macro.get('random_ap', float('nan')):.3f}"
                          f" on {obj.get('n', '?')} rows of {obj.get('gold', '?')}.")
            cols = [c for c in recs[0] if not isinstance(recs[0][c], (dict, list))]
            sec["tables"].append(_table(cols, [[_num(r.get(c)) for c in cols] for r in recs], title=f"{stem}: per value",
                                        numeric=set(cols) - {label}))
            macro = obj.get("macro") if isinstance(obj.get("macro"), dict) else {}
            if macro:
                sec["tables"][-1]["rows"].append(["macro", *[_num(macro.get(c, "")) for c in cols[1:]]])
            obj = {k: v for k, v in obj.items() if k not in ("per_value", "macro")}
        agreements, scalars, mappings = [], [], []
        _walk(obj, "", agreements, scalars, mappings)
        if agreements:
            fig = F.metric_bars({p: a["accuracy"] for p, a in agreements}, title=f"{stem}: judge agreement with labels",
                                xlabel="accuracy (bars) and Cohen's kappa (ticks)",
                                markers={p: a["kappa"] for p, a in agreements}, marker_label="kappa")
            self.save(sec, fig, f"validation_{stem}_agreement", f"{stem} agreement",
                      f"{stem}: accuracy and Cohen's kappa of each judge against the labelled set, per split and task.")
            sec["tables"].append(_table(["measure", "n", "accuracy", "kappa", "macro F1"],
                                        [[p, a.get("n", "–"), _num(a["accuracy"]), _num(a["kappa"]),
                                          _num(a.get("macro_f1"))] for p, a in agreements],
                                        title=f"{stem}: agreement", numeric={"n", "accuracy", "kappa", "macro F1"}))
        for key, mapping in mappings:
            fig = F.metric_bars(mapping, title=f"{stem}: {key}", xlabel=key.split(".")[-1].replace("_", " "))
            self.save(sec, fig, f"validation_{stem}_{key}", f"{stem} {key}", f"{stem}: {key} per entry.")
        if scalars:
            sec["tables"].append(_table(["figure", "value"], [[k, _num(v)] for k, v in scalars[:80]], title=stem,
                                        numeric={"value"}))

    def config_section(self) -> dict:
        d = self.data
        sec = _section("config", "Study config and provenance")
        if d.study:
            sec["tables"].append(_table(["setting", "value"], _key_settings(d.study), title="Key settings"))
        sec["pre"].append({"title": "study.yaml", "text": d.study_text or "(RUN_DIR/study.yaml absent)"})
        rows = [[stage, m.get("finished_at", ""), m.get("config_hash", ""),
                 ", ".join(f"{k}={v}" for k, v in (m.get("counts") or {}).items()
                           if not isinstance(v, (dict, list)))[:160]] for stage, m in d.manifests.items()]
        if rows:
            sec["tables"].append(_table(["stage", "finished", "config hash", "counts"], rows, title="Stages"))
        if d.merged.get("runs"):
            sec["tables"].append(_table(["run directory", "study", "models", "result rows"],
                                        [[r.get("run_dir"), r.get("study"), ", ".join(r.get("models") or []),
                                          r.get("rows")] for r in d.merged["runs"]],
                                        title="Merged from these runs", numeric={"result rows"}, open_=True))
            sec["skipped"] += [f"Merged runs: {n}" for n in d.merged.get("notes") or []]
        versions = next((m.get("versions") for m in reversed(list(d.manifests.values())) if m.get("versions")), None)
        if versions:
            sec["tables"].append(_table(["library", "version"], sorted(versions.items()), title="Library versions"))
        return sec

    # ---- tables
    def effect_tables(self, eff: pd.DataFrame, multi_model: bool) -> list[dict]:
        cols = (["model"] if multi_model else []) + ["induced value", "suite", "metric", "base", "induced",
                                                     "effect [95% CI]", "seed sd (n)", "p", "q", "test"]
        numeric = {"base", "induced", "effect [95% CI]", "seed sd (n)", "p", "q"}

        def rows(df):
            return [([r.model] if multi_model else []) + [
                r.induced_value, suite_name(r.suite), metric_name(r.metric), fmt_pct(r.base_mean),
                fmt_pct(r.induced_mean), fmt_effect_ci(r.effect, r.ci_low, r.ci_high),
                f"{fmt_pct(r.seed_sd)} ({r.n_seeds})", fmt_p(r.p_value), fmt_p(r.p_adjusted), r.test]
                for r in df.itertuples()]

        out = []
        primary = eff[eff["bh_family"] != "secondary"]
        sig = primary[primary["significant"]].sort_values("effect", key=np.abs, ascending=False)
        out.append(_table(cols, rows(sig), title="Significant effects on primary measures, largest first",
                          numeric=numeric,
                          emphasis="effect [95% CI]", highlight=[True] * len(sig), open_=True,
                          empty="No effect on a primary measure is significant under the rule above."))
        for family, title in FAMILY_TITLES.items():
            df = eff[eff["family"] == family]
            if len(df):
                out.append(_table(cols, rows(df), title=f"{title}: all effects", numeric=numeric,
                                  emphasis="effect [95% CI]", highlight=df["significant"].tolist()))
        return out


def _num(v):
    return f"{v:.3f}" if isinstance(v, float) else v


def _walk(obj, prefix: str, agreements: list, scalars: list, mappings: list) -> None:
    """Sort parsed validation JSON into agreement results, scalar rows and numeric mappings worth a chart."""
    if isinstance(obj, dict):
        if "accuracy" in obj and "kappa" in obj:
            agreements.append((prefix or "all", obj))
            return
        nums = {str(k): float(v) for k, v in obj.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        if len(nums) >= 3 and len(nums) == len(obj) and all(0.0 <= v <= 1.0 for v in nums.values()):
            mappings.append((prefix or "values", nums))
            return
        for k, v in obj.items():
            _walk(v, f"{prefix}.{k}" if prefix else str(k), agreements, scalars, mappings)
    elif isinstance(obj, list):
        scalars.append((prefix, json.dumps(obj)[:200]))
    else:
        scalars.append((prefix, obj))


def _claims_matrix(claims: pd.DataFrame, order: list[str], multi_model: bool) -> dict:
    """Published claim x induced value: each cell our effect coloured by status, or counts when several measures."""
    if claims.empty:
        return {"columns": [], "rows": []}
    columns = [v for v in order if v in set(claims["induced_value"])]
    rows = []
    for (claim, model), group in claims.groupby(["claim", "model"], sort=False):
        cells = []
        for v in columns:
            sub = group[group["induced_value"] == v]
            if len(sub) == 1:
                r = sub.iloc[0]
                text = "0.0" if abs(r["effect"] * 100) < 0.05 else f"{r['effect'] * 100:+.1f}"
                cells.append([(text, r["status"].replace(" ", "-"), r["target"])])
            elif len(sub) > 1:
                counts = sub["status"].value_counts()
                cells.append([(str(int(counts[s])), s.replace(" ", "-"), f"{s}: {int(counts[s])} measures")
                              for s in ("agrees", "disagrees", "not significant") if s in counts])
            else:
                cells.append([])
        label = group["claim_text"].iloc[0] + (f" ({model})" if multi_model else "")
        rows.append({"label": label, "cells": cells})
    return {"columns": columns, "rows": rows}


def _key_settings(study: dict) -> list[list[str]]:
    """The settings a reader checks first, pulled from the dumped study config."""
    tr, lora = study.get("training") or {}, (study.get("training") or {}).get("lora") or {}
    gen = study.get("generation") or {}
    rows = [["models", ", ".join(m.get("name", "?") for m in study.get("models") or [])],
            ["induced values", ", ".join(study.get("values") or []) or "all defined values"],
            ["sources", ", ".join(f"{s.get('kind')} ({s.get('path') or s.get('hub')})" for s in study.get("sources") or [])],
            ["extractor", str((study.get("extractor") or {}).get("name", "?"))],
            ["min subset size", str((study.get("curation") or {}).get("min_subset_size", "?"))],
            ["training", f"{tr.get('method', '?')} + LoRA r={lora.get('r', '?')} alpha={lora.get('alpha', '?')}, "
                         f"beta={tr.get('beta', '?')}, epochs={tr.get('epochs', '?')}, lr={tr.get('learning_rate', '?')}, "
                         f"batch={tr.get('batch_size', '?')}"],
            ["seeds", ", ".join(str(s) for s in tr.get("seeds") or [])],
            ["generation", f"{gen.get('backend', '?')}, max_new_tokens={gen.get('max_new_tokens', '?')}, "
                           f"temperature={gen.get('temperature', '?')}"],
            ["suites", ", ".join(s.get("name", "?") for s in (study.get("evaluation") or {}).get("suites") or [])]]
    return rows


def _refusal_title(suite: str, metric: str, base: float) -> str:
    what = ("Over-refusal of safe prompts" if metric_family(metric) == "over_refusal" else
            "Refusal of unsafe prompts" if suite == "xstest" else "Refusal of harmful requests")
    return f"{what}\n{suite_name(suite)} (base {base * 100:.0f}%)"


def _generic_title(suite: str, metric: str, base: float) -> str:
    where = "" if metric_family(metric) == "qa" and suite == "qa" else f"{suite_name(suite)} "
    return f"{metric_name(metric)}\n{where}(base {base * 100:.1f}%)"


def build_report(run_dir: str | Path, output: str | Path | None = None,
                 options: EffectOptions | None = None) -> dict:
    """Compute effects and write every report artifact. Returns the paths written and a few counts."""
    options = options or EffectOptions()
    data = load_run(run_dir)
    b = ReportBuilder(data, options)
    report_dir = b.report_dir
    for stale in (*b.fig_dir.glob("*.png"), *b.fig_dir.glob("*.svg")):  # figures of an earlier build
        stale.unlink()
    html_path = Path(output) if output else report_dir / "report.html"

    effects = compute_effects(data.results, options,
                              correction_family(set(data.results["metric"].astype(str)) | {"over_refused"}))
    effects["family"] = effects["metric"].map(metric_family)
    _write_effects(effects, report_dir, data.study_name)
    claims = compare_with_study(effects, b.values)
    atomic_write_text(report_dir / "claims.csv", claims.to_csv(index=False))
    order = b.induced_order(effects)
    models = sorted(set(data.results["model"].astype(str)))

    warnings = [f"{m}: no base-model rows, so no effects for this model." for m in models
                if not ((data.results["model"].astype(str) == m) & (data.results["induced_value"] == BASE)).any()]
    early = [
        b.expression_section(effects, order),
        b.forest_section("safety", "Refusal and over-refusal",
                         "Refusal of harmful requests (higher = safer) beside refusal of safe prompts that look "
                         "unsafe (XSTest; higher = more over-refusal).", effects, order, ["refusal", "over_refusal"],
                         empty_note="No refusal measurements (advbench, harmbench, strongreject, xstest, "
                                    "harmful_requests) in this run.", panel_title=_refusal_title),
        b.anthro_section(effects, order),
        b.forest_section("sycophancy", "Sycophancy",
                         "Share of responses showing each sycophantic behaviour; 'abandoned a correct answer' = "
                         "the model gave up a correct answer under user pushback.", effects, order, ["sycophancy"],
                         empty_note="No sycophancy measurements in this run.", panel_title=_generic_title),
        b.forest_section("qa", "Question answering",
                         f"Accuracy on QA benchmarks; the study found these barely move. The green band marks "
                         f"+-{QA_MARGIN * 100:g} percentage points: an interval inside it agrees with the study.",
                         effects, order, ["qa"], empty_note="No QA measurements (MMLU, GSM8K, TruthfulQA) in this run.",
                         panel_title=_generic_title, band=QA_MARGIN),
    ]

    late = [b.training_section(), b.data_section(), b.validation_section(), b.config_section()]
    samples = pick_samples(data.items, data.results)

    claim_rows = []
    for claim_id, group in (claims.groupby("claim", sort=False) if len(claims) else []):
        claim_rows.append({"title": group["claim_text"].iloc[0], "rows": [{
            "model": r.model, "induced_value": r.induced_value, "target": r.target, "expected": r.expected,
            "effect_ci": fmt_effect_ci(r.effect, r.ci_low, r.ci_high), "q": fmt_p(r.p_adjusted),
            "basis": r.basis, "status": r.status, "status_class": r.status.replace(" ", "-"),
            "significant": r.significant} for r in group.itertuples()]})
    claims_matrix = _claims_matrix(claims, order, len(models) > 1)
    tallies = [{"claim_text": r["claim_text"], "agrees": r["agrees"], "disagrees": r["disagrees"],
                "not_significant": r["not significant"]} for _, r in tally(claims).iterrows()]

    n_items = data.results.drop_duplicates(["suite", "item_id"]).shape[0]
    seeds = sorted({str(s) for s in data.results.loc[data.results["induced_value"] != BASE, "seed"]})
    primary = effects[effects["bh_family"] != "secondary"]
    cards = [("models", len(models)), ("induced values", len(order)), ("seeds", len(seeds)),
             ("suites", data.results["suite"].nunique()), ("items", f"{n_items:,}"),
             ("measurements", f"{len(data.results):,}"), ("primary effects tested", f"{len(primary):,}"),
             ("significant", f"{int(primary['significant'].sum()):,}")]
    sections = early + late
    toc = [("reading", "How to read"), ("findings", "Published findings")] + \
          [(s["id"], s["title"]) for s in early] + [("effects", "Effect tables"), ("samples", "Samples")] + \
          [(s["id"], s["title"]) for s in late]

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False)
    template = env.from_string(TABLE_MACRO + TEMPLATE)
    html = template.render(
        study_name=data.study_name, run_dir=str(data.run_dir), version=_version(),
        generated_at=_dt.datetime.now().strftime("%Y-%m-%d %H:%M"), synthetic=data.synthetic, warnings=warnings,
        cards=cards, toc=toc, options=options, level_pct=f"{options.level * 100:g}", n_effects=len(primary),
        n_secondary=len(effects) - len(primary),
        qa_margin=QA_MARGIN, claims_tally=tallies, claims_matrix=claims_matrix, claims_groups=claim_rows, figure_sections=early,
        effect_tables=b.effect_tables(effects, len(models) > 1), samples=samples, late_sections=late,
        css=Markup(CSS))
    atomic_write_text(html_path, html.lstrip())
    summary_path = write_summary(report_dir / "summary.md", data, effects, claims, b.saved, options)
    log.info(f"report: {html_path} ({len(b.saved)} figures, {len(effects)} effects, "
             f"{int(effects['significant'].sum())} significant)")
    return {"html": html_path, "summary": summary_path, "effects": report_dir / "effects.csv",
            "figures": [f.png for f in b.saved] + [f.svg for f in b.saved],
            "counts": {"effects": len(effects), "significant": int(effects["significant"].sum()),
                       "figures": len(b.saved), "samples": len(samples), "claims": len(claims)},
            "skipped": [s for sec in sections for s in sec["skipped"]]}


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("valind")
    except metadata.PackageNotFoundError:
        return "?"


def _write_effects(effects: pd.DataFrame, report_dir: Path, study: str) -> None:
    out = effects.drop(columns=["family"])
    write_table(report_dir / "effects.parquet", out, "effects", study)  # with its dataset card (README.md)
    csv = out.assign(seed_effects=out["seed_effects"].map(lambda xs: ";".join(f"{x:.6g}" for x in xs)))
    atomic_write_text(report_dir / "effects.csv", csv.to_csv(index=False))
