"""Gates 1 (file contract) and 2 (rows): rules with stable codes, GX suites kept as reviewed files,
and plain functions that run them (no Dagster). Great Expectations is imported only when a suite
runs."""

from __future__ import annotations

from cpmds.gates.decide import DECISION_SCHEMA, decide
from cpmds.gates.files import (
    check_delivery_before_reading,
    check_file_before_reading,
    check_strings,
)
from cpmds.gates.findings import (
    FILE_FINDING_SCHEMA,
    ROW_FAILURE_SCHEMA,
    Finding,
    findings_frame,
    has_errors,
    rejection_finding,
)
from cpmds.gates.gate_file import HEADER_SCHEMA, FileGate, gate_files, header_frame, run_gate_file
from cpmds.gates.gate_rows import (
    TYPING_FAILURE_SCHEMA,
    gate_rows_batch,
    rule_for_problem,
    run_gate_rows,
    typing_failure_rules,
)
from cpmds.gates.gx_runner import SuiteError
from cpmds.gates.registry import Registry, Rule, build_registry, load_rules, write_rules
from cpmds.gates.suites import write_suites

__all__ = [
    "DECISION_SCHEMA",
    "FILE_FINDING_SCHEMA",
    "HEADER_SCHEMA",
    "ROW_FAILURE_SCHEMA",
    "TYPING_FAILURE_SCHEMA",
    "FileGate",
    "Finding",
    "Registry",
    "Rule",
    "SuiteError",
    "build_registry",
    "check_delivery_before_reading",
    "check_file_before_reading",
    "check_strings",
    "decide",
    "findings_frame",
    "gate_files",
    "gate_rows_batch",
    "has_errors",
    "header_frame",
    "load_rules",
    "rejection_finding",
    "rule_for_problem",
    "run_gate_file",
    "run_gate_rows",
    "typing_failure_rules",
    "write_rules",
    "write_suites",
]
