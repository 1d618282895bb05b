"""`cpmds status`: the last runs, and the quarantined files with their reasons."""

from __future__ import annotations

from cpmds.gates import load_rules
from cpmds.settings import Settings
from cpmds.state import StateStore, state_path


def status_report(settings: Settings, runs: int = 10) -> str:
    if not state_path(settings.home).exists():
        return f"No runs yet: {settings.home} has no state store. Run `cpmds run` first."
    rules = load_rules().by_code
    lines = [f"State home: {settings.home}", "", "Recent runs:"]
    with StateStore.open(settings.home, read_only=True) as store:
        for run in store.last_runs(runs):
            published = {True: "published", False: "not published", None: "-"}[run.published]
            lines.append(
                f"  {run.run_id}  {run.started:%Y-%m-%d %H:%M}  {run.status:<11} {published:<14}"
                f" new {run.files_new or 0:>5}  loaded {run.files_loaded or 0:>5}"
                f"  quarantined {run.files_quarantined or 0:>4}"
                + (f"  why not: {run.why_not}" if run.why_not else "")
            )
        quarantined = store.quarantined_files()
        lines += ["", f"Quarantined files ({len(quarantined)}):"]
        for record in quarantined:
            codes = [code.strip() for code in (record.reason or "").split(",") if code.strip()]
            reasons = "; ".join(
                f"{code} {rules[code].message}" if code in rules else code for code in codes
            )
            lines.append(f"  {record.path}: {reasons or 'no reason recorded'}")
    return "\n".join(lines)
