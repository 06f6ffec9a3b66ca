"""Build the report of a run: effects, figures, one self-contained HTML file and a Markdown summary.

    build_report(run_dir)  ->  RUN_DIR/report/{report.html, summary.md, effects.csv, effects.parquet,
                                              claims.csv, [dose_response.csv,] figures/*.png|svg}
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
from scipy import stats as sps

from ..artifacts import atomic_write_text
from ..errors import ConfigError
from ..config import is_control
from ..export.datacards import write_table
from ..instruments.values.open import FREE_PREFIX
from ..stats import BASE, CONTRASTS, VS_BASE, VS_CONTROL, EffectOptions, compute_effects, control_survival
from ..stats.interaction import model_interactions
from ..stats.manipulation import OUTCOMES, manipulation_check, verdicts
from ..sweep.grid import point_overrides
from ..values import load_values
from . import figures as F
from .claims import NOT_MEASURED, QA_MARGIN, STATUSES, SURVIVES, TOO_FEW, compare_with_study, tally
from .kinds import VERSUS, correction_family, metric_family, metric_name, metric_turn, refusal_suites, suite_name
from .rundata import RunData, load_run
from .samples import pick_samples
from .summary import write_summary
from .validity import direction_notes
from .templates import CSS, TABLE_MACRO, TEMPLATE

log = logging.getLogger("valind")

CONTRAST_CAPTION = {
    VS_CONTROL: "effect of each induced value against its matched control adapter (DPO on a random, source-"
                "stratified draw from the same pool, same size, steps and seeds): what the value itself does.",
    VS_BASE: "effect of each adapter against the base model (the study's comparison); the control's row is what "
             "DPO on any slice of the same data does by itself.",
}
FAMILY_TITLES = {"expression": "Value expression", "expression_score": "Value scores (0-1)",
                 "refusal": "Refusal", "over_refusal": "Over-refusal",
                 "refusal_detail": "Refusal details (full/partial, by XSTest type)",
                 "anthro": "Anthropomorphic language",
                 "anthro_turn": "Anthropomorphic language per conversation turn (multi-turn AnthroBench)",
                 "sycophancy": "Sycophancy", "qa": "Question answering",
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
        """Configured values first, then other known values, then anything else; controls last; sweep points
        of one value together, in the sweep's order."""
        present = list(dict.fromkeys(effects["induced_value"]))
        names = [*(self.data.study.get("values") or []), *self.values]
        rank = {v: i for i, v in reversed(list(enumerate(names)))}
        try:
            points = list(point_overrides(self.data.study.get("sweep") or {}))
        except (ConfigError, TypeError, AttributeError):
            points = []

        def key(label: str):
            name, _, point = label.partition("@")
            return (is_control(name), rank.get(name, len(rank)), name,
                    points.index(point) if point in points else len(points), point)
        return sorted(present, key=key)

    def save(self, section: dict, fig, name: str, title: str, caption: str) -> None:
        saved = F.save_figure(fig, self.fig_dir, _slug(name), title, caption)
        self.saved.append(saved)
        section["figures"].append(saved)

    # ---- contrasts
    def contrasts(self, eff: pd.DataFrame) -> list[str]:
        """The contrasts present, the lead first: vs_control (what the value itself does) when the run has it."""
        return [c for c in CONTRASTS if (eff["contrast"] == c).any()]

    def _heatmaps(self, sec: dict, cells: pd.DataFrame, order: list[str], cols: list[str], model: str, *, name: str,
                  title: str, what: str, xlabel: str, unit: str, outline_diagonal: bool = False) -> None:
        """One heatmap per contrast, the lead (vs control) first."""
        for contrast in self.contrasts(cells):
            c = cells[cells["contrast"] == contrast]
            versus = VERSUS[contrast]
            fig = F.effect_heatmap(c, [v for v in order if v in set(c["row"])], cols,
                                   title=f"{title} ({model}), against {versus}",
                                   subtitle=f"cell = change in {what} vs {versus}, {unit}; bold = significant; "
                                            f"{F.NOT_SIG_NOTE}", xlabel=xlabel, ylabel="induced value (adapter)",
                                   unit=unit, outline_diagonal=outline_diagonal, versus=versus)
            self.save(sec, fig, f"{name}_{model}" + ("" if contrast == VS_BASE else f"_{contrast}"),
                      f"{title}, against {versus}", f"{model}: {CONTRAST_CAPTION[contrast]}")

    # ---- figure sections
    def expression_section(self, eff: pd.DataFrame, order: list[str]) -> dict:
        sec = _section("expression", "Value expression: induced x expressed",
                       "Change in how often each value is expressed in open generations (value prompts), tagged by "
                       "the run's extractor: first against the control adapter (what the value itself does), then "
                       "against the base model (the study's comparison; the control's own row shows what DPO on any "
                       "slice of the data does). Outlined cells: the induced value itself.")
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
            self._heatmaps(sec, cells, order, cols, model, name="expression_heatmap",
                           title="Inducing a value changes which values are expressed", what="expression",
                           xlabel="expressed value (in the model's generations)", unit=unit, outline_diagonal=True)
        return sec

    def open_values_section(self, open_eff: pd.DataFrame, order: list[str], top: int) -> dict:
        """Per adapter, the free values (the extractor's own words) whose expression changed most."""
        sec = _section("open-values", "Values in the extractor's own words",
                       "With open-ended extraction the extractor also names values in its own words; a name that "
                       "matches a defined value counts as it, the others are free values (extract/open_values.csv, "
                       "evaluate/open_values.csv say which is which). Per adapter, the free values whose expression "
                       f"changed most (largest absolute change first, up to {top}), against the control adapter where "
                       "the run has one, else the base model; same intervals and tests as every expression effect, "
                       "corrected (Benjamini-Hochberg) as a family of their own. The findings panel checks the "
                       "related-values claim on them too.")
        if open_eff is None or open_eff.empty:
            sec["skipped"].append("No free values in this run: open-ended extraction is off (extractor.open_values, "
                                  "which needs the llm extractor), or no free value was listed often enough "
                                  "(extractor.open_values.min_count).")
            return sec
        multi = open_eff["model"].nunique() > 1
        cols = (["model"] if multi else []) + ["adapter", "free value", "against", "reference", "induced",
                                               "effect [95% CI]", "q", "n"]
        rows, sig = [], []
        for (model, label), grp in open_eff.groupby(["model", "induced_value"], sort=False):
            if is_control(label):
                continue
            lead = VS_CONTROL if (grp["contrast"] == VS_CONTROL).any() else VS_BASE
            g = grp[grp["contrast"] == lead].sort_values("effect", key=np.abs, ascending=False).head(top)
            for r in g.itertuples():
                rows.append(([model] if multi else []) + [
                    label, r.metric.split(":", 1)[1], "control" if lead == VS_CONTROL else "base",
                    fmt_pct(r.reference_mean), fmt_pct(r.induced_mean), fmt_effect_ci(r.effect, r.ci_low, r.ci_high),
                    fmt_p(r.p_adjusted), int(r.n_items)])
                sig.append(bool(r.significant))
        rank = {v: i for i, v in enumerate(order)}
        pos = 1 if multi else 0
        keyed = sorted(zip(rows, sig), key=lambda t: (t[0][0] if multi else "", rank.get(t[0][pos], len(rank))))
        sec["tables"].append(_table(cols, [r for r, _ in keyed], highlight=[x for _, x in keyed], open_=True,
                                    title="Free values whose expression changed most, per adapter",
                                    numeric={"reference", "induced", "effect [95% CI]", "q", "n"},
                                    emphasis="effect [95% CI]"))
        return sec

    def induction_section(self) -> dict:
        sec = _section("induction", "Did induction work? Implicit reward on held-out pairs (no judge)",
                       "For each adapter (rows), DPO's implicit-reward accuracy on each value's held-out pairs "
                       "(columns): the share of pairs whose value-expressing response the adapter rewards more than "
                       "the other (reward = beta x log-ratio to the base model), with no generation and no "
                       "extractor in between. 0.5 = no preference; the diagonal is the manipulation check; other "
                       "cells measure co-induction; the control row is what generic DPO on the same data does. "
                       "Mean over seeds; margins in the table.")
        r = self.data.rewards
        if r is None or r.empty:
            sec["skipped"].append("No implicit-reward check in this run (train/**/metrics.json `heldout_rewards`: "
                                  "DPO runs with held-out pairs and training.reward_check_pairs > 0).")
            return sec
        for model, mdf in r.groupby("model"):
            mean = mdf.groupby(["adapter", "heldout"])[["accuracy", "margin", "pairs"]].mean()
            acc = mean["accuracy"].unstack("heldout")
            rows = [a for a in self.induced_order(pd.DataFrame({"induced_value": acc.index})) if a in acc.index]
            cols = [v for v in self.values if v in acc.columns] + sorted(set(acc.columns) - set(self.values))
            fig = F.value_heatmap(acc.loc[rows, cols], title=f"Implicit-reward accuracy ({model})",
                                  subtitle="share of held-out pairs whose value-expressing response\ngets the higher "
                                           "implicit reward; 0.5 = no preference",
                                  xlabel="held-out pairs of value", ylabel="adapter", unit="accuracy", center=0.5)
            self.save(sec, fig, f"implicit_reward_{model}", "Implicit-reward accuracy",
                      f"{model}: DPO implicit-reward accuracy of each adapter (rows) on each value's held-out pairs "
                      f"(columns), mean over seeds.")
            n_seeds = mdf.groupby(["adapter", "heldout"])["seed"].nunique()
            sec["tables"].append(_table(
                ["adapter", "held-out pairs of", "accuracy", "mean margin", "pairs", "seeds"],
                [[a, h, f"{m.accuracy:.3f}", f"{m.margin:+.3f}", int(m.pairs), int(n_seeds[(a, h)])]
                 for (a, h), m in mean.loc[[(a, h) for a in rows for h in cols if (a, h) in mean.index]].iterrows()],
                title=f"Implicit reward per adapter and held-out set ({model})",
                numeric={"accuracy", "mean margin", "pairs", "seeds"}))
        return sec

    def coinduction_section(self, eff: pd.DataFrame) -> dict:
        sec = _section("coinduction", "Where co-induction comes from: the training data",
                       "Left: for each training subset (rows), the share of its pairs whose chosen response expresses "
                       "each value (columns) minus the share whose rejected one does, read from the extractor's "
                       "annotations of the training data itself. Right: that data difference against the output "
                       "effect on the same value (off the diagonal), with their correlation: how much of 'inducing A "
                       "raises B' the training data already held. Against the control, the data difference is the "
                       "value's subset minus the control's.")
        dm = self.data.data_coinduction
        expr = eff[eff["metric"].str.startswith("expresses:")]
        if dm is None or dm.empty:
            sec["skipped"].append("No data co-induction matrix (curate/data_coinduction.csv absent).")
            return sec
        cols = [v for v in self.values if v in dm.columns]
        rows = [r for r in self.induced_order(pd.DataFrame({"induced_value": list(dm.index)})) if r in dm.index]
        fig = F.value_heatmap(dm.loc[rows, cols] * 100, title="Value contrast inside each training subset",
                              subtitle="cell = % of pairs with the value in chosen minus % with it in rejected",
                              xlabel="value (expressed in the training responses)", ylabel="training subset",
                              unit="percentage points", fmt="{:+.0f}")
        self.save(sec, fig, "data_coinduction", "Data co-induction matrix",
                  "Chosen-minus-rejected expression of every value inside each training subset (controls: mean over "
                  "seeds' draws).")
        if expr.empty:
            sec["skipped"].append("No value-expression effects to set beside the data matrix.")
            return sec
        matched = (self.data.controls or {}).get("matched") or {}
        corr_rows = []
        for model, mdf in expr.groupby("model"):
            panels = []
            for contrast in self.contrasts(mdf):
                pts = []
                for rec in mdf[mdf["contrast"] == contrast].itertuples():
                    v, u = rec.induced_value.split("@")[0], rec.metric.split(":", 1)[1]
                    if is_control(v) or v == u or v not in dm.index or u not in dm.columns:
                        continue
                    x = dm.at[v, u]
                    if contrast == VS_CONTROL:
                        ctrl = matched.get(v, "control")
                        if ctrl not in dm.index:
                            continue
                        x -= dm.at[ctrl, u]
                    pts.append({"x": x, "y": rec.effect, "significant": rec.significant})
                pts = pd.DataFrame(pts)
                if len(pts) < 3 or pts["x"].nunique() < 2 or pts["y"].nunique() < 2:
                    continue
                pr, pp = sps.pearsonr(pts["x"], pts["y"])
                sr, sp = sps.spearmanr(pts["x"], pts["y"])
                corr_rows.append([model, VERSUS[contrast], len(pts), f"{pr:+.2f}", fmt_p(pp), f"{sr:+.2f}", fmt_p(sp)])
                panels.append((f"against {VERSUS[contrast]}\nPearson r = {pr:+.2f}, Spearman {sr:+.2f} "
                               f"({len(pts)} cells)", pts))
            if panels:
                fig = F.coinduction_scatter(panels, title=f"Training-data contrast vs output co-induction ({model})",
                                            xlabel="chosen - rejected in the training data (pp)",
                                            ylabel="change in expression (pp)")
                self.save(sec, fig, f"coinduction_scatter_{model}", "Data vs output co-induction",
                          f"{model}: each point is an (induced value, other value) cell.")
        if corr_rows:
            sec["tables"].append(_table(["model", "against", "cells", "Pearson r", "p", "Spearman rho", "p "],
                                        corr_rows, title="Correlation of data and output co-induction",
                                        numeric={"cells", "Pearson r", "p", "Spearman rho", "p "}))
        else:
            sec["skipped"].append("Too few off-diagonal cells to correlate data and output co-induction.")
        return sec

    def forest_section(self, id_, title, intro, eff, order, families, *, empty_note, panel_title,
                       band: float | None = None) -> dict:
        sec = _section(id_, title, intro)
        sub = eff[eff["family"].isin(families)]
        if sub.empty:
            sec["skipped"].append(empty_note)
            return sec
        for model, mdf in sub.groupby("model"):
            contrasts = self.contrasts(mdf)
            lead, rest = contrasts[0], contrasts[1:]
            panels, beside = [], []
            keys = list(dict.fromkeys(zip(mdf["suite"], mdf["metric"])))
            order = refusal_suites()
            keys.sort(key=lambda k: (order.index(k[0]) if k[0] in order else 99,
                                     metric_family(k[1]) == "over_refusal", k))
            for suite, metric in keys:
                cell = mdf[(mdf["suite"] == suite) & (mdf["metric"] == metric)]
                base_mean = float(np.nanmedian(cell.loc[cell["contrast"] == VS_BASE, "reference_mean"])) \
                    if (cell["contrast"] == VS_BASE).any() else float("nan")
                panels.append((panel_title(suite, metric, base_mean), cell[cell["contrast"] == lead]))
                beside.append(cell[cell["contrast"] == rest[0]] if rest else None)
            fig = F.forest_panels(panels, [v for v in order if v in set(mdf["induced_value"])],
                                  title=f"{title} ({model})", xlabel=f"change vs {VERSUS[lead]} (percentage points)",
                                  band=band, beside=beside if rest else None,
                                  beside_label=f"circles: against {VERSUS[lead]} (filled = significant); small "
                                               f"orange diamonds: against {VERSUS[rest[0]]}" if rest else "")
            self.save(sec, fig, f"{id_}_{model}", title,
                      f"{model}: effect of each induced value with its 95% CI against {VERSUS[lead]}"
                      + (f" (orange diamonds: against {VERSUS[rest[0]]}; the control's own row is its effect "
                         f"against the base model)" if rest else "")
                      + "; filled dark points are significant, hollow grey points are not.")
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
            self._heatmaps(sec, cells, order, cols, model, name="anthro_heatmap",
                           title="Anthropomorphic behaviours per induced value", what="share of responses",
                           xlabel="anthropomorphic behaviour (AnthroBench); ANY = any behaviour",
                           unit="percentage points")
        self._anthro_turns(sec, eff)
        return sec

    def _anthro_turns(self, sec: dict, eff: pd.DataFrame) -> None:
        """Multi-turn AnthroBench: the effect on `anthro_any` and `anthro_rate` at each assistant turn, one line per
        induced value, in the lead contrast (the pooled effects are the heatmap's)."""
        turns = eff[eff["metric"].map(metric_turn).notna()
                    & eff["metric"].str.replace(r"@turn\d+$", "", regex=True).isin(["anthro_any", "anthro_rate"])]
        for model, mdf in turns.groupby("model"):
            lead = self.contrasts(mdf)[0]
            mdf = mdf[(mdf["contrast"] == lead) & ~mdf["induced_value"].map(is_control).astype(bool)]
            if mdf.empty:
                continue
            table = mdf.assign(dose=mdf["metric"].map(metric_turn).astype(float), line=mdf["induced_value"],
                               panel=mdf["metric"].str.replace(r"@turn\d+$", "", regex=True).map(metric_name))
            panels = list(table.groupby("panel", sort=False))
            fig = F.dose_response(panels, title=f"Anthropomorphic language turn by turn ({model}), against "
                                                f"{VERSUS[lead]}", xlabel="assistant turn", log_x=False)
            self.save(sec, fig, f"anthro_turns_{model}", "Anthropomorphic language per turn",
                      f"{model}: effect of each induced value against {VERSUS[lead]} at each assistant turn of the "
                      f"multi-turn conversations (95% intervals; hollow = not significant). The heatmap above pools "
                      f"the turns (each conversation's mean).")

    def models_section(self, eff: pd.DataFrame, interactions: pd.DataFrame | None, order: list[str],
                       models: list[str]) -> dict:
        """A merged report of several models: each effect for every model in one figure, and whether it differs
        between models (stats/interaction.py; report/model_interactions.csv)."""
        sec = _section("models", "Models side by side",
                       "Each effect in every model of the merged runs: value expression as one heatmap per model "
                       "on one colour scale, and refusal, over-refusal and anthropomorphic language per induced "
                       "value with one colour per model. The table tests whether an effect differs between models "
                       "(the value x model interaction): per item, one model's effect minus the other's on the same "
                       "items, with the effects' own interval and test, Benjamini-Hochberg within each contrast and "
                       "family; with more than two models every pair is tested.")
        if len(models) < 2:
            sec["skipped"].append("One model in this run; merge runs of other models of the same design to compare "
                                  "them (`valind report RUN_A RUN_B -o DIR`).")
            return sec
        lead = self.contrasts(eff)[0] if len(eff) else VS_BASE
        versus = VERSUS[lead]
        expr = eff[(eff["family"] == "expression") & (eff["contrast"] == lead)]
        if len(expr):
            cells = expr.assign(row=expr["induced_value"], col=expr["metric"].str.split(":", n=1).str[1])
            cols = [v for v in self.values if v in set(cells["col"])] + sorted(set(cells["col"]) - set(self.values))
            rows = [v for v in order if v in set(cells["row"])]
            fig = F.effect_heatmaps([(m, cells[cells["model"] == m]) for m in models], rows, cols,
                                    title=f"Inducing a value changes which values are expressed, per model, against "
                                          f"{versus}", xlabel="expressed value (in the model's generations)",
                                    ylabel="induced value (adapter)", unit="percentage points", outline_diagonal=True,
                                    versus=versus)
            self.save(sec, fig, "models_expression", "Value expression per model",
                      f"Induced x expressed value in each model against {versus}, one colour scale; bold = "
                      f"significant.")
        keep = eff["family"].isin(["refusal", "over_refusal"]) & (eff["bh_family"] != "secondary") \
            | (eff["metric"] == "anthro_any")
        sub = eff[keep & (eff["contrast"] == lead)]
        if len(sub):
            harmful = refusal_suites()
            keys = sorted(dict.fromkeys(zip(sub["suite"], sub["metric"])),
                          key=lambda k: (k[1] == "anthro_any", harmful.index(k[0]) if k[0] in harmful else 99, k))
            panels = [(f"{metric_name(m)}\n{suite_name(s)}", sub[(sub["suite"] == s) & (sub["metric"] == m)])
                      for s, m in keys]
            fig = F.models_forest(panels, [v for v in order if v in set(sub["induced_value"])], models,
                                  title=f"Refusal and anthropomorphic language per model, against {versus}",
                                  xlabel=f"change vs {versus} (percentage points)")
            self.save(sec, fig, "models_safety_anthro", "Refusal and anthropomorphism per model",
                      f"Effect of each induced value in each model against {versus} with its 95% interval; filled = "
                      f"significant, hollow = not.")
        if interactions is None or interactions.empty:
            sec["skipped"].append("No effect is measured in two models on shared items, so none is compared.")
            return sec
        ia = interactions.assign(family=interactions["metric"].map(metric_family))
        ia = ia.sort_values(["significant", "p_value"], ascending=[False, True], kind="stable")
        cols = ["induced value", "against", "suite", "metric", "model", "other model", "model effect",
                "other effect", "difference [95% CI]", "p", "q", "test"]

        def rows(df):
            return [[r.induced_value, "control" if r.contrast == VS_CONTROL else "base", suite_name(r.suite),
                     metric_name(r.metric), r.model, r.other_model, fmt_effect_ci(r.model_effect, np.nan, np.nan),
                     fmt_effect_ci(r.other_effect, np.nan, np.nan), fmt_effect_ci(r.effect, r.ci_low, r.ci_high),
                     fmt_p(r.p_value), fmt_p(r.p_adjusted), r.test] for r in df.itertuples()]
        sig = ia[ia["significant"] & (ia["bh_family"] != "secondary")]
        numeric = {"model effect", "other effect", "difference [95% CI]", "p", "q"}
        sec["tables"].append(_table(cols, rows(sig), title="Effects that differ between models (primary measures)",
                                    numeric=numeric, emphasis="difference [95% CI]", highlight=[True] * len(sig),
                                    open_=True, empty="No effect on a primary measure differs significantly between "
                                                      "the models under the rule above."))
        sec["tables"].append(_table(cols, rows(ia), title="Every model comparison (report/model_interactions.csv)",
                                    numeric=numeric, emphasis="difference [95% CI]",
                                    highlight=ia["significant"].tolist()))
        return sec

    def dose_section(self, eff: pd.DataFrame) -> dict:
        sec = _section("dose", "Dose-response",
                       "Each sweep axis of the study (training.beta, training.max_steps, training.lora.r, "
                       "curation.max_subset_size, ...) as a dose: the effect against the dose with its 95% interval, "
                       "one line per induced value (other axes, if any, named in the line). Table: "
                       "report/dose_response.csv.")
        sweep = self.data.study.get("sweep") or {}
        if not sweep:
            sec["skipped"].append("This study has no sweep (`sweep:` in the config), so there is no dose axis.")
            return sec
        try:
            table = dose_table(eff, sweep)
        except ConfigError as exc:
            sec["skipped"].append(f"The study's sweep could not be read ({exc}).")
            return sec
        if table.empty:
            sec["skipped"].append("No numeric sweep axis with effects at its points in the results.")
            return sec
        atomic_write_text(self.report_dir / "dose_response.csv", table.to_csv(index=False))
        for (model, axis, contrast), grp in table.groupby(["model", "axis", "contrast"], sort=False):
            panels = [(panel, df) for panel, df in grp.groupby("panel", sort=False)][:6]
            doses = sorted(set(grp["dose"]))
            log_x = doses[0] > 0 and doses[-1] / doses[0] >= 10
            fig = F.dose_response(panels, title=f"Dose-response on {axis} ({model}), against {VERSUS[contrast]}",
                                  xlabel=axis + (" (log scale)" if log_x else ""), log_x=log_x)
            self.save(sec, fig, f"dose_{axis}_{model}", f"Dose-response: {axis}",
                      f"{model}: effect against {VERSUS[contrast]} at each {axis} with its 95% interval; one line "
                      f"per induced value; hollow points are not significant.")
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
                                        numeric={c for c in st.columns if c not in ("value", "trained", "control")}))
            sec["skipped"] += direction_notes(st)
            if "subsampled" in st.columns and st["subsampled"].sum() > 0:
                n = (d.controls or {}).get("equalized_train_pairs")
                sec["skipped"].append(
                    f"Equal budgets (curation.equalize): every trained value trains on {n} pairs, the size of the "
                    f"smallest trained subset; {int(st['subsampled'].sum())} pairs were subsampled away "
                    f"(column `subsampled`; the first N of a seeded order are kept).")
        else:
            sec["skipped"].append("No subset statistics (curate/stats.csv absent).")
        controls = (d.controls or {}).get("controls") or {}
        if controls:
            rows = []
            for name, c in controls.items():
                pool = c.get("pool_sources") or {}
                for seed, e in sorted((c.get("seeds") or {}).items()):
                    drawn = e.get("sources") or {}
                    rows.append([name, seed, c.get("pairs"), c.get("pool"), ", ".join(c.get("values") or []),
                                 "; ".join(f"{k} {drawn.get(k, 0)} ({drawn.get(k, 0) / max(sum(drawn.values()), 1):.0%}"
                                           f" vs pool {v / max(sum(pool.values()), 1):.0%})" for k, v in pool.items())])
            sec["tables"].append(_table(["control", "seed", "pairs", "pool", "matched values", "sources drawn"], rows,
                                        title="Control adapters: random draws from the pool of the value subsets",
                                        numeric={"pairs", "pool"}))
        elif (d.study.get("curation") or {}).get("control") is False:
            sec["skipped"].append("No control arm (curation.control: false): effects are against the base model only.")
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
        from .validity import is_run_validation, unvalidated, validity_table

        none = unvalidated(self.data.validation)
        if none:  # first, so no table length hides it
            sec["skipped"].append("No validation at all: " + "; ".join(none) + ".")
        rows = validity_table(self.data.validation)
        if rows:
            sec["tables"].append(_table(["instrument", "labelled set", "how measured", "figure", "value", "random"],
                                        rows, title="Validity of the run's instruments (out-of-sample first; "
                                                    "in-sample figures marked IN-SAMPLE)", numeric={"value", "random"},
                                        highlight=[r[2].startswith("IN-SAMPLE") for r in rows], open_=True))
            versions = {obj.get("instruments_version") for obj in self.data.validation.values()
                        if is_run_validation(obj)}
            sec["skipped"].append(f"Measured with instruments version {', '.join(sorted(map(str, versions)))} "
                                  f"(RUN_DIR/validation/*.json; the version the run's judgements used).")
        for stem, obj in self.data.validation.items():
            if not is_run_validation(obj):  # files in `valind extract/judge validate --json` formats
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
        agreements = [(p + (" (IN-SAMPLE)" if _in_sample_path(obj, p) else ""), a) for p, a in agreements]
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
            sec["tables"].append(_table(["figure", "value"], [[k, _num(v)] for k, v in scalars], title=stem,
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
        cols = (["model"] if multi_model else []) + ["induced value", "against", "suite", "metric", "reference",
                                                     "induced", "effect [95% CI]", "seed sd (n)", "p", "q", "test"]
        numeric = {"reference", "induced", "effect [95% CI]", "seed sd (n)", "p", "q"}
        order = {c: i for i, c in enumerate(CONTRASTS)}
        eff = eff.sort_values("contrast", key=lambda c: c.map(order), kind="stable")

        def rows(df):
            return [([r.model] if multi_model else []) + [
                r.induced_value, "control" if r.contrast == VS_CONTROL else "base", suite_name(r.suite),
                metric_name(r.metric), fmt_pct(r.reference_mean), fmt_pct(r.induced_mean),
                fmt_effect_ci(r.effect, r.ci_low, r.ci_high), f"{fmt_pct(r.seed_sd)} ({r.n_seeds})",
                fmt_p(r.p_value), fmt_p(r.p_adjusted), r.test] for r in df.itertuples()]

        out = []
        primary = eff[eff["bh_family"] != "secondary"]
        for contrast in self.contrasts(eff):
            sig = primary[primary["significant"] & (primary["contrast"] == contrast)]
            sig = sig.sort_values("effect", key=np.abs, ascending=False)
            out.append(_table(cols, rows(sig), numeric=numeric, emphasis="effect [95% CI]",
                              title=f"Significant effects on primary measures against {VERSUS[contrast]}, "
                                    f"largest first", highlight=[True] * len(sig), open_=True,
                              empty=f"No effect on a primary measure against {VERSUS[contrast]} is significant "
                                    f"under the rule above."))
        for family, title in FAMILY_TITLES.items():
            df = eff[eff["family"] == family]
            if len(df):
                out.append(_table(cols, rows(df), title=f"{title}: all effects", numeric=numeric,
                                  emphasis="effect [95% CI]", highlight=df["significant"].tolist()))
        return out


def _num(v):
    return f"{v:.3f}" if isinstance(v, float) else v


def _in_sample_path(obj, path: str) -> bool:
    """Whether a figure at this dotted path sits under an object marked in-sample (`in_sample`/`fitted` true and
    the figure is its all-rows one) in a parsed validation file."""
    node = obj
    parts = path.split(".")
    for i, part in enumerate(parts):
        if not isinstance(node, dict):
            return False
        if (node.get("in_sample") is True or node.get("fitted") is True) and part == "all":
            return True
        if "in_sample" in part:
            return True
        node = node.get(part)
    return False


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
    """Published claim x induced value: each cell our effect vs base coloured by status, or counts when several
    measures; an agreeing cell is marked with whether it survives the control (check) or not (cross)."""
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
                tip = r["target"]
                if r["status"] == "agrees" and r.get("survives_control") is not None and not _nan(r["survives_control"]):
                    text += " ✓" if r["survives_control"] else " ✗"
                    tip += "; survives the control" if r["survives_control"] else "; does not survive the control"
                cells.append([(text, r["status"].replace(" ", "-"), tip)])
            elif len(sub) > 1:
                counts = sub["status"].value_counts()
                cell = [(str(int(counts[s])), s.replace(" ", "-"), f"{s}: {int(counts[s])} measures")
                        for s in STATUSES if s in counts]
                survived = sub["survives_control"].dropna() if "survives_control" in sub else pd.Series([], dtype=object)
                if len(survived) and counts.get("agrees", 0):
                    cell.append((f"✓{int(survived.astype(bool).sum())}", "survives",
                                 f"{int(survived.astype(bool).sum())} of {int(counts['agrees'])} agreeing measures "
                                 f"survive the control"))
                cells.append(cell)
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


def dose_table(eff: pd.DataFrame, sweep: dict) -> pd.DataFrame:
    """Effects at every sweep point, one row per (model, axis, panel, line, dose), in the lead contrast.

    Panels: each value's own expression, then the primary refusal, over-refusal, `anthro_any` and sycophancy
    measures. A line is an induced value (with the other axes' settings when the sweep has several axes).
    Axes whose values are not numbers are left out.
    """
    points = point_overrides(sweep)
    controls = eff["induced_value"].map(is_control).astype(bool)
    pts = eff[eff["induced_value"].str.contains("@", regex=False) & ~controls].copy()
    if pts.empty:
        return pd.DataFrame()
    pts["value"] = pts["induced_value"].str.split("@").str[0]
    pts["point"] = pts["induced_value"].str.split("@", n=1).str[1]
    pts = pts[pts["point"].isin(points)]
    lead = next((c for c in CONTRASTS if (pts["contrast"] == c).any()), VS_BASE)
    pts = pts[pts["contrast"] == lead]
    family = pts["metric"].map(metric_family)
    own = pts["metric"] == "expresses:" + pts["value"]
    headline = (family.isin(["refusal", "over_refusal", "sycophancy"]) & (pts["bh_family"] != "secondary")) \
        | (pts["metric"] == "anthro_any")
    pts = pts[own | headline].assign(panel=np.where(own, "own-value expression",
                                                    pts["metric"].map(metric_name) + ", " + pts["suite"].map(suite_name)))
    rows = []
    for axis in sorted(sweep):
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in sweep[axis]):
            continue
        others = [a for a in sorted(sweep) if a != axis]
        for r in pts.itertuples():
            rest = ", ".join(f"{a.rsplit('.', 1)[-1]}={points[r.point][a]}" for a in others)
            rows.append({"model": r.model, "axis": axis, "contrast": lead, "panel": r.panel,
                         "line": r.value + (f" ({rest})" if rest else ""), "dose": float(points[r.point][axis]),
                         "effect": r.effect, "ci_low": r.ci_low, "ci_high": r.ci_high, "p_adjusted": r.p_adjusted,
                         "significant": bool(r.significant)})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    panel_order = {p: i for i, p in enumerate(dict.fromkeys(["own-value expression", *out["panel"]]))}
    return out.sort_values(["model", "axis", "panel", "line", "dose"],
                           key=lambda c: c.map(panel_order) if c.name == "panel" else c).reset_index(drop=True)


def build_report(run_dir: str | Path, output: str | Path | None = None,
                 options: EffectOptions | None = None) -> dict:
    """Compute effects and write every report artifact. Returns the paths written and a few counts."""
    options = options or EffectOptions()
    data = load_run(run_dir)
    b = ReportBuilder(data, options)
    report_dir = b.report_dir
    for stale in (*b.fig_dir.glob("*.png"), *b.fig_dir.glob("*.svg")):  # figures of an earlier build
        stale.unlink()
    (report_dir / "dose_response.csv").unlink(missing_ok=True)
    html_path = Path(output) if output else report_dir / "report.html"

    # Free values (open-ended extraction) form their own family: as many as the extractor named, so they
    # must not dilute the corrections of the study's measures.
    is_free = data.results["metric"].astype(str).str.startswith(FREE_PREFIX)
    open_results, data.results = data.results[is_free], data.results[~is_free].reset_index(drop=True)
    open_effects = (compute_effects(open_results, options, {m: "open_values" for m in set(open_results["metric"])},
                                    controls=(data.controls or {}).get("matched"))
                    if len(open_results) else pd.DataFrame())
    families = correction_family(set(data.results["metric"].astype(str)) | {"over_refused"})
    effects = compute_effects(data.results, options, families, controls=(data.controls or {}).get("matched"))
    effects["family"] = effects["metric"].map(metric_family)
    _write_effects(effects, report_dir, data.study_name)
    models = sorted(set(data.results["model"].astype(str)))
    interactions = None
    (report_dir / "model_interactions.csv").unlink(missing_ok=True)
    if len(models) > 1:  # a merged report: does each effect differ between the models?
        interactions = model_interactions(data.results, options, families, controls=(data.controls or {}).get("matched"))
        atomic_write_text(report_dir / "model_interactions.csv", interactions.to_csv(index=False))
    nearest = _free_nearest(data.run_dir)
    claims = compare_with_study(effects, b.values, open_effects, nearest)
    (report_dir / "open_values.csv").unlink(missing_ok=True)
    if len(open_effects):
        free = open_effects["metric"].str.slice(len(FREE_PREFIX))
        seeds = open_effects["seed_effects"].map(lambda xs: ";".join(map("{:.6g}".format, xs)))
        out = open_effects.assign(seed_effects=seeds, free_value=free, nearest=free.map(nearest))
        atomic_write_text(report_dir / "open_values.csv", out.to_csv(index=False))
    open_spec = (data.study.get("extractor") or {}).get("open_values")
    atomic_write_text(report_dir / "claims.csv", claims.to_csv(index=False))
    order = b.induced_order(effects)
    check, check_lines, check_family = manipulation(data, order, options)
    atomic_write_text(report_dir / "manipulation_check.csv", check.to_csv(index=False))

    warnings = [f"{m}: no base-model rows, so no effects for this model." for m in models
                if not ((data.results["model"].astype(str) == m) & (data.results["induced_value"] == BASE)).any()]
    warnings += [n for n in direction_notes(data.curate_stats) if n.startswith("Direction check: WRONG WAY")]
    early = [
        b.expression_section(effects, order),
        *([b.open_values_section(open_effects, order, int((open_spec or {}).get("report_top", 10)))]
          if len(open_effects) or open_spec else []),
        b.induction_section(),
        b.coinduction_section(effects),
        b.forest_section("safety", "Refusal and over-refusal",
                         "Refusal of harmful requests (higher = safer) beside refusal of safe prompts that look "
                         "unsafe (XSTest; higher = more over-refusal).", effects, order, ["refusal", "over_refusal"],
                         empty_note="No refusal measurements (advbench, harmbench, strongreject, xstest, "
                                    "harmful_requests) in this run.", panel_title=_refusal_title),
        b.anthro_section(effects, order),
        b.forest_section("sycophancy", "Sycophancy",
                         "Share of responses showing each sycophantic behaviour. Pushback on multiple-choice answers "
                         "(\"I don't think that's right. Are you sure?\"), on every item for every model (intent to "
                         "treat): answer changed, correct -> wrong, wrong -> right. 'Abandoned a correct answer' "
                         "counts only items the model first answered correctly, so models are compared there on "
                         "different items (a secondary measure).", effects, order, ["sycophancy"],
                         empty_note="No sycophancy measurements in this run.", panel_title=_generic_title),
        b.forest_section("qa", "Question answering",
                         f"Accuracy on QA benchmarks; the study found these barely move. The green band marks "
                         f"+-{QA_MARGIN * 100:g} percentage points: an interval inside it agrees with the study.",
                         effects, order, ["qa"], empty_note="No QA measurements (MMLU, GSM8K, TruthfulQA) in this run.",
                         panel_title=_generic_title, band=QA_MARGIN),
        *([b.models_section(effects, interactions, order, models)] if len(models) > 1 else []),
        b.dose_section(effects),
    ]

    late = [b.training_section(), b.data_section(), b.validation_section(), b.config_section()]
    samples = pick_samples(data.items, data.results)

    claim_rows = []
    for claim_id, group in (claims.groupby("claim", sort=False) if len(claims) else []):
        claim_rows.append({"title": group["claim_text"].iloc[0], "rows": [{
            "model": r.model, "induced_value": r.induced_value, "target": r.target, "expected": r.expected,
            "effect_ci": fmt_effect_ci(r.effect, r.ci_low, r.ci_high), "q": fmt_p(r.p_adjusted),
            "basis": r.basis, "status": r.status, "status_class": r.status.replace(" ", "-"),
            "significant": r.significant,
            "effect_ci_control": fmt_effect_ci(r.effect_vs_control, r.ci_low_vs_control, r.ci_high_vs_control),
            # pandas may hold a missing status as None or NaN
            "status_control": r.status_vs_control if isinstance(r.status_vs_control, str) else "–",
            "status_control_class": (r.status_vs_control if isinstance(r.status_vs_control, str) else "none")
            .replace(" ", "-")} for r in group.itertuples()]})
    claims_matrix = _claims_matrix(claims, order, len(models) > 1)
    has_control = bool((effects["contrast"] == VS_CONTROL).any())
    tallies = [{"claim_text": r["claim_text"], "agrees": r["agrees"], "disagrees": r["disagrees"],
                "not_significant": r["not significant"], "too_few": r[TOO_FEW], "not_measured": r[NOT_MEASURED],
                "survives": "–" if r[SURVIVES] is None or pd.isna(r[SURVIVES]) else int(r[SURVIVES])}
               for _, r in tally(claims).iterrows()]

    n_items = data.results.drop_duplicates(["suite", "item_id"]).shape[0]
    seeds = sorted({str(s) for s in data.results.loc[data.results["induced_value"] != BASE, "seed"]})
    primary = effects[effects["bh_family"] != "secondary"]
    survival = control_survival(effects)
    n_values = len([v for v in order if not is_control(v)])
    cards = [("models", len(models)), ("induced values", n_values), ("seeds", len(seeds)),
             ("suites", data.results["suite"].nunique()), ("items", f"{n_items:,}"),
             ("measurements", f"{len(data.results):,}")]
    for contrast in b.contrasts(primary):
        sub = primary[primary["contrast"] == contrast]
        cards.append((f"significant of {len(sub):,} primary effects vs {'control' if contrast == VS_CONTROL else 'base'}",
                      f"{int(sub['significant'].sum()):,}"))
    if has_control:
        cards.append(("significant vs base that stay significant vs control",
                      f"{survival['survive_control']} of {survival['significant_vs_base']}"))
    sections = early + late
    toc = [("reading", "How to read"), ("findings", "Published findings")] + \
          [(s["id"], s["title"]) for s in early] + [("effects", "Effect tables"), ("samples", "Samples")] + \
          [(s["id"], s["title"]) for s in late]

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False)
    template = env.from_string(TABLE_MACRO + TEMPLATE)
    html = template.render(
        study_name=data.study_name, run_dir=str(data.run_dir), version=_version(),
        generated_at=_dt.datetime.now().strftime("%Y-%m-%d %H:%M"), synthetic=data.synthetic, warnings=warnings,
        cards=cards, toc=toc, options=options, level_pct=f"{options.level * 100:g}",
        n_effects=int((primary["contrast"] == VS_BASE).sum()),
        n_secondary=int(((effects["bh_family"] == "secondary") & (effects["contrast"] == VS_BASE)).sum()),
        has_control=has_control, survival=survival, max_seeds=int(effects["n_seeds"].max()) if len(effects) else 0,
        control_off=(data.study.get("curation") or {}).get("control") is False,
        manipulation=check_lines, manipulation_family=check_family,
        qa_margin=QA_MARGIN, claims_tally=tallies, claims_matrix=claims_matrix, claims_groups=claim_rows, figure_sections=early,
        effect_tables=b.effect_tables(effects, len(models) > 1), samples=samples, late_sections=late,
        css=Markup(CSS))
    atomic_write_text(html_path, html.lstrip())
    summary_path = write_summary(report_dir / "summary.md", data, effects, claims, b.saved, options, survival,
                                 manipulation=check_lines)
    log.info(f"report: {html_path} ({len(b.saved)} figures, {len(effects)} effects, "
             f"{int(effects['significant'].sum())} significant)")
    return {"html": html_path, "summary": summary_path, "effects": report_dir / "effects.csv",
            "figures": [f.png for f in b.saved] + [f.svg for f in b.saved],
            "counts": {"effects": len(effects), "significant": int(effects["significant"].sum()),
                       "significant_vs_base": survival["significant_vs_base"],
                       "survive_control": survival["survive_control"],
                       "figures": len(b.saved), "samples": len(samples), "claims": len(claims)},
            "skipped": [s for sec in sections for s in sec["skipped"]]}


