"""Honest statistics: effects against the base model and the control arm, with intervals and corrected p-values."""

from .effects import (BASE, CONTRASTS, EFFECT_COLUMNS, VS_BASE, VS_CONTROL, EffectOptions, compute_effects,
                      control_label, control_survival, paired_effect, split_over_refusal, xstest_is_safe)
from .paired import (benjamini_hochberg, bootstrap_mean_ci, mcnemar, mcnemar_from_counts, mean_ci, newcombe_paired_ci,
                     paired_permutation_test, seeds_items_test, wilson_ci)

__all__ = ["BASE", "CONTRASTS", "EFFECT_COLUMNS", "VS_BASE", "VS_CONTROL", "EffectOptions", "compute_effects",
           "control_label", "control_survival", "paired_effect", "split_over_refusal", "xstest_is_safe",
           "benjamini_hochberg", "bootstrap_mean_ci", "mcnemar", "mcnemar_from_counts", "paired_permutation_test", "seeds_items_test",
           "mean_ci", "newcombe_paired_ci", "wilson_ci"]
