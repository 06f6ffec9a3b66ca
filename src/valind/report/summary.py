"""A Markdown summary of a run's report, for pasting into a paper draft or an issue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..artifacts import atomic_write_text
from .claims import tally
from .kinds import metric_name, suite_name


def _md(text) -> str:
    """Keep table cells intact: escape pipes, drop newlines."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _ci(r) -> str:
    return f"{r.effect * 100:+.1f} [{r.ci_low * 100:+.1f}, {r.ci_high * 100:+.1f}]"


def write_summary(path: Path, data, effects: pd.DataFrame, claims: pd.DataFrame, figures, options,
                  top: int = 15) -> Path:
    lines = [f"# valind report: {_md(data.study_name)}", ""]
    if data.synthetic:
        lines += ["> **Synthetic demo data: every number below is simulated.**", ""]
    res = data.results
    induced = sorted(set(res.loc[res["induced_value"] != "base", "induced_value"].astype(str)))
    seeds = sorted({str(s) for s in res.loc[res["induced_value"] != "base", "seed"]})
    lines += [f"- Models: {', '.join(sorted(set(res['model'].astype(str))))}",
              f"- Induced values ({len(induced)}): {', '.join(induced)}; seeds: {', '.join(seeds)}",
              f"- Suites: {', '.join(suite_name(s) for s in sorted(set(res['suite'])))}; "
              f"{len(res):,} measurements; {len(effects):,} effects tested, "
              f"{int(effects['significant'].sum())} significant",
              "",
              f"Effects are induced minus base on the same items (x100, percentage points for rates), with "
              f"{options.level * 100:g}% bootstrap intervals; q = Benjamini-Hochberg across the primary measures "
              f"(secondary measures form their own family). Significant = q < {options.alpha}, interval excludes 0, "
              f"and every seed agrees in sign.", ""]
    t = tally(claims)
    if len(t):
        lines += ["## Published findings vs this run", "", "| finding | agrees | disagrees | not significant |",
                  "|---|---:|---:|---:|"]
        lines += [f"| {_md(r['claim_text'])} | {r['agrees']} | {r['disagrees']} | {r['not significant']} |"
                  for _, r in t.iterrows()]
        lines.append("")
    primary = effects[effects["bh_family"] != "secondary"]
    sig = primary[primary["significant"]].sort_values("effect", key=np.abs, ascending=False).head(top)
    lines += [f"## Largest significant effects on primary measures (top {top})", ""]
    if len(sig):
        lines += ["| model | induced | suite | metric | effect [95% CI] | q | seeds (sd) |",
                  "|---|---|---|---|---:|---:|---:|"]
        for r in sig.itertuples():
            sd = "–" if np.isnan(r.seed_sd) else f"{r.seed_sd * 100:.1f}"
            lines.append(f"| {_md(r.model)} | {_md(r.induced_value)} | {_md(suite_name(r.suite))} | "
                         f"{_md(metric_name(r.metric))} | {_ci(r)} | {r.p_adjusted:.3g} | {r.n_seeds} ({sd}) |")
    else:
        lines.append("No effect is significant under the rule above.")
    lines += ["", "## Figures", ""]
    lines += [f"- {_md(f.title)}: `figures/{f.png.name}` (`figures/{f.svg.name}`)" for f in figures]
    lines += ["", "Full tables: `effects.csv`, `claims.csv`; the HTML report: `report.html`.", ""]
    atomic_write_text(path, "\n".join(lines))
    return path
