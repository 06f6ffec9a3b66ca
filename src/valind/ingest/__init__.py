"""Ingest: read preference datasets into one canonical pair schema."""
