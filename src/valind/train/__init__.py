"""Induction: one LoRA adapter per (model, value, seed), trained with TRL (DPO by default, or SFT)."""
