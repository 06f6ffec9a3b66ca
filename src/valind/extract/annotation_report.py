"""The annotation report: value prevalence in chosen vs rejected responses, and value co-occurrence.

This is the study's data analysis of the source preference data: which values
the preferred responses carry more often than the dispreferred ones, and which
values appear together (a response tagged with empathy is often tagged with
engagement too), written as CSV tables and a heatmap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..artifacts import atomic_path, atomic_write_text


def prevalence(chosen: np.ndarray, rejected: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """Share of chosen and of rejected responses expressing each value (boolean matrices n x k)."""
    n = max(len(chosen), 1)
    c = chosen.sum(axis=0) if len(chosen) else np.zeros(len(names))
    r = rejected.sum(axis=0) if len(rejected) else np.zeros(len(names))
    return pd.DataFrame({
        "value": list(names),
        "chosen_share": c / n,
        "rejected_share": r / n,
        "difference": (c - r) / n,
        "chosen_count": c.astype(int),
        "rejected_count": r.astype(int),
        "xor_pairs": (chosen != rejected).sum(axis=0).astype(int) if len(chosen) else np.zeros(len(names), int),
    })


def cooccurrence(expressed: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """Counts of responses expressing both row and column value; the diagonal is each value's count."""
    m = expressed.astype(np.int64)
    counts = m.T @ m
    return pd.DataFrame(counts, index=list(names), columns=list(names))


def conditional(counts: pd.DataFrame) -> pd.DataFrame:
    """P(column value | row value): each row divided by its diagonal (0 where the row value never occurs)."""
    diag = np.diag(counts.to_numpy()).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(diag[:, None] > 0, counts.to_numpy() / diag[:, None], 0.0)
    return pd.DataFrame(share, index=counts.index, columns=counts.columns)


def plot_cooccurrence(counts: pd.DataFrame, path: str | Path, title: str = "Value co-occurrence") -> None:
    """Heatmap of P(column | row) with counts on the diagonal, written atomically as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    share = conditional(counts)
    k = len(counts)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * k, 0.8 + 0.5 * k))
    im = ax.imshow(share.to_numpy(), cmap="viridis", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(k), counts.columns, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(k), counts.index, fontsize=8)
    ax.set_xlabel("co-occurring value")
    ax.set_ylabel("value expressed")
    for i in range(k):
        for j in range(k):
            text = str(int(counts.iat[i, j])) if i == j else f"{share.iat[i, j]:.2f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=6,
                    color="white" if share.iat[i, j] < 0.6 else "black")
    fig.colorbar(im, ax=ax, label="P(column | row); diagonal: count")
    ax.set_title(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def write_annotation_report(out_dir: str | Path, chosen: np.ndarray, rejected: np.ndarray,
                            names: Sequence[str]) -> list[str]:
    """Write prevalence.csv, cooccurrence.csv and cooccurrence.png; return their file names."""
    out_dir = Path(out_dir)
    atomic_write_text(out_dir / "prevalence.csv", prevalence(chosen, rejected, names).to_csv(index=False))
    both = np.concatenate([chosen, rejected]) if len(chosen) else np.zeros((0, len(names)), bool)
    counts = cooccurrence(both, names)
    atomic_write_text(out_dir / "cooccurrence.csv", counts.to_csv(index_label="value"))
    plot_cooccurrence(counts, out_dir / "cooccurrence.png",
                      title=f"Value co-occurrence ({len(both)} responses)")
    return ["prevalence.csv", "cooccurrence.csv", "cooccurrence.png"]
