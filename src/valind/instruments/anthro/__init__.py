"""The anthropomorphism instrument: AnthroBench's 14 behaviours, offline judges and their trained heads."""

from .definitions import BEHAVIOURS, NAMES, USER_DIRECTED, load_behaviours

__all__ = ["BEHAVIOURS", "NAMES", "USER_DIRECTED", "load_behaviours"]
