"""The dbt sources and staging models, generated from the contract so they cannot drift from it.

For every dataset of the contract: its landing table as a dbt source
(``landing.<partner>__<dataset>``, every column described from the contract: notes, types, code
lists, identifier handling), and the staging model ``stg_<partner>__<dataset>`` (SQL and one YAML)
over it. Plus the load log
(``quality.load_log``) as a source and ``stg_quality__load_log``. And the intermediate layer's
first models, ``int_<partner>__<dataset>__current``: the current state of every record.

Staging renames and types only. It keeps the rows of current files (load-log status ``loaded``:
superseded and quarantined files are left out; the landing tables only ever hold rows that passed
gate 2) with each row's file, row number, org, period and submission for the intermediate layer's
current-state logic. Renames are few and all say what a column now holds: a CHI column ``c``
becomes ``c_pseudonym`` with ``c_valid``, ``c_birth_month``, ``c_sex`` beside it, and a date of
birth (kept to its month) becomes ``birth_month``.

Current state (extracts.md, "Files"): a record, its dataset's key within its sender's org, takes
its row from the latest period (ties: the later submission, then the higher file id and row); when
that row is a deletion the record is absent, and a later row brings it back. An annual dataset's
file is a snapshot of its year, so there the period is part of the record's identity.

``python -m cpmds.transform models`` writes the files; ``--check`` lists the stale ones. The files
carry a marker line, and a generated file under ``models/staging/`` or ``models/intermediate/``
that the contract no longer asks for is stale too (removed on writing).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cpmds.contract import Column, Contract, Dataset, load_contract
from cpmds.generated import sync_generated_files
from cpmds.ingest.chi import chi_check_columns
from cpmds.ingest.read import ROW_COLUMN
from cpmds.settings import PROJECT_ROOT
from cpmds.state.schema import FILE_ID_COLUMN, LANDING, QUALITY, landing_columns
from cpmds.transform.project import DBT_PROJECT_DIR
from cpmds.transform.reference import dbt_vars, render_reference
from cpmds.transform.rendering import GENERATOR, MARKER, header, yaml_document

STAGING_DIR = DBT_PROJECT_DIR / "models" / "staging"
INTERMEDIATE_DIR = DBT_PROJECT_DIR / "models" / "intermediate"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
PROJECT_FILE = "dbt_project/dbt_project.yml"
PROJECT_TEMPLATE = Path(__file__).parent / "templates" / "dbt_project.yml"
SOURCES_FILE = "_sources.yml"
LOAD_LOG = "load_log"
CURRENT_STATUS = "loaded"
STAGED_BY_COLUMN = "_staged_by"
CONTRACT_DIR = "orchestration/cpmds/contract/data/"

# What the pipeline does with each kind of identifier before anything is stored (security.md).
IDENTIFIER_TEXT: dict[str, str] = {
    "chi": (
        "Keyed pseudonym (HMAC-SHA256) of the CHI number: the same for a child in every partner's "
        "data and on every load, so children link across partners. Null when the cell was blank "
        "or the CHI failed its check (a warning at gate 2: the row is kept)."
    ),
    "child_ref": (
        "Keyed pseudonym of the sender's own reference for the child, namespaced by partner and "
        "org, so two senders' equal references never collide."
    ),
    "record_ref": (
        "Keyed pseudonym of the sender's reference, namespaced by partner and org: references "
        "between one sender's records still match."
    ),
    "date_of_birth": "Only the month of birth is kept: the first day of that month.",
}

ORG_TEXT: dict[str, str] = {
    "council": (
        "the council that sent the file (S12 code; a retired code mapped to the current one)"
    ),
    "health_board": "the health board that sent the file (S08 code)",
    "charity": "the charity that sent the file (Scottish charity number)",
    "fixed": "the sender's org code",
}

# quality.load_log (cpmds.state.schema): the columns, their SQL types and what they hold.
LOAD_LOG_COLUMNS: dict[str, tuple[str, str]] = {
    "file_id": ("bigint", "The file's id: `_file_id` on every landing and staging row it gave."),
    "path": ("varchar", "Where the file was delivered, relative to the landing zone."),
    "partner": ("varchar", "The sending partner (`sw`, `police`, ...); null for a bad name."),
    "delivered_org": ("varchar", "The org code of the folder the file was delivered in."),
    "org": ("varchar", "`delivered_org` with a retired council code mapped to the current one."),
    "dataset": ("varchar", "The dataset, as `<partner>__<dataset>`; null for a bad name."),
    "period": ("integer", "The month the file covers, YYYYMM, from its name."),
    "submission": ("timestamp", "When the partner produced the file, from its name."),
    "size": ("bigint", "The file's size in bytes."),
    "sha256": ("varchar", "The SHA-256 digest of the file's bytes."),
    "arrived": ("timestamp", "When the pipeline first saw the file (UTC)."),
    "status": (
        "varchar",
        "pending, loaded (current), superseded (a later submission for the same partner, org, "
        "dataset and period loaded), quarantined (failed gate 1 or had too many error rows), "
        "duplicate (the same bytes again) or rejected (refused unread).",
    ),
    "reason": ("varchar", "Why a file was quarantined or rejected: rule codes, never data."),
    "rows": ("bigint", "The file's data rows."),
    "error_rows": ("bigint", "Rows left out at gate 2 for an error."),
    "warning_rows": ("bigint", "Rows kept at gate 2 with a warning."),
    "run_id": ("varchar", "The run that first saw the file."),
    "decided_run_id": ("varchar", "The run that last decided the file's status."),
    "duplicate_of": ("bigint", "For a duplicate: the file whose bytes it repeats."),
    "superseded_by": ("bigint", "For a superseded file: the file that superseded it."),
}


@dataclass(frozen=True)
class StagedColumn:
    """One column of a staging model: where it comes from and what it is."""

    source: str  # the landing column, or the load log's
    name: str  # the staging column
    sql_type: str
    description: str
    expression: str | None = None  # SQL; by default the landing column cast to ``sql_type``

    @property
    def sql(self) -> str:
        return self.expression or f"cast(source.{self.source} as {self.sql_type})"


# -- writing -------------------------------------------------------------------------------------


def write_dbt_models(check: bool = False, root: Path = PROJECT_ROOT) -> list[Path]:
    """Write the generated files under ``root``; return those changed (with ``check``: the stale
    ones, writing nothing). Generated files no longer wanted are removed."""
    rendered = {root / relative: text for relative, text in render_dbt_models().items()}
    changed = sync_generated_files(rendered, check)
    for directory in (STAGING_DIR, INTERMEDIATE_DIR, SEEDS_DIR):
        folder = root / directory.relative_to(PROJECT_ROOT)
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and path not in rendered and _is_generated(path):
                changed.append(path)
                if not check:
                    path.unlink()
    return changed


def _is_generated(path: Path) -> bool:
    if path.suffix == ".csv":  # a seed cannot carry a marker line: every seed is generated
        return path.parent.name == SEEDS_DIR.name
    with path.open(encoding="utf-8", errors="replace") as handle:
        return MARKER in handle.readline()


def render_dbt_models(contract: Contract | None = None) -> dict[str, str]:
    """Each generated file's path relative to the project root, with its text."""
    contract = contract or load_contract()
    folder = STAGING_DIR.relative_to(PROJECT_ROOT).as_posix()
    files = {f"{folder}/{SOURCES_FILE}": _sources_yaml(contract)}
    for dataset in contract.datasets:
        name = model_name(dataset)
        files[f"{folder}/{name}.sql"] = _staging_sql(dataset, contract)
        files[f"{folder}/{name}.yml"] = _staging_yaml(dataset, contract)
    files[f"{folder}/stg_{QUALITY}__{LOAD_LOG}.sql"] = _load_log_sql()
    files[f"{folder}/stg_{QUALITY}__{LOAD_LOG}.yml"] = _load_log_yaml()
    intermediate = INTERMEDIATE_DIR.relative_to(PROJECT_ROOT).as_posix()
    for dataset in contract.datasets:
        name = current_model_name(dataset)
        files[f"{intermediate}/{name}.sql"] = _current_sql(dataset, contract)
        files[f"{intermediate}/{name}.yml"] = _current_yaml(dataset, contract)
    files.update(render_reference(contract))
    files[PROJECT_FILE] = render_project_file()
    return files


