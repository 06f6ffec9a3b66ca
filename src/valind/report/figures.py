"""The report's figures, drawn with matplotlib's object API (no pyplot state) and saved as PNG and SVG.

Each figure is readable on its own: a title that says what is shown, labelled
axes with units, numbers written in the cells or beside the points, and
non-significant effects visibly marked (hatched grey cells, hollow grey
points). A figure whose data is absent is not drawn; the builder says why.
"""

from __future__ import annotations

import base64
import io
import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator, NullLocator, StrMethodFormatter

RC = {"svg.hashsalt": "valind", "font.size": 9.5, "axes.titlesize": 10.5, "axes.titleweight": "bold",
      "figure.titlesize": 12.5, "figure.titleweight": "bold", "axes.spines.top": False,
      "axes.spines.right": False, "font.family": "DejaVu Sans",
      "text.parse_math": False}  # names from configs and models are text, never mathtext
SIG_COLOR, NS_COLOR, BESIDE_COLOR = "#1f3b73", "#9a9a9a", "#d9822b"
NOT_SIG_NOTE = "grey/hatched = not significant (BH q >= 0.05 or the 95% CI includes 0)"


@dataclass
class SavedFigure:
    name: str
    title: str
    caption: str
    png: Path
    svg: Path
    png_b64: str = field(repr=False, default="")


def save_figure(fig: Figure, out_dir: Path, name: str, title: str, caption: str) -> SavedFigure:
    """Write NAME.png and NAME.svg (deterministic bytes) and keep the PNG for embedding."""
    out_dir.mkdir(parents=True, exist_ok=True)
    png, svg = out_dir / f"{name}.png", out_dir / f"{name}.svg"
    with mpl.rc_context(RC):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
        png.write_bytes(buf.getvalue())
        fig.savefig(svg, format="svg", metadata={"Date": None})
    return SavedFigure(name, title, caption, png, svg, base64.b64encode(buf.getvalue()).decode("ascii"))


def _new_figure(width: float, height: float) -> Figure:
    with mpl.rc_context(RC):
        return Figure(figsize=(width, height), layout="constrained")


def _fmt(x: float, scale: float) -> str:
    """+12, +3.4, 0.0: whole numbers from 10 up, one decimal below, no signed zero."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    v = x * scale
    if abs(v) < 0.05:
        return "0.0"
    return f"{v:+.0f}" if abs(v) >= 9.5 else f"{v:+.1f}"


# ------------------------------------------------------------------ heatmap of effects
def _effect_grid(cells: pd.DataFrame, rows: list[str], cols: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(effects, significant) as rows x cols arrays from `cells` (columns row, col, effect, significant)."""
    E = np.full((len(rows), len(cols)), np.nan)
    S = np.zeros_like(E, dtype=bool)
    ri, ci = {r: i for i, r in enumerate(rows)}, {c: j for j, c in enumerate(cols)}
    for rec in cells.itertuples():
        if rec.row in ri and rec.col in ci:
            E[ri[rec.row], ci[rec.col]] = rec.effect
            S[ri[rec.row], ci[rec.col]] = bool(rec.significant)
    return E, S


