"""cpmds: the child protection minimum dataset pipeline."""