def render_project_file() -> str:
    """``dbt_project.yml``: the template with the vars from the catalogue filled in."""
    variables = yaml.dump(
        dbt_vars(), Dumper=yaml.SafeDumper, sort_keys=False, default_flow_style=None, width=96
    )
    indented = "".join(f"  {line}\n" for line in variables.splitlines())
    template = PROJECT_TEMPLATE.read_text(encoding="utf-8")
    return header("#", "orchestration/cpmds/transform/templates/dbt_project.yml") + (
        template.replace("{vars}\n", indented)
    )


def model_name(dataset: Dataset) -> str:
    return f"stg_{dataset.id}"


def current_model_name(dataset: Dataset) -> str:
    return f"int_{dataset.id}__current"


# -- columns -------------------------------------------------------------------------------------


def staged_columns(dataset: Dataset, contract: Contract) -> list[StagedColumn]:
    """The staging model's columns, in order: the row's file and place, then the contract's."""
    types = {name: kind.lower() for name, kind in landing_columns(dataset, contract).items()}
    org = ORG_TEXT[contract.partner_by_id[dataset.partner].org.kind]
    if dataset.cadence == "annual":
        period = (
            f"The period of the annual file, YYYYMM (YYYY{dataset.period_month:02d}: see the "
            "dataset's description for the months it covers)."
        )
    else:
        period = "The month the file covers, YYYYMM, from its name."
    columns = [
        StagedColumn(
            FILE_ID_COLUMN,
            FILE_ID_COLUMN,
            types[FILE_ID_COLUMN],
            "The file the row came from: `file_id` in the load log (`stg_quality__load_log`).",
        ),
        StagedColumn(
            ROW_COLUMN,
            ROW_COLUMN,
            types[ROW_COLUMN],
            "The row's number in its file as a person sees it in a spreadsheet (the header is "
            "row 1).",
        ),
        _from_load_log("org", "_org", "varchar", f"The file's org: {org}."),
        _from_load_log("period", "_period", "integer", period),
        StagedColumn(
            "period",
            "_period_month",
            "date",
            "`_period` as a date: the first day of the month.",
            expression="make_date(current_files.period // 100, current_files.period % 100, 1)",
        ),
        _from_load_log(
            "submission",
            "_submission",
            "timestamp",
            "When the partner produced the file (the submission stamp of its name): of two files "
            "for the same period, the later submission is current.",
        ),
        StagedColumn(
            STAGED_BY_COLUMN,
            STAGED_BY_COLUMN,
            "varchar",
            "The dbt build that added the row (its invocation id): a build that starts from the "
            "last published one adds only the files loaded since, and the current-state model "
            "ranks again only the records in them (and in the files they superseded).",
            expression="'{{ invocation_id }}'",
        ),
    ]
    for column in dataset.columns:
        if column.identifier == "postcode":
            continue  # dropped at load
        columns.extend(_contract_columns(column, dataset, contract, types))
    deletion = contract.formats.deletion_column
    columns.append(
        StagedColumn(
            deletion,
            deletion,
            types[deletion],
            "True when the sender marked the row deleted (an entry made in error): the record is "
            "removed from this period on, until a later row for the same key brings it back. "
            "False when the column was absent or blank.",
        )
    )
    names = [column.name for column in columns]
    if len(set(names)) != len(names):
        raise ValueError(f"{dataset.id}: staging column names collide")
    return columns


