"""Helpers of ``benchmarks/batch.py``: its data (``data``), peak memory (``memory``) and the
survey-scale figures (``scale``)."""
