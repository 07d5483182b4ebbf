"""Benchmarks: ``uv run python -m bench <name> ...`` (see ``bench/__main__.py`` for the names)."""
