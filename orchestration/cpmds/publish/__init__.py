"""What leaves the partnership: disclosure control (:mod:`cpmds.publish.suppression`), the
publication schema and exports (:mod:`cpmds.publish.outputs`) and the atomic publishing of a run's
warehouse (:mod:`cpmds.publish.atomic`)."""
