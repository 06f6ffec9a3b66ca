"""Honest statistics: effects against the base model, with intervals and corrected p-values."""

from .effects import (BASE, EFFECT_COLUMNS, EffectOptions, compute_effects, paired_effect,
                      split_over_refusal, xstest_is_safe)
from .paired import benjamini_hochberg, bootstrap_mean_ci, mcnemar, mcnemar_from_counts, paired_permutation_test

__all__ = ["BASE", "EFFECT_COLUMNS", "EffectOptions", "compute_effects", "paired_effect", "split_over_refusal",
           "xstest_is_safe", "benjamini_hochberg", "bootstrap_mean_ci", "mcnemar", "mcnemar_from_counts",
           "paired_permutation_test"]