def _from_load_log(column: str, name: str, sql_type: str, description: str) -> StagedColumn:
    expression = f"cast(current_files.{column} as {sql_type})"
    return StagedColumn(column, name, sql_type, description, expression=expression)


def _contract_columns(
    column: Column, dataset: Dataset, contract: Contract, types: dict[str, str]
) -> list[StagedColumn]:
    described = _describe(column, dataset, contract)
    if column.identifier == "chi":
        valid, birth_month, sex = chi_check_columns(column.name)
        whose = f"the CHI delivered as `{column.name}`"
        return [
            StagedColumn(column.name, f"{column.name}_pseudonym", types[column.name], described),
            StagedColumn(
                valid,
                f"{column.name}_valid",
                types[valid],
                f"Whether {whose} was a valid CHI (check digit, date of birth); null when blank.",
            ),
            StagedColumn(
                birth_month,
                f"{column.name}_birth_month",
                types[birth_month],
                f"The month of birth in {whose} (its date part; the first day of the month); "
                "null unless valid.",
            ),
            StagedColumn(
                sex,
                f"{column.name}_sex",
                types[sex],
                f"The sex the ninth digit of {whose} gives (odd M, even F); null unless valid.",
            ),
        ]
    name = column.name
    if column.identifier == "date_of_birth":
        name = "birth_month" if name == "date_of_birth" else f"{name}_month"
    return [StagedColumn(column.name, name, types[column.name], described)]