def _draw_effect_grid(ax, E: np.ndarray, S: np.ndarray, rows: list[str], cols: list[str], *, vmax: float,
                      scale: float, outline_diagonal: bool, ylabels: bool = True):
    """One heatmap of effects on `ax` (significant cells coloured, others hatched grey); returns the image."""
    shown = np.where(S, E * scale, np.nan)
    im = ax.imshow(shown, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -vmax, vmax), aspect="auto")
    for i in range(len(rows)):
        for j in range(len(cols)):
            if np.isnan(E[i, j]):
                ax.add_patch(Rectangle((j - .5, i - .5), 1, 1, facecolor="white", edgecolor="#dddddd", lw=.5))
                ax.text(j, i, "–", ha="center", va="center", color="#bbbbbb", fontsize=8)
            elif S[i, j]:
                dark = abs(E[i, j] * scale) > 0.55 * vmax
                ax.text(j, i, _fmt(E[i, j], scale), ha="center", va="center", fontsize=8.5, fontweight="bold",
                        color="white" if dark else "black")
            else:
                ax.add_patch(Rectangle((j - .5, i - .5), 1, 1, facecolor="#f1f1f1", edgecolor="#c8c8c8",
                                       hatch="////", lw=0))
                ax.text(j, i, _fmt(E[i, j], scale), ha="center", va="center", fontsize=7.5, color="#777777",
                        style="italic", bbox=dict(boxstyle="square,pad=0.1", fc="#f1f1f1", ec="none"))
            if outline_diagonal and rows[i] == cols[j]:
                ax.add_patch(Rectangle((j - .5, i - .5), 1, 1, fill=False, edgecolor="black", lw=1.6))
    ax.set_xticks(range(len(cols)), cols, rotation=40, ha="right")
    ax.set_yticks(range(len(rows)), rows if ylabels else [""] * len(rows))
    ax.set_xticks(np.arange(-.5, len(cols)), minor=True)
    ax.set_yticks(np.arange(-.5, len(rows)), minor=True)
    ax.grid(which="minor", color="white", lw=1.2)
    ax.tick_params(which="minor", length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    return im


def effect_heatmap(cells: pd.DataFrame, rows: list[str], cols: list[str], *, title: str, subtitle: str,
                   xlabel: str, ylabel: str, unit: str, scale: float = 100.0, outline_diagonal: bool = False,
                   versus: str = "base") -> Figure:
    """Rows x cols grid of effects; `cells` has columns row, col, effect, significant."""
    with mpl.rc_context(RC):
        E, S = _effect_grid(cells, rows, cols)
        vmax = max(float(np.nanmax(np.abs(E))) * scale if np.isfinite(E).any() else 1.0, 1.0)
        fig = _new_figure(max(5.5, 0.62 * len(cols) + 3.2), max(2.8, 0.42 * len(rows) + 2.3))
        ax = fig.add_subplot()
        im = _draw_effect_grid(ax, E, S, rows, cols, vmax=vmax, scale=scale, outline_diagonal=outline_diagonal)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        cbar = fig.colorbar(im, ax=ax, shrink=0.85, pad=0.01)
        cbar.set_label(f"change vs {versus} ({unit})")
        fig.suptitle(title)
        ax.set_title(subtitle, fontsize=8.5, fontweight="normal", color="#444444", loc="left")
        return fig


def effect_heatmaps(panels: list[tuple[str, pd.DataFrame]], rows: list[str], cols: list[str], *, title: str,
                    xlabel: str, ylabel: str, unit: str, scale: float = 100.0, outline_diagonal: bool = False,
                    versus: str = "base") -> Figure:
    """Small multiples: one effect grid per panel (e.g. per model) side by side, on one colour scale."""
    with mpl.rc_context(RC):
        grids = [_effect_grid(cells, rows, cols) for _, cells in panels]
        finite = [np.abs(E[np.isfinite(E)]) for E, _ in grids if np.isfinite(E).any()]
        vmax = max(float(max(f.max() for f in finite)) * scale if finite else 1.0, 1.0)
        width = 0.5 * len(cols) + 0.6
        fig = _new_figure(width * len(panels) + 2.6, max(2.8, 0.42 * len(rows) + 2.3))
        axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)[0]
        im = None
        for k, ((ptitle, _), (E, S)) in enumerate(zip(panels, grids)):
            im = _draw_effect_grid(axes[k], E, S, rows, cols, vmax=vmax, scale=scale,
                                   outline_diagonal=outline_diagonal, ylabels=k == 0)
            axes[k].set_title(ptitle, fontsize=9.5)
        fig.supxlabel(f"{xlabel}\n{NOT_SIG_NOTE}", fontsize=9.5)
        fig.supylabel(ylabel, fontsize=9.5)
        cbar = fig.colorbar(im, ax=list(axes), shrink=0.85, pad=0.01)
        cbar.set_label(f"change vs {versus} ({unit})")
        fig.suptitle(title)
        return fig


def _label_forest_panel(ax, order: list[str], title: str, xlabel: str) -> None:
    """One forest panel's induced values down the side, title, axis label and grid."""
    ax.set_yticks(range(len(order)), order)
    ax.set_title(title, fontsize=9.5)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", color="#eeeeee")


def _hide_unused(axes, n_panels: int, nrows: int, ncols: int) -> None:
    """Hide the grid's axes left over after the last panel."""
    for k in range(n_panels, nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)


