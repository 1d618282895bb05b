"""Read and normalise delivered files (pipeline step 3): plain functions, no Dagster."""

from __future__ import annotations

from cpmds.ingest.delivery import Delivery, parse_delivery, parse_landing_path
from cpmds.ingest.normalise import (
    FAILURE_SCHEMA,
    PROBLEM_SEVERITY,
    Normalised,
    normalise_frame,
    normalise_frames,
)
from cpmds.ingest.read import ColumnProblem, FileRead, read_delivery
from cpmds.ingest.rejection import REJECTION_MESSAGES, Rejection

__all__ = [
    "FAILURE_SCHEMA",
    "PROBLEM_SEVERITY",
    "REJECTION_MESSAGES",
    "ColumnProblem",
    "Delivery",
    "FileRead",
    "Normalised",
    "Rejection",
    "normalise_frame",
    "normalise_frames",
    "parse_delivery",
    "parse_landing_path",
    "read_delivery",
]
