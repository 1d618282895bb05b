"""The generator's second step: a history's record versions written as partners deliver them.

Layout and periods (:mod:`.plan`), submission stamps (:mod:`.stamps`), sender styles
(:mod:`.styles`), cell formatting (:mod:`.render`), life events that are valid data (:mod:`.noise`),
defects and their manifest (:mod:`.defects`), bytes (:mod:`.output`). It reads the contract on its
own and never imports the loader.
"""

from __future__ import annotations

from cpmds.synthetic.writer.landing_zone import write_landing_zone
from cpmds.synthetic.writer.tuning import DEFAULT_TUNING, Tuning

__all__ = ["DEFAULT_TUNING", "Tuning", "write_landing_zone"]