def _describe(column: Column, dataset: Dataset, contract: Contract) -> str:
    """A column's description from the contract: notes, type and codes, rules, identifiers."""
    parts = []
    if column.notes:
        parts.append(_sentence(column.notes))
    if column.type in ("code", "codes"):
        parts.append(_codes_text(column, contract))
    elif column.type == "bool":
        parts.append("Y/N as true/false; null when blank, which every indicator counts as not Y.")
    elif column.type == "integer":
        bounds = []
        if column.min is not None:
            bounds.append(f"at least {column.min}")
        if column.max is not None:
            bounds.append(f"at most {column.max}")
        if column.at_most:
            bounds.append(f"at most `{column.at_most}`")
        if column.blank_means is not None:
            bounds.append(f"a blank cell is read as {column.blank_means}")
        if bounds:
            parts.append(_sentence("A whole number, " + ", ".join(bounds)))
    elif column.type == "date":
        rules = []
        if column.not_before:
            rules.append(f"not before `{column.not_before}`")
        rules.append("may be in the future" if column.future_allowed else "not after submission")
        parts.append(_sentence("A date, " + "; ".join(rules)))
    if column.identifier in IDENTIFIER_TEXT:
        parts.append(IDENTIFIER_TEXT[column.identifier])
    if column.name in dataset.key:
        names = [f"`{name}`" for name in dataset.key]
        key = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        parts.append(f"The record's key ({key}): unique within a file.")
    elif column.required:
        parts.append("Required, except on a deletion row (which needs only the key).")
    elif column.required_with:
        parts.append(f"Required when `{column.required_with}` is set.")
    return " ".join(parts)


