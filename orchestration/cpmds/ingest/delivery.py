"""What a delivered file is, from its place in the landing zone (extracts.md, "Files").

``<landing zone>/<partner>/<org_code>/<dataset>_<YYYYMM>_<YYYYMMDDHHMM>.<csv|xlsx>``; the spec
writes the landing zone as ``raw/``, so a path that still starts with ``raw/`` is accepted too.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath

from cpmds.contract import Contract, load_contract
from cpmds.ingest.rejection import Rejection

LANDING_ZONE_PREFIX = "raw"


@dataclass(frozen=True)
class Delivery:
    relative_path: str
    """Posix path under the landing zone, as delivered (``sw/S12000015/...``)."""
    partner: str
    delivered_org: str
    org: str
    """``delivered_org`` with a retired council code mapped to the current one."""
    dataset_id: str
    period: int
    submitted_at: dt.datetime
    extension: str


@dataclass
class LandingRoots:
    """The landing zone as :func:`parse_delivery` compares paths with it: absolute and normalised
    as given, and with its links resolved. Made once for many paths by :func:`landing_roots`."""

    absolute: Path
    resolved: Path
    _directories: dict[Path, Path] = field(default_factory=dict, repr=False)

    def resolve(self, path: Path) -> Path:
        """``path.resolve()``, resolving each directory once: a file that is not a link resolves
        to its directory's resolved path and its name, which costs one ``lstat`` instead of one
        per component of the path. Anything else (a link, a missing file, ``..``) resolves as
        usual."""
        if path.name in ("", "..") or not path.is_absolute():
            return path.resolve()
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                return path.resolve()
        except OSError:
            return path.resolve()
        directory = self._directories.get(path.parent)
        if directory is None:
            directory = self._directories[path.parent] = path.parent.resolve()
        return directory / path.name


def landing_roots(root: Path) -> LandingRoots:
    """:class:`LandingRoots` of the landing zone ``root``."""
    return LandingRoots(Path(os.path.normpath(root.absolute())), root.resolve())


def parse_delivery(
    path: Path | str,
    root: Path,
    contract: Contract | None = None,
    *,
    roots: LandingRoots | None = None,
    resolved: Path | None = None,
) -> Delivery | Rejection:
    """Parse ``path`` (absolute, or relative to the landing zone ``root``) into a :class:`Delivery`.

    A path that resolves outside ``root``, through ``..`` or a symlink, is refused before its name
    is looked at. The name is read from the path as delivered, not from a symlink's target.
    ``roots`` is :func:`landing_roots` of ``root``, and ``resolved`` the absolute ``path``
    resolved, when the caller has them already.
    """
    roots = roots if roots is not None else landing_roots(root)
    root_absolute, root_resolved = roots.absolute, roots.resolved
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = root_absolute / candidate
    target = resolved if resolved is not None else roots.resolve(candidate)
    if not target.is_relative_to(root_resolved):
        return Rejection.because("outside_root")
    as_delivered = Path(os.path.normpath(candidate))
    for base in (root_absolute, root_resolved):
        if as_delivered.is_relative_to(base):
            return parse_landing_path(as_delivered.relative_to(base), contract)
    return Rejection.because("outside_root")


def parse_landing_path(
    relative: PurePath | str, contract: Contract | None = None
) -> Delivery | Rejection:
    """Parse a path under the landing zone without touching the file system (``validate --as``)."""
    contract = contract or load_contract()
    parts = PurePosixPath(PurePath(relative).as_posix()).parts
    if len(parts) == 4 and parts[0] == LANDING_ZONE_PREFIX:
        parts = parts[1:]
    if len(parts) != 3 or ".." in parts:
        return Rejection.because("bad_layout")
    partner_id, delivered_org, file_name = parts

    match = contract.formats.file_name.regex.fullmatch(file_name)
    if match is None:
        return Rejection.because("bad_file_name")
    partner = contract.partner_by_id.get(partner_id)
    if partner is None:
        return Rejection.because("unknown_partner")
    if match["dataset"] not in partner.datasets:
        return Rejection.because("unknown_dataset")
    if not contract.org_allowed(partner_id, delivered_org):
        return Rejection.because("org_not_allowed")
    dataset = contract.dataset(partner_id, match["dataset"])

    period = int(match["period"])
    year, month = divmod(period, 100)
    if not 1 <= month <= 12 or dt.date(max(year, 1), month, 1) < contract.formats.earliest_date:
        return Rejection.because("bad_period")
    if dataset.period_month is not None and month != dataset.period_month:
        return Rejection.because("wrong_period_month")
    submitted_at = _submission_stamp(match["submission"])
    if submitted_at is None:
        return Rejection.because("bad_submission")

    org = delivered_org
    if partner.org.kind == "council":
        org = contract.reference.current_council_code[delivered_org]
    return Delivery(
        relative_path="/".join(parts),
        partner=partner_id,
        delivered_org=delivered_org,
        org=org,
        dataset_id=dataset.id,
        period=period,
        submitted_at=submitted_at,
        extension=match["extension"],
    )


def _submission_stamp(stamp: str) -> dt.datetime | None:
    fields = (stamp[0:4], stamp[4:6], stamp[6:8], stamp[8:10], stamp[10:12])
    try:
        return dt.datetime(*(int(field) for field in fields))
    except ValueError:
        return None
