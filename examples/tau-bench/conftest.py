"""Make the example's sibling modules importable from its tests (the directory name has a hyphen)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture
def tau_airline_trajectories() -> Path:
    path = SHARED_DATA / "tau-bench" / "historical_trajectories" / "gpt-4o-airline.json"
    if not path.is_file():
        pytest.skip("../shared/data/tau-bench is not present")
    return path