def models_forest(panels: list[tuple[str, pd.DataFrame]], order: list[str], models: list[str], *, title: str,
                  xlabel: str, scale: float = 100.0, ncols: int = 3) -> Figure:
    """One panel per measure: each induced value's effect in every model (one colour per model, offset rows),
    with 95% intervals; filled = significant, hollow = not. Each panel's `df` has columns induced_value,
    model, effect, ci_low, ci_high, significant."""
    with mpl.rc_context(RC):
        ncols = min(ncols, len(panels))
        nrows = math.ceil(len(panels) / ncols)
        fig = _new_figure(max(4.2 * ncols + 1.8, 6.0), max(2.6, 0.45 * len(order) + 1.4) * nrows + 0.5)
        axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
        colors = mpl.colormaps["tab10"]
        y = {v: i for i, v in enumerate(order)}
        step = 0.7 / max(len(models), 1)
        for k, (ptitle, df) in enumerate(panels):
            ax = axes[k // ncols][k % ncols]
            ax.axvline(0, color="#444444", lw=0.9)
            for m, model in enumerate(models):
                sub = df[(df["model"] == model) & df["induced_value"].isin(y)]
                c = colors(m % 10)
                for n, rec in enumerate(sub.itertuples()):
                    yy, sig = y[rec.induced_value] - 0.35 + step * (m + 0.5), bool(rec.significant)
                    ax.plot([rec.ci_low * scale, rec.ci_high * scale], [yy, yy], color=c, lw=1.8 if sig else 1.0)
                    ax.plot(rec.effect * scale, yy, "o", ms=5.5, color=c, mfc=c if sig else "white", mew=1.4,
                            label=model if n == 0 else None)
            ax.set_ylim(len(order) - 0.5, -0.5)
            _label_forest_panel(ax, order, ptitle, xlabel)
        _hide_unused(axes, len(panels), nrows, ncols)
        handles = {}
        for ax in axes.flat:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(lab, h)
        if handles:
            fig.legend(list(handles.values()), list(handles), loc="outside right center", fontsize=8, title="model")
        fig.suptitle(title)
        fig.supylabel("induced value", fontsize=9.5)
        return fig


# ------------------------------------------------------------------ forest (dot and interval) panels
def forest_panels(panels: list[tuple[str, pd.DataFrame]], order: list[str], *, title: str, xlabel: str,
                  scale: float = 100.0, ncols: int = 3, band: float | None = None,
                  beside: list[pd.DataFrame] | None = None, beside_label: str = "") -> Figure:
    """One panel per measure: each induced value's effect with its 95% CI; hollow grey = not significant.

    `band` shades +-band (e.g. the margin within which a claim of "no change" holds). `beside` gives, per
    panel, a second contrast drawn as small diamonds just below each row (e.g. the effect against the base
    model beside the one against the control)."""
    with mpl.rc_context(RC):
        ncols = len(panels) if len(panels) <= 3 else (2 if len(panels) == 4 else ncols)
        nrows = math.ceil(len(panels) / ncols)
        fig = _new_figure(max(3.9 * ncols + 0.8, 6.0), max(2.4, 0.32 * len(order) + 1.3) * nrows + 0.5
                          + (0.4 if beside_label else 0.0))
        axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
        y = {v: i for i, v in enumerate(order)}
        for k, (ptitle, df) in enumerate(panels):
            ax = axes[k // ncols][k % ncols]
            df = df[df["induced_value"].isin(y)]
            other = beside[k] if beside else None
            other = other[other["induced_value"].isin(y)] if other is not None else None
            both = pd.concat([df, other]) if other is not None else df
            span = max(float(np.nanmax(np.abs(both[["ci_low", "ci_high"]].to_numpy()))) * scale, 2.0) * 1.35 \
                if len(both) and np.isfinite(both[["ci_low", "ci_high"]].to_numpy()).any() else 5.0
            ax.axvline(0, color="#444444", lw=0.9)
            if band:
                ax.axvspan(-band * scale, band * scale, color="#2e8b57", alpha=0.12, lw=0)
                ax.text(0, len(order) - 0.45, f"±{band * scale:g} pp", ha="center", va="bottom", fontsize=7.5,
                        color="#2e6b47")
            for rec in df.itertuples():
                yy, sig = y[rec.induced_value], bool(rec.significant)
                color = SIG_COLOR if sig else NS_COLOR
                ax.plot([rec.ci_low * scale, rec.ci_high * scale], [yy, yy], color=color, lw=2 if sig else 1.3)
                ax.plot(rec.effect * scale, yy, "o", ms=6.5, color=color, mfc=color if sig else "white", mew=1.5)
                label = _fmt(rec.effect, scale) + ("" if sig else " n.s.")
                ax.text(rec.effect * scale, yy - 0.22, label, ha="center", va="bottom", fontsize=7.5,
                        color="black" if sig else NS_COLOR, fontweight="bold" if sig else "normal")
            for rec in (other.itertuples() if other is not None else []):
                yy, sig = y[rec.induced_value] + 0.3, bool(rec.significant)
                ax.plot([rec.ci_low * scale, rec.ci_high * scale], [yy, yy], color=BESIDE_COLOR, lw=1, alpha=0.8)
                ax.plot(rec.effect * scale, yy, "D", ms=4, color=BESIDE_COLOR, mfc=BESIDE_COLOR if sig else "white")
            ax.set_xlim(-span, span)
            ax.xaxis.set_major_locator(MaxNLocator(5, symmetric=True))
            ax.set_ylim(len(order) - 0.4, -0.75)
            _label_forest_panel(ax, order, ptitle, xlabel)
        _hide_unused(axes, len(panels), nrows, ncols)
        fig.suptitle(title)
        fig.supylabel("induced value", fontsize=9.5)
        if beside_label:
            width = fig.get_figwidth()
            fig.supxlabel(textwrap.fill(beside_label, int(width * 14)), fontsize=8.5, color="#444444")
        return fig


# ------------------------------------------------------------------ numeric matrices, scatter, dose-response
def value_heatmap(matrix: pd.DataFrame, *, title: str, subtitle: str, xlabel: str, ylabel: str, unit: str,
                  center: float = 0.0, fmt: str = "{:.2f}", cmap: str = "RdBu_r") -> Figure:
    """A numeric matrix with each cell's value written in it, coloured around `center` (no significance marks)."""
    m = matrix.astype(float)
    with mpl.rc_context(RC):
        fig = _new_figure(max(6.5, 0.6 * len(m.columns) + 3.2), max(3.0, 0.42 * len(m) + 2.3))
        ax = fig.add_subplot()
        vals = m.to_numpy()
        lim = float(np.nanmax(np.abs(vals - center))) if np.isfinite(vals).any() else 1.0
        lim = lim or 1.0
        im = ax.imshow(vals, cmap=cmap, norm=TwoSlopeNorm(center, center - lim, center + lim), aspect="auto")
        for i in range(vals.shape[0]):
            for j in range(vals.shape[1]):
                v = vals[i, j]
                ax.text(j, i, "–" if np.isnan(v) else fmt.format(v), ha="center", va="center", fontsize=7.5,
                        color="white" if np.isfinite(v) and abs(v - center) > 0.6 * lim else "black")
        ax.set_xticks(range(len(m.columns)), m.columns, rotation=40, ha="right")
        ax.set_yticks(range(len(m)), m.index)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        fig.colorbar(im, ax=ax, shrink=0.85, pad=0.01).set_label(unit)
        fig.suptitle(title)
        ax.set_title(subtitle, fontsize=8.5, fontweight="normal", color="#444444", loc="left")
        return fig


def coinduction_scatter(panels: list[tuple[str, pd.DataFrame]], *, title: str, xlabel: str, ylabel: str,
                        scale: float = 100.0) -> Figure:
    """Per panel, one point per (induced value, other value): the training data's difference (x) against the
    output effect (y); `df` has columns x, y, significant, and the panel title carries the correlation."""
    with mpl.rc_context(RC):
        fig = _new_figure(4.4 * len(panels) + 0.6, 4.2)
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for ax, (ptitle, df) in zip(axes, panels):
            ax.axhline(0, color="#999999", lw=0.8)
            ax.axvline(0, color="#999999", lw=0.8)
            sig = df["significant"].astype(bool)
            ax.scatter(df.loc[~sig, "x"] * scale, df.loc[~sig, "y"] * scale, s=18, facecolors="white",
                       edgecolors=NS_COLOR, label="not significant")
            ax.scatter(df.loc[sig, "x"] * scale, df.loc[sig, "y"] * scale, s=22, color=SIG_COLOR, label="significant")
            ax.set_title(ptitle, fontsize=9.5)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            ax.grid(color="#eeeeee")
        axes[0].legend(fontsize=7.5, loc="best")
        fig.suptitle(title)
        return fig


def dose_response(panels: list[tuple[str, pd.DataFrame]], *, title: str, xlabel: str, log_x: bool,
                  scale: float = 100.0, ncols: int = 3) -> Figure:
    """Effect against dose, one line per induced value, 95% intervals as error bars; hollow = not significant.

    Each panel's `df` has columns line, dose, effect, ci_low, ci_high, significant."""
    with mpl.rc_context(RC):
        ncols = min(ncols, len(panels))
        nrows = math.ceil(len(panels) / ncols)
        fig = _new_figure(4.3 * ncols + 0.6, 3.3 * nrows + 0.8)
        axes = fig.subplots(nrows, ncols, squeeze=False)
        colors = mpl.colormaps["tab10"]
        lines = sorted({line for _, df in panels for line in df["line"]})
        for k, (ptitle, df) in enumerate(panels):
            ax = axes[k // ncols][k % ncols]
            ax.axhline(0, color="#444444", lw=0.9)
            for n, line in enumerate(lines):
                sub = df[df["line"] == line].sort_values("dose")
                if sub.empty:
                    continue
                c = colors(n % 10)
                x = sub["dose"].to_numpy(dtype=float)
                ax.errorbar(x, sub["effect"] * scale, yerr=[(sub["effect"] - sub["ci_low"]) * scale,
                                                           (sub["ci_high"] - sub["effect"]) * scale],
                            color=c, lw=1.4, capsize=3, label=line)
                sig = sub["significant"].astype(bool).to_numpy()
                ax.plot(x[~sig], sub["effect"].to_numpy()[~sig] * scale, "o", color=c, mfc="white", ms=6)
                ax.plot(x[sig], sub["effect"].to_numpy()[sig] * scale, "o", color=c, ms=6)
            if log_x:
                ax.set_xscale("log")
            doses = sorted(set(df["dose"].astype(float)))
            ax.set_xticks(doses, [f"{d:g}" for d in doses])
            ax.xaxis.set_minor_locator(NullLocator())  # log-scale minor labels would be mathtext, which we turn off
            ax.set_title(ptitle, fontsize=9.5)
            ax.set_xlabel(xlabel)
            ax.set_ylabel("effect (percentage points)")
            ax.grid(color="#eeeeee")
        _hide_unused(axes, len(panels), nrows, ncols)
        handles, labels = axes[0][0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="outside right center", fontsize=8, title="induced value")
        fig.suptitle(title)
        return fig


# ------------------------------------------------------------------ training curves
def training_curves(histories: dict[tuple[str, str], list[dict]], model: str, ncols: int = 5) -> Figure | None:
    """Small multiples, one panel per induced value: the training loss and reward accuracy of each seed."""
    series = (("loss", "loss", SIG_COLOR, "-"), ("rewards/accuracies", "reward acc.", "#d9822b", "--"))
    values = sorted({v for v, _ in histories})
    if not any(k in h for hist in histories.values() for h in hist for k, *_ in series):
        return None
    ncols = min(ncols, len(values))
    nrows = math.ceil(len(values) / ncols)
    with mpl.rc_context(RC):
        fig = _new_figure(max(2.75 * ncols + 0.6, 6.5), 2.1 * nrows + 1.1)
        axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
        for k, value in enumerate(values):
            ax = axes[k // ncols][k % ncols]
            labelled = set()
            for (v, seed), hist in sorted(histories.items()):
                if v != value:
                    continue
                for key, label, color, style in series:
                    pts = [(h["step"], h[key]) for h in hist if key in h and "step" in h]
                    if pts:
                        xs, ys = zip(*pts)
                        ax.plot(xs, ys, color=color, ls=style, lw=1.0, alpha=0.8)
                        if k == 0 and key not in labelled:
                            labelled.add(key)
                            ax.text(xs[-1], ys[-1], f" {label}", color=color, fontsize=7.5, va="center")
            n_seeds = sum(1 for v, _ in histories if v == value)
            ax.set_title(f"{value} ({n_seeds} seed{'s' if n_seeds != 1 else ''})", fontsize=9.5)
            ax.grid(color="#eeeeee")
            if k + ncols >= len(values):  # nothing below this panel
                ax.set_xlabel("optimizer step")
                ax.tick_params(labelbottom=True)
        _hide_unused(axes, len(values), nrows, ncols)
        fig.suptitle(f"Training curves, {model}")
        fig.supxlabel("solid blue = training loss, dashed orange = reward accuracy; one line per seed",
                      fontsize=8.5, color="#444444")
        return fig


# ------------------------------------------------------------------ data figures
def subset_sizes(stats: pd.DataFrame, min_size: int | None) -> Figure:
    """Pairs per value in its XOR subset; trained values dark, others light; the minimum size dashed."""
    stats = stats.sort_values("pairs")
    with mpl.rc_context(RC):
        fig = _new_figure(7.0, max(2.5, 0.3 * len(stats) + 1.2))
        ax = fig.add_subplot()
        trained = stats.get("trained", pd.Series(True, index=stats.index)).astype(str).str.lower().isin(["true", "1"])
        ax.barh(stats["value"], stats["pairs"], color=np.where(trained, SIG_COLOR, "#b9c4d9"))
        for i, (n, t) in enumerate(zip(stats["pairs"], trained)):
            ax.text(n, i, f" {int(n):,}" + ("" if t else "  (not trained)"), va="center", fontsize=8)
        if min_size:
            ax.axvline(min_size, ls="--", color="#aa3333", lw=1)
            ax.text(min_size, len(stats) - 0.4, f" minimum {min_size:,}", color="#aa3333", fontsize=8, va="bottom")
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        # the minimum-size line stays inside the axes (text far outside them overflowed FreeType's raster)
        ax.set_xlim(0, max(1.0, float(stats["pairs"].max()), float(min_size or 0)) * 1.25)
        ax.set_xlabel("pairs in the value's subset")
        fig.suptitle("Subset size per value (XOR rule): dark = trained")
        return fig


def cooccurrence(matrix: pd.DataFrame) -> Figure:
    """Value x value counts in the source data (diagonal = responses expressing the value)."""
    m = matrix.astype(float)
    with mpl.rc_context(RC):
        fig = _new_figure(max(5.5, 0.5 * len(m.columns) + 2.5), max(4.0, 0.42 * len(m) + 1.8))
        ax = fig.add_subplot()
        im = ax.imshow(m.clip(lower=1).to_numpy(), cmap="Blues", norm=LogNorm(), aspect="auto")
        vmax = float(np.nanmax(m.to_numpy()))
        for i in range(len(m)):
            for j in range(len(m.columns)):
                val = m.iat[i, j]
                ax.text(j, i, f"{val:.0f}", ha="center", va="center", fontsize=6.5,
                        color="white" if val > vmax ** 0.8 else "black")
        ax.set_xticks(range(len(m.columns)), m.columns, rotation=40, ha="right")
        ax.set_yticks(range(len(m)), m.index)
        fig.colorbar(im, ax=ax, shrink=0.85, pad=0.01).set_label("responses (log scale)")
        fig.suptitle("Value co-occurrence in the source data (responses expressing both)")
        return fig


def metric_bars(mapping: dict[str, float], *, title: str, xlabel: str, markers: dict[str, float] | None = None,
                marker_label: str = "") -> Figure:
    """Horizontal bars with the number written at each bar's end; optional red ticks (a baseline or a second score)."""
    items = list(mapping.items())[::-1]
    with mpl.rc_context(RC):
        fig = _new_figure(7.0, max(2.2, 0.27 * len(items) + 1.3))
        ax = fig.add_subplot()
        names = [k for k, _ in items]
        ax.barh(names, [v for _, v in items], color=SIG_COLOR, height=0.7)
        for i, (name, v) in enumerate(items):
            text = f" {v:.2f}"
            if markers and name in markers:
                ax.plot([markers[name]] * 2, [i - 0.4, i + 0.4], color="#cc2222", lw=2)
                text += f"  ({marker_label} {markers[name]:.2f})"
            ax.text(max(v, (markers or {}).get(name, v)), i, text, va="center", fontsize=8)
        ax.set_xlim(min(0.0, *(v for _, v in items), *((markers or {}).values() or [0.0])), 1.3)
        ax.set_xlabel(xlabel)
        fig.suptitle(title)
        return fig
