"""valind's logger and its console set-up (the bottom layer: imports nothing of valind)."""

from __future__ import annotations

import logging
import sys

log = logging.getLogger("valind")


def setup_logging(verbose: bool = False) -> None:
    """Log valind's messages to stderr with the time, at INFO (DEBUG with --verbose)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s valind %(message)s", "%H:%M:%S"))
    root = logging.getLogger("valind")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
