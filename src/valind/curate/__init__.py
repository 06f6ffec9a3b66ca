"""Curation: one training subset per value by the study's XOR rule."""
