"""Deterministic train / held-out split, by trace or by a group key (a task id) read from a trace attribute."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from wmh.core.errors import UserInputError
from wmh.core.types import Episode, Frozen


class Split(Frozen):
    train: tuple[Episode, ...]
    heldout: tuple[Episode, ...]
    group_by: str | None
    holdout: float
    groups_total: int
    groups_heldout: int


def bucket(key: str, salt: str = "wmh-split-v1") -> float:
    """A stable number in [0, 1) for a key: the same on every machine and every run."""
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_episodes(episodes: Sequence[Episode], holdout: float, group_by: str | None = None) -> Split:
    """Hold out the groups whose ranked bucket falls in the first ``holdout`` share.

    Groups are ranked by their hash bucket and the first round(holdout × groups) are held out, so
    the ratio is met exactly on small corpora and the choice never depends on input order.
    """
    if not 0.0 <= holdout < 1.0:
        raise UserInputError(f"--holdout must be in [0, 1), got {holdout}; e.g. --holdout 0.2")
    keys = sorted({ep.group_key(group_by) for ep in episodes}, key=lambda k: (bucket(k), k))
    n_out = round(holdout * len(keys))
    if holdout > 0 and n_out == 0 and len(keys) > 1:
        n_out = 1
    out = set(keys[:n_out])
    return Split(
        train=tuple(ep for ep in episodes if ep.group_key(group_by) not in out),
        heldout=tuple(ep for ep in episodes if ep.group_key(group_by) in out),
        group_by=group_by,
        holdout=holdout,
        groups_total=len(keys),
        groups_heldout=len(out),
    )