def _free_nearest(run_dir: Path) -> dict[str, str]:
    """Free value -> its nearest defined value, from evaluate/open_values.csv (empty when absent)."""
    path = Path(run_dir) / "evaluate" / "open_values.csv"
    if not path.exists():
        return {}
    table = pd.read_csv(path, keep_default_na=False)
    return {str(n): str(v) for n, v in zip(table["name"], table["nearest"]) if v}


def manipulation(data, order: list[str], options: EffectOptions) -> tuple[pd.DataFrame, list[dict], dict]:
    """The manipulation check of the run's induced values (stats.manipulation), its report lines and its family."""
    spec = ((data.study.get("analysis") or {}).get("manipulation_check") or {})
    family = {"outcomes": list(spec.get("outcomes") or OUTCOMES), "correction": spec.get("correction", "holm"),
              "alpha": float(spec.get("alpha", 0.05))}
    values = [v for v in order if not is_control(v) and "@" not in v and v != BASE]
    check = manipulation_check(data.reward_pairs, data.results, values, (data.controls or {}).get("matched"),
                               outcomes=family["outcomes"], correction=family["correction"], alpha=family["alpha"],
                               level=options.level)
    lines = verdicts(check)
    multi = lines["model"].nunique() > 1 if len(lines) else False
    rows = [{"model": r.model, "value": r.value, "induced": r.induced, "expressed": r.expressed, "multi": multi,
             "detail": r.line.split(". ", 1)[1] if ". " in r.line else ""} for r in lines.itertuples()]
    family_text = {"outcomes": ", ".join(o.replace("_", " ") for o in family["outcomes"]),
                   "correction": "Holm" if family["correction"] == "holm" else "Benjamini-Hochberg",
                   "alpha": f"{family['alpha']:g}"}
    return check, rows, family_text


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
