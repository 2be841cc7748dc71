"""Private implementation of :mod:`snapscope.psf` (import the public names from there)."""
