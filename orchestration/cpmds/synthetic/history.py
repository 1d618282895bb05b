"""The hand-over between the journey simulation and the file writer.

``simulate`` returns a :data:`History`: for each dataset id (``sw__registrations``), one Polars
frame holding every *version* of every record, as the sending organisation's own system would
extract it:

- the dataset's contract columns, canonically typed: ``date`` -> ``pl.Date``, ``bool`` ->
  ``pl.Boolean`` (null = unknown), ``code`` -> ``pl.Utf8`` (canonical code), ``codes`` ->
  ``pl.List(pl.Utf8)``, ``integer`` -> ``pl.Int64``, ``text`` -> ``pl.Utf8``; null = blank;
- ``_org``: the sender's current org code (council, board, ``PS``, ``SCRA``, charity, ``NRS``);
- ``_period``: the YYYYMM of the monthly file this version belongs in (the month the record was
  created or changed; for annual datasets the dataset's period, e.g. ``202407``).

A record (the dataset's key) may have several versions; the one with the latest ``_period`` is its
state. Versions may lie before the requested range (the simulation warms up so that registers and
placements are already open when the first file is due): the writer turns those into the baseline of
each sender's first file. Nothing in a history is a defect: the writer adds every kind of noise.
"""

from __future__ import annotations

import polars as pl

History = dict[str, pl.DataFrame]

META_COLUMNS = ("_org", "_period")
