"""Seeded random streams named by what they decide, so one choice never shifts another."""

from __future__ import annotations

import hashlib

import numpy as np


def rng_for(seed: int, *names: object) -> np.random.Generator:
    """A generator for ``names`` under ``seed``: the same on every run and every machine.

    The names go through SHA-256, never Python's ``hash()``, which is salted per process.
    """
    digest = hashlib.sha256("\x1f".join(str(name) for name in names).encode("utf-8")).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
    return np.random.default_rng(np.random.SeedSequence([seed % (1 << 64), *words]))
