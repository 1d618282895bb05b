"""Keyed pseudonyms for every identifier, before anything is written (security.md).

A pseudonym is HMAC-SHA256 under a secret key over a namespaced, normalised value, written as the
first 32 hex characters (128 bits: collisions among a few million children are vanishingly unlikely,
about n^2 / 2^129). Namespaces:

- ``chi``: the 10-digit CHI alone, so the same child links across partners and loads;
- ``child_ref`` and ``record_ref``: the value with its partner and (current) org code, so two
  councils' ``C001`` never collide, while a meeting's ``ird_id`` still matches its IRD's ``ird_id``
  from the same sender.

Dates of birth keep only their month (first of the month) and postcodes are dropped.
:meth:`Pseudonymiser.protect` is the only maker of a :class:`ProtectedFrame`, the one kind of frame
the state store writes; :func:`assert_protected` checks a frame's content as a second line.

The key comes from ``CPMDS_PSEUDONYM_KEY`` (hex), else from the file named by
``CPMDS_PSEUDONYM_KEY_FILE`` (hex; refused unless only its owner may read it), else a random key
generated on first use at ``<home>/secrets/pseudonym.key`` (owner-only) with a warning.

**Rotating the key** (:func:`rotate_key`) changes every pseudonym. The state store's landing tables
then hold pseudonyms no new row will ever match, so they must be rebuilt from the landing zone:
``StateStore.reset_for_rebuild()`` sets every file back to pending and empties the landing tables,
and the next run re-ingests everything. Until then the store refuses rows under the new key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from cpmds.contract import Column, Contract, Dataset, load_contract
from cpmds.ingest.chi import chi_check_columns
from cpmds.ingest.read import ROW_COLUMN

logger = logging.getLogger(__name__)

KEY_VARIABLE = "CPMDS_PSEUDONYM_KEY"
KEY_FILE_VARIABLE = "CPMDS_PSEUDONYM_KEY_FILE"
GENERATED_KEY_BYTES = 32
MIN_KEY_BYTES = 16
PSEUDONYM_HEX_CHARS = 32
PSEUDONYM_PATTERN = rf"^[0-9a-f]{{{PSEUDONYM_HEX_CHARS}}}$"

RefKind = Literal["child_ref", "record_ref"]
_NAMESPACE_SEPARATOR = "\x00"
_KEY_ID_MESSAGE = b"cpmds pseudonym key id"
_OWNER_ONLY_FILE = 0o600
_OWNER_ONLY_DIRECTORY = 0o700

_COLUMN_TYPES: dict[str, pl.DataType] = {
    "text": pl.Utf8(),
    "code": pl.Utf8(),
    "codes": pl.List(pl.Utf8()),
    "date": pl.Date(),
    "bool": pl.Boolean(),
    "integer": pl.Int64(),
}


class PseudonymKeyError(RuntimeError):
    """The key is missing, malformed or too exposed. Messages never hold key material."""


class UnprotectedFrameError(ValueError):
    """A frame still holds, or may hold, a clear identifier. Messages never hold values."""


# -- the key -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeySource:
    """Where the key comes from: ``environment``, ``file`` or ``generated`` (with its path)."""

    kind: Literal["environment", "file", "generated"]
    path: Path | None


def generated_key_path(home: Path) -> Path:
    return home / "secrets" / "pseudonym.key"


def key_source(home: Path) -> KeySource:
    in_environment = bool(os.environ.get(KEY_VARIABLE))
    key_file = os.environ.get(KEY_FILE_VARIABLE)
    if in_environment and key_file:
        raise PseudonymKeyError(f"set {KEY_VARIABLE} or {KEY_FILE_VARIABLE}, not both")
    if in_environment:
        return KeySource("environment", None)
    if key_file:
        return KeySource("file", Path(key_file))
    return KeySource("generated", generated_key_path(home))


_WARNED_DEMO_KEYS: set[Path] = set()


def load_key(home: Path) -> tuple[bytes, KeySource]:
    """The key and where it came from; generates the demo key on first use."""
    source = key_source(home)
    if source.kind == "environment":
        return _parse_hex(os.environ[KEY_VARIABLE], KEY_VARIABLE), source
    assert source.path is not None
    if source.kind == "file":
        return _read_key_file(source.path, KEY_FILE_VARIABLE), source
    if not source.path.exists():
        _create_key_file(source.path, secrets.token_bytes(GENERATED_KEY_BYTES))
        logger.warning("Created a pseudonymisation demo key at %s.", source.path)
    if source.path not in _WARNED_DEMO_KEYS:  # once a process: a run loads the key per dataset
        _WARNED_DEMO_KEYS.add(source.path)
        logger.warning(
            "Pseudonymisation is using a generated demo key (%s). For real data set %s or %s.",
            source.path,
            KEY_VARIABLE,
            KEY_FILE_VARIABLE,
        )
    return _read_key_file(source.path, "the generated key file"), source


def rotate_key(home: Path) -> None:
    """Replace the key with a new random one; the old key file is kept beside it, timestamped.

    Every pseudonym changes: rebuild the state store's landing tables from the landing zone
    afterwards (``StateStore.reset_for_rebuild()``, then a run). A key given in
    ``CPMDS_PSEUDONYM_KEY`` is refused: it lives wherever the variable is set, so change it there.
    """
    source = key_source(home)
    if source.kind == "environment":
        raise PseudonymKeyError(
            f"the key comes from {KEY_VARIABLE}: set a new value there, then rebuild the landing "
            "tables from the landing zone"
        )
    assert source.path is not None
    path = source.path
    if not path.exists():
        if source.kind == "file":
            raise PseudonymKeyError(f"{KEY_FILE_VARIABLE} names a file that does not exist")
        _create_key_file(path, secrets.token_bytes(GENERATED_KEY_BYTES))
        logger.warning("Created a new pseudonymisation key at %s; there was none to rotate.", path)
        return
    retired = _retired_name(path)
    replacement = path.with_name(f".{path.name}.{secrets.token_hex(8)}.new")
    _write_owner_only(replacement, secrets.token_bytes(GENERATED_KEY_BYTES))
    try:
        # Link, then replace: at every moment the key path holds a whole key, old or new.
        os.link(path, retired)
        replacement.replace(path)
    finally:
        replacement.unlink(missing_ok=True)
    logger.warning(
        "Pseudonym key rotated: every pseudonym changes, so the state store's landing tables must "
        "be rebuilt from the landing zone. The old key is kept at %s.",
        retired,
    )


def _retired_name(path: Path) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = path.with_name(f"{path.name}.retired-{stamp}")
    counter = 1
    while candidate.exists():
        counter += 1
        candidate = path.with_name(f"{path.name}.retired-{stamp}-{counter}")
    return candidate


def _parse_hex(text: str, what: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise PseudonymKeyError(f"{what} does not hold a hexadecimal key") from None
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymKeyError(
            f"{what} holds a key shorter than {MIN_KEY_BYTES} bytes; use {GENERATED_KEY_BYTES} "
            "random bytes (e.g. `openssl rand -hex 32`)"
        )
    return key


def _read_key_file(path: Path, what: str) -> bytes:
    try:
        status = path.stat()
    except FileNotFoundError:
        raise PseudonymKeyError(f"{what} ({path}) does not exist") from None
    if not stat.S_ISREG(status.st_mode):
        raise PseudonymKeyError(f"{what} ({path}) is not a regular file")
    if status.st_mode & 0o077:
        raise PseudonymKeyError(
            f"{what} ({path}) may be read or written by other users "
            f"(mode {stat.S_IMODE(status.st_mode):o}); make it owner-only: chmod 600 {path}"
        )
    return _parse_hex(path.read_text(encoding="ascii", errors="replace"), f"{what} ({path})")


def _create_key_file(path: Path, key: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(_OWNER_ONLY_DIRECTORY)
    staging = path.with_name(f".{path.name}.{secrets.token_hex(8)}.new")
    _write_owner_only(staging, key)
    try:
        # A hard link fails if the key appeared meanwhile: a concurrent first use keeps one key.
        os.link(staging, path)
    except FileExistsError:
        pass
    finally:
        staging.unlink(missing_ok=True)


def _write_owner_only(path: Path, key: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _OWNER_ONLY_FILE)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
    path.chmod(_OWNER_ONLY_FILE)


# -- the protected frame -------------------------------------------------------------------------


_SEAL = object()


@dataclass(frozen=True, eq=False)
class ProtectedFrame:
    """A dataset's typed rows with every identifier pseudonymised; made by ``protect`` only.

    ``frame`` has exactly :func:`protected_schema`'s columns; ``key_id`` identifies the key
    generation (not the key) so the store never mixes pseudonyms of two keys.
    """

    frame: pl.DataFrame = field(repr=False)
    dataset_id: str
    partner: str
    org: str
    key_id: str
    _seal: object = field(repr=False, default=None)

    def __post_init__(self) -> None:
        if self._seal is not _SEAL:
            raise TypeError("a ProtectedFrame comes from Pseudonymiser.protect only")

    @property
    def height(self) -> int:
        return self.frame.height


def protected_schema(dataset: Dataset, contract: Contract | None = None) -> dict[str, pl.DataType]:
    """The columns of a protected frame, in order: what the landing tables hold (less ``_file_id``).

    ``_row``; each contract column in its type, except that a CHI column ``c`` holds its
    pseudonym followed by ``c__valid``, ``c__birth_month`` and ``c__sex``, references hold
    pseudonyms, a date of birth holds its month, and a postcode is absent; then the deletion flag.
    """
    contract = contract or load_contract()
    schema: dict[str, pl.DataType] = {ROW_COLUMN: pl.Int64()}
    for column in dataset.columns:
        schema.update(_protected_columns(column))
    schema[contract.formats.deletion_column] = pl.Boolean()
    return schema


def _protected_columns(column: Column) -> dict[str, pl.DataType]:
    if column.identifier == "postcode":
        return {}
    if column.identifier == "chi":
        valid, birth_month, sex = chi_check_columns(column.name)
        return {
            column.name: pl.Utf8(),
            valid: pl.Boolean(),
            birth_month: pl.Date(),
            sex: pl.Utf8(),
        }
    if column.identifier in ("child_ref", "record_ref"):
        return {column.name: pl.Utf8()}
    return {column.name: _COLUMN_TYPES[column.type]}


def _pseudonym_columns(dataset: Dataset) -> tuple[str, ...]:
    return dataset.identifier_columns("chi", "child_ref", "record_ref")


def _month_columns(dataset: Dataset) -> tuple[str, ...]:
    births = dataset.identifier_columns("date_of_birth")
    return births + tuple(chi_check_columns(name)[1] for name in dataset.identifier_columns("chi"))


def assert_protected(frame: pl.DataFrame | ProtectedFrame, dataset: Dataset) -> None:
    """Raise :class:`UnprotectedFrameError` unless ``frame`` can hold no clear identifier.

    Checks the columns and types against :func:`protected_schema` (no postcode, nothing extra), that
    every pseudonym column holds pseudonym-shaped text only, and that dates of birth are months.
    """
    table = frame.frame if isinstance(frame, ProtectedFrame) else frame
    expected = protected_schema(dataset)
    postcodes = [name for name in dataset.identifier_columns("postcode") if name in table.columns]
    if postcodes:
        raise UnprotectedFrameError(f"{dataset.id}: postcode column(s) {postcodes} present")
    missing = [name for name in expected if name not in table.columns]
    if missing:
        raise UnprotectedFrameError(f"{dataset.id}: protected column(s) {missing} missing")
    extra = len([name for name in table.columns if name not in expected])
    if extra:
        # Not named: an unexpected column's name may itself come from a delivered header.
        raise UnprotectedFrameError(f"{dataset.id}: {extra} column(s) outside the protected schema")
    for name, dtype in expected.items():
        if table.schema[name] != dtype:
            raise UnprotectedFrameError(
                f"{dataset.id}.{name}: type {table.schema[name]}, not {dtype}"
            )
    checks = [
        pl.col(name).str.contains(PSEUDONYM_PATTERN).not_().any().alias(name)
        for name in _pseudonym_columns(dataset)
    ] + [(pl.col(name).dt.day() != 1).any().alias(name) for name in _month_columns(dataset)]
    if not checks:
        return
    failing = [name for name, bad in table.select(checks).row(0, named=True).items() if bad]
    if failing:
        raise UnprotectedFrameError(
            f"{dataset.id}: column(s) {failing} hold values that are not pseudonyms or months"
        )


# -- the pseudonymiser ---------------------------------------------------------------------------


class Pseudonymiser:
    """Replaces identifiers by keyed pseudonyms. Holds the key; never shows it."""

    __slots__ = ("_key", "key_id")

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise PseudonymKeyError(f"a pseudonym key has at least {MIN_KEY_BYTES} bytes")
        self._key = key
        self.key_id = hmac.new(key, _KEY_ID_MESSAGE, hashlib.sha256).hexdigest()[:16]
        """Names the key generation, so a store can tell keys apart; reveals nothing of the key."""

    def __repr__(self) -> str:
        return f"Pseudonymiser(key_id={self.key_id!r})"

    @classmethod
    def from_settings(cls, home: Path) -> Pseudonymiser:
        key, _ = load_key(home)
        return cls(key)

    def pseudonym(
        self, kind: Literal["chi"] | RefKind, value: str, partner: str = "", org: str = ""
    ) -> str:
        """One value's pseudonym (for tests and look-ups); ``protect`` does frames."""
        (result,) = self._pseudonyms(pl.Series([value], dtype=pl.Utf8), kind, partner, org)
        assert result is not None
        return result

    def protect(
        self, frame: pl.DataFrame, dataset: Dataset, partner: str, org: str
    ) -> ProtectedFrame:
        """``frame`` (``normalise_frame``'s typed rows of one file) with identifiers protected.

        ``org`` is the sender's current org code (a retired council code already mapped), so a
        child's references are the same whichever code the council sent under.
        """
        protected = self._protected_table(frame, dataset, partner, org)
        result = self._sealed(protected, dataset, partner, org)
        assert_protected(result, dataset)
        return result

    def protect_files(
        self,
        frame: pl.DataFrame,
        file_column: str,
        file_ids: Sequence[int],
        dataset: Dataset,
        partner: str,
        org: str,
    ) -> dict[int, ProtectedFrame]:
        """:meth:`protect` for the rows of several files of one sender at once, by file.

        ``frame`` holds the typed rows of every file in ``file_ids``, each row naming its file in
        ``file_column``; each file's result is what :meth:`protect` gives for its rows alone (a
        file with no rows gets an empty frame). One pass over all the rows instead of one per
        file: Polars' fixed cost per query outweighs a small file's rows.
        """
        if file_column not in frame.columns:
            raise ValueError(f"{dataset.id}: the typed frame lacks its file column")
        wanted = set(file_ids)
        if len(wanted) != len(file_ids):
            raise ValueError("a file is named twice")
        if frame[file_column].is_in(list(wanted)).not_().any():
            raise ValueError(f"{dataset.id}: rows of a file that was not named")
        protected = self._protected_table(frame, dataset, partner, org, keep=file_column)
        # Checked once over every file's rows: the same check as each file's, by construction.
        assert_protected(protected.drop(file_column), dataset)
        parts = protected.partition_by(file_column, as_dict=True, include_key=False)
        empty = protected.drop(file_column).clear()
        return {
            file_id: self._sealed(parts.get((file_id,), empty), dataset, partner, org)
            for file_id in file_ids
        }

    def _sealed(
        self, protected: pl.DataFrame, dataset: Dataset, partner: str, org: str
    ) -> ProtectedFrame:
        return ProtectedFrame(
            frame=protected,
            dataset_id=dataset.id,
            partner=partner,
            org=org,
            key_id=self.key_id,
            _seal=_SEAL,
        )

    def _protected_table(
        self,
        frame: pl.DataFrame,
        dataset: Dataset,
        partner: str,
        org: str,
        keep: str | None = None,
    ) -> pl.DataFrame:
        """``frame`` in :func:`protected_schema` (with the ``keep`` column first, if given)."""
        if dataset.partner != partner:
            raise ValueError(f"{dataset.id} is not sent by partner {partner!r}")
        if not org or _NAMESPACE_SEPARATOR in org or _NAMESPACE_SEPARATOR in partner:
            raise ValueError("partner and org must be non-empty codes")
        schema = protected_schema(dataset)
        missing = [
            name
            for name in schema
            if name not in frame.columns and name not in dataset.identifier_columns("postcode")
        ]
        if missing:
            raise ValueError(f"{dataset.id}: the typed frame lacks column(s) {missing}")
        replaced: list[pl.Series] = []
        for name in dataset.identifier_columns("chi"):
            valid = chi_check_columns(name)[0]
            clear = frame.select(pl.when(pl.col(valid)).then(pl.col(name)).alias(name))
            replaced.append(self._pseudonyms(clear.to_series(), "chi"))
        for kind in ("child_ref", "record_ref"):
            for name in dataset.identifier_columns(kind):
                replaced.append(self._pseudonyms(frame[name].cast(pl.Utf8), kind, partner, org))
        months = [
            pl.col(name).dt.month_start() for name in dataset.identifier_columns("date_of_birth")
        ]
        kept = [pl.col(keep)] if keep is not None else []
        return (
            frame.lazy()
            .with_columns(replaced)
            .with_columns(months)
            .select(*kept, *(pl.col(name).cast(dtype) for name, dtype in schema.items()))
            .collect()
        )

    def _pseudonyms(
        self, values: pl.Series, kind: Literal["chi"] | RefKind, partner: str = "", org: str = ""
    ) -> pl.Series:
        """HMAC of each distinct value once, then a vectorised replace: a column of a million
        rows costs one HMAC per distinct value."""
        namespace = ["chi"] if kind == "chi" else [kind, partner, org]
        prefix = "".join(part + _NAMESPACE_SEPARATOR for part in namespace).encode()
        base = hmac.new(self._key, prefix, hashlib.sha256)
        distinct = values.drop_nulls().unique()
        hashed = []
        for value in distinct.to_list():
            keyed = base.copy()
            keyed.update(value.encode("utf-8"))
            hashed.append(keyed.hexdigest()[:PSEUDONYM_HEX_CHARS])
        return values.replace_strict(
            distinct, pl.Series(hashed, dtype=pl.Utf8), default=None, return_dtype=pl.Utf8
        )