def _codes_text(column: Column, contract: Contract) -> str:
    code_list = contract.code_list_by_id[column.code_list or ""]
    what = "A list of codes (each value the row holds)" if column.type == "codes" else "A code"
    if code_list.id == "COUNCIL":
        return f"{what}: a council's current S12 code (retired codes are mapped to it at load)."
    allowed = set(contract.allowed_codes(column))
    listed = []
    for code in code_list.codes:
        if code.code not in allowed:
            continue
        text = f"{code.code} {code.label}"
        conditions = [
            f"{other} {'/'.join(values)} only" for other, values in sorted(code.when.items())
        ]
        if conditions:
            text += f" ({'; '.join(conditions)})"
        listed.append(text)
    return f"{what} from {code_list.id} ({code_list.description}): {'; '.join(listed)}."


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def current_columns(dataset: Dataset, contract: Contract) -> list[StagedColumn]:
    """The current-state model's columns: the staging model's, less ``deleted`` (always false
    there), the row's file, row, period and submission now saying they are the current row's."""
    deletion = contract.formats.deletion_column
    current_row = {
        FILE_ID_COLUMN: "The file the record's current row came from: `file_id` in the load log "
        "(`stg_quality__load_log`).",
        ROW_COLUMN: "The current row's number in its file as a person sees it in a spreadsheet "
        "(the header is row 1).",
        "_submission": "When the partner produced the file the current row came from (the "
        "submission stamp of its name).",
    }
    if dataset.cadence == "annual":
        current_row["_period"] = (
            f"The period of the annual file, YYYYMM (YYYY{dataset.period_month:02d}: see the "
            "dataset's description for the months it covers): part of the record's identity, "
            "each year's file being a snapshot of its own."
        )
        current_row["_period_month"] = "`_period` as a date: the first day of the month."
    else:
        current_row["_period"] = (
            "The period of the record's current row (the latest period that sent it), YYYYMM."
        )
        current_row["_period_month"] = "`_period` as a date: the first day of the month."
    return [
        StagedColumn(
            column.name,
            column.name,
            column.sql_type,
            current_row.get(column.name, column.description),
            expression=column.name,
        )
        for column in staged_columns(dataset, contract)
        if column.name not in (deletion, STAGED_BY_COLUMN)
    ]


def record_identity(dataset: Dataset, contract: Contract) -> list[str]:
    """The columns that identify a record in the current-state model: its sender's org, the
    period for an annual dataset, and the dataset's key (by its staging names)."""
    renamed = {
        column.source: column.name
        for column in staged_columns(dataset, contract)
        if column.expression is None
    }
    period = ["_period"] if dataset.cadence == "annual" else []
    return ["_org", *period, *(renamed[key] for key in dataset.key)]


# -- staging SQL ---------------------------------------------------------------------------------


def _staging_sql(dataset: Dataset, contract: Contract) -> str:
    contract_path = f"{CONTRACT_DIR}datasets/{dataset.id}.yaml"
    columns = ",\n        ".join(
        f"{column.sql} as {column.name}" for column in staged_columns(dataset, contract)
    )
    return (
        header("--", contract_path)
        + f"""
-- Incremental: a run's build starts from the last published build when that was made by the
-- same code and key from the same files (cpmds.transform.incremental), so only the files loaded
-- since are added, and the rows of files no longer current are deleted afterwards. A build that
-- starts empty (the full refresh) reads every current file.
{{{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        post_hook="{{{{ delete_rows_of_files_not_current('{dataset.id}') }}}}"
    )
}}}}

with

source as (

    select * from {{{{ source('{LANDING}', '{dataset.id}') }}}}

),

current_files as (

    select file_id, org, period, submission
    from {{{{ source('{QUALITY}', '{LOAD_LOG}') }}}}
    where status = '{CURRENT_STATUS}' and dataset = '{dataset.id}'
    {{% if is_incremental() %}}
        and file_id not in (select distinct {FILE_ID_COLUMN} from {{{{ this }}}})
    {{% endif %}}

),

renamed as (

    select
        {columns}

    from source
    inner join current_files on source.{FILE_ID_COLUMN} = current_files.file_id

)

select * from renamed
"""
    )


def _load_log_sql() -> str:
    selected = []
    for name, (kind, _) in LOAD_LOG_COLUMNS.items():
        selected.append(f"cast({name} as {kind}) as {name}")
        if name == "period":
            selected.append("make_date(period // 100, period % 100, 1) as period_month")
    columns = ",\n        ".join(selected)
    return (
        header("--", f"{GENERATOR} (LOAD_LOG_COLUMNS)")
        + f"""
with

source as (

    select * from {{{{ source('{QUALITY}', '{LOAD_LOG}') }}}}

),

renamed as (

    select
        {columns}

    from source

)

select * from renamed
"""
    )


