"""The Dagster code location: ``dagster definitions validate -m cpmds.defs``."""

from cpmds.defs.definitions import defs

__all__ = ["defs"]
