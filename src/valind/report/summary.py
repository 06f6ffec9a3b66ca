"""A Markdown summary of a run's report, for pasting into a paper draft or an issue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..artifacts import atomic_write_text
from .claims import NOT_MEASURED, SURVIVES, TOO_FEW, tally
from .kinds import VERSUS, metric_name, suite_name


def _md(text) -> str:
    """Keep table cells intact: escape pipes, drop newlines."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _count(x) -> str:
    return "–" if x is None or pd.isna(x) else str(int(x))


def _ci(r) -> str:
    return f"{r.effect * 100:+.1f} [{r.ci_low * 100:+.1f}, {r.ci_high * 100:+.1f}]"


def write_summary(path: Path, data, effects: pd.DataFrame, claims: pd.DataFrame, figures, options,
                  survival: dict | None = None, top: int = 15, manipulation: list[dict] | None = None) -> Path:
    lines = [f"# valind report: {_md(data.study_name)}", ""]
    if data.synthetic:
        lines += ["> **Synthetic demo data: every number below is simulated.**", ""]
    lines += ["## Was each value induced? (the manipulation check: its own confirmatory family)", ""]
    if manipulation:
        lines += [f"- **{_md(m['value'])}**" + (f" ({_md(m['model'])})" if m.get("multi") else "")
                  + f": induced **{m['induced']}**; expressed more than the control: **{m['expressed']}**. "
                  + _md(m["detail"]) for m in manipulation]
    else:
        lines.append("- No manipulation check in this run (no per-pair implicit-reward check, no control).")
    lines.append("")
    res = data.results
    induced = sorted(set(res.loc[res["induced_value"] != "base", "induced_value"].astype(str)))
    seeds = sorted({str(s) for s in res.loc[res["induced_value"] != "base", "seed"]})
    contrasts = [c for c in ("vs_control", "vs_base") if (effects["contrast"] == c).any()]
    lines += [f"- Models: {', '.join(sorted(set(res['model'].astype(str))))}",
              f"- Adapters ({len(induced)}): {', '.join(induced)}; seeds: {', '.join(seeds)}",
              f"- Suites: {', '.join(suite_name(s) for s in sorted(set(res['suite'])))}; "
              f"{len(res):,} measurements"]
    for c in contrasts:
        sub = effects[effects["contrast"] == c]
        lines.append(f"- Against {VERSUS[c]}: {len(sub):,} effects tested, {int(sub['significant'].sum())} significant")
    if survival and "vs_control" in contrasts:
        lines.append(f"- Of the primary effects significant against the base model, {survival['survive_control']} of "
                     f"{survival['significant_vs_base']} stay significant (same direction) against the control")
    lines += ["", "Effects are induced minus reference (the control adapter, or the base model) on the same items "
              "(x100, percentage points for rates); q = Benjamini-Hochberg within each contrast across the primary "
              "measures (secondary measures form their own family). Significant = q < "
              f"{options.alpha} and the {options.level * 100:g}% interval excludes 0."]
    if len(seeds) <= 1:
        lines += ["**One seed per adapter: these results hold for this adapter (one training run) only.**"]
    else:
        lines += ["Seeds are replications: intervals and p-values come from a test over items and seeds."]
    lines.append("")
    t = tally(claims)
    if len(t):
        control = SURVIVES in t and t[SURVIVES].notna().any()
        lines += ["## Published findings vs this run (against the base model)", "",
                  "| finding | agrees |" + (" survives the control |" if control else "")
                  + " disagrees | not significant | too few items | not measured |",
                  "|---|---:|" + ("---:|" if control else "") + "---:|---:|---:|---:|"]
        lines += [f"| {_md(r['claim_text'])} | {r['agrees']} |" + (f" {_count(r[SURVIVES])} |" if control else "")
                  + f" {r['disagrees']} | {r['not significant']} | {r[TOO_FEW]} | {r[NOT_MEASURED]} |"
                  for _, r in t.iterrows()]
        lines.append("")
    primary = effects[effects["bh_family"] != "secondary"]
    for c in contrasts:
        sig = primary[primary["significant"] & (primary["contrast"] == c)]
        sig = sig.sort_values("effect", key=np.abs, ascending=False).head(top)
        lines += [f"## Largest significant effects on primary measures against {VERSUS[c]} (top {top})", ""]
        if len(sig):
            lines += ["| model | induced | suite | metric | effect [95% CI] | q | seeds (sd) |",
                      "|---|---|---|---|---:|---:|---:|"]
            for r in sig.itertuples():
                sd = "–" if np.isnan(r.seed_sd) else f"{r.seed_sd * 100:.1f}"
                lines.append(f"| {_md(r.model)} | {_md(r.induced_value)} | {_md(suite_name(r.suite))} | "
                             f"{_md(metric_name(r.metric))} | {_ci(r)} | {r.p_adjusted:.3g} | {r.n_seeds} ({sd}) |")
        else:
            lines.append("No effect is significant under the rule above.")
        lines.append("")
    lines += ["## Figures", ""]
    lines += [f"- {_md(f.title)}: `figures/{f.png.name}` (`figures/{f.svg.name}`)" for f in figures]
    lines += ["", "Full tables: `effects.csv` (column `contrast`: vs_control / vs_base), `claims.csv`; the HTML "
              "report: `report.html`.", ""]
    atomic_write_text(path, "\n".join(lines))
    return path