def _current_sql(dataset: Dataset, contract: Contract) -> str:
    contract_path = f"{CONTRACT_DIR}datasets/{dataset.id}.yaml"
    deletion = contract.formats.deletion_column
    identity = record_identity(dataset, contract)
    read_as = {column.name: column.sql for column in staged_columns(dataset, contract)}
    changed = (
        f"'{model_name(dataset)}', '{dataset.id}', {identity!r}, "
        f"{[read_as[name] for name in identity]!r}"
    )
    columns = ",\n        ".join(column.name for column in current_columns(dataset, contract))
    if dataset.cadence == "annual":
        why = (
            "-- Annual: each year's file is a snapshot of its own, so the period is part of the\n"
            "-- record's identity and every year's records are kept.\n"
        )
    else:
        why = (
            "-- A record's current state is its row from the latest period (a monthly extract\n"
            "-- re-sends every record created or changed that month).\n"
        )
    return (
        header("--", contract_path)
        + f"""
{why}
-- Incremental: a build that starts from the last published one (cpmds.pipeline.incremental)
-- ranks again only the records whose rows changed (macros/incremental.sql, changed_records),
-- after deleting their rows from the last build; a build from nothing ranks every record.
-- depends_on: {{{{ source('{LANDING}', '{dataset.id}') }}}}
-- depends_on: {{{{ source('{QUALITY}', '{LOAD_LOG}') }}}}
{{{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{{{ delete_current_rows_of_changed_records({changed}) }}}}"
    )
}}}}

with

staged as (

    select * from {{{{ ref('{model_name(dataset)}') }}}}

),
{{% if is_incremental() %}}

changed_records as (

    {{{{ changed_records({changed}) }}}}

),

restaged as (

    select staged.*
    from staged
    inner join changed_records using ({", ".join(identity)})

),
{{% endif %}}

ranked as (

    select
        *,
        row_number() over (
            partition by {", ".join(identity)}
            order by _period desc, _submission desc, {FILE_ID_COLUMN} desc, {ROW_COLUMN} desc
        ) as _recency

    from {{% if is_incremental() %}}restaged{{% else %}}staged{{% endif %}}

),

-- The latest row wins; when it is a deletion, the record is gone (until a later row brings it
-- back, which is then the latest).
current_rows as (

    select
        {columns}

    from ranked
    where _recency = 1 and not coalesce({deletion}, false)

)

select * from current_rows
"""
    )


# -- YAML ----------------------------------------------------------------------------------------


def _sources_yaml(contract: Contract) -> str:
    landing_tables = []
    for dataset in contract.datasets:
        types = landing_columns(dataset, contract)
        staged = {c.source: c for c in staged_columns(dataset, contract) if c.expression is None}
        landing_tables.append(
            {
                "name": dataset.id,
                "description": (
                    f"{dataset.title} ({dataset.partner} `{dataset.dataset}`). "
                    f"{_sentence(dataset.description)} The state store's landing table: every "
                    "row of every file that loaded (superseded files included; rows with a gate "
                    "2 error left out), identifiers pseudonymised. Written by the Dagster asset "
                    f"`landing/{dataset.id}`."
                ),
                "columns": [
                    {
                        "name": name,
                        "description": staged[name].description,
                        "data_type": kind.lower(),
                    }
                    for name, kind in types.items()
                ],
            }
        )
    document = {
        "version": 2,
        "sources": [
            {
                "name": LANDING,
                "description": (
                    "The state store's landing tables (`<home>/state/cpmds_state.duckdb`, attached "
                    "read-only as the database `state`): one per dataset of the partner extract "
                    "contract, typed and pseudonymised by the ingest step."
                ),
                "database": "state",
                "schema": LANDING,
                "tables": landing_tables,
            },
            {
                "name": QUALITY,
                "description": (
                    "The state store's quality history (attached read-only as `state`): the load "
                    "log of every delivered file."
                ),
                "database": "state",
                "schema": QUALITY,
                "tables": [
                    {
                        "name": LOAD_LOG,
                        "description": (
                            "One row per delivered file: where it came from, what it is, and "
                            "its status. As it stands once the load is complete (the Dagster "
                            "asset `load_complete` settles which files are current)."
                        ),
                        "columns": [
                            {"name": name, "description": text, "data_type": kind}
                            for name, (kind, text) in LOAD_LOG_COLUMNS.items()
                        ],
                    }
                ],
            },
        ],
    }
    return yaml_document("#", CONTRACT_DIR, document)


def _staging_yaml(dataset: Dataset, contract: Contract) -> str:
    columns = []
    staged = staged_columns(dataset, contract)
    renamed = {column.source: column.name for column in staged if column.expression is None}
    for column in staged:
        entry: dict[str, Any] = {
            "name": column.name,
            "description": column.description,
            "data_type": column.sql_type,
        }
        columns.append(entry)
    model = {
        "name": model_name(dataset),
        "description": (
            f"{dataset.title} ({dataset.partner} `{dataset.dataset}`). "
            f"{_sentence(dataset.description)} Staging: the rows of current files only (status "
            "`loaded` in the load log; superseded and quarantined files left out), renamed and "
            "typed, with each row's file, row number, org, period and submission. One row per "
            "row of a file, not yet current state: a record re-sent in a later period has a row "
            f"for each file. From the landing table `{dataset.id}`."
        ),
        # Gate 2 already refused blank and repeated keys within a file; this says so in the
        # warehouse, where the intermediate layer's current-state logic relies on it.
        "data_tests": [_primary_key([FILE_ID_COLUMN, *(renamed[key] for key in dataset.key)])],
        "columns": columns,
    }
    document = {"version": 2, "models": [model]}
    contract_path = f"{CONTRACT_DIR}datasets/{dataset.id}.yaml"
    return yaml_document("#", contract_path, document)


def _current_yaml(dataset: Dataset, contract: Contract) -> str:
    identity = record_identity(dataset, contract)
    if dataset.cadence == "annual":
        state = (
            "Annual: each year's file is a snapshot of its own, so a record is its key within "
            "its sender's org and its period, and every year is kept; within a year the latest "
            "submission's row wins."
        )
    else:
        state = (
            "A record is its key within its sender's org; its row is the one from the latest "
            "period (ties: the later submission, then the higher file id and row), as a monthly "
            "extract re-sends every record created or changed that month."
        )
    model = {
        "name": current_model_name(dataset),
        "description": (
            f"{dataset.title} ({dataset.partner} `{dataset.dataset}`): the current state of "
            f"every record, one row each. {state} When that row is a deletion the record is "
            "absent (removed from that period on); a later row for the same key brings it "
            f"back. From `{model_name(dataset)}`."
        ),
        "data_tests": [_primary_key(identity)],
        "columns": [
            {"name": column.name, "description": column.description, "data_type": column.sql_type}
            for column in current_columns(dataset, contract)
        ],
    }
    document = {"version": 2, "models": [model]}
    contract_path = f"{CONTRACT_DIR}datasets/{dataset.id}.yaml"
    return yaml_document("#", contract_path, document)


def _load_log_yaml() -> str:
    columns: list[dict[str, Any]] = []
    for name, (kind, text) in LOAD_LOG_COLUMNS.items():
        columns.append({"name": name, "description": text, "data_type": kind})
        if name == "period":
            columns.append(
                {
                    "name": "period_month",
                    "description": "`period` as a date: the first day of the month.",
                    "data_type": "date",
                }
            )
    model = {
        "name": f"stg_{QUALITY}__{LOAD_LOG}",
        "description": (
            "The load log: one row per delivered file, whatever became of it (loaded, "
            "superseded, quarantined, duplicate, rejected). Coverage reads it: a month is "
            "covered by a current (`loaded`) file, and a nil return (a file with no rows) "
            "covers its month too."
        ),
        "data_tests": [_primary_key(["file_id"])],
        "columns": columns,
    }
    return yaml_document(
        "#",
        "cpmds/transform/generate.py (LOAD_LOG_COLUMNS)",
        {
            "version": 2,
            "models": [model],
        },
    )


def _primary_key(columns: Iterable[str]) -> dict[str, Any]:
    return {"primary_key": {"arguments": {"columns": list(columns)}}}
