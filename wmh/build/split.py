"""Deterministic train / held-out split, by trace or by a group key (a task id) read from a trace attribute.

``split_episodes`` holds out one share of the groups; ``fold_splits`` holds out each group exactly
once over k folds, ranking the groups the same way (fold 0 is ``split_episodes`` at 1/k).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from itertools import pairwise

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


def ranked_keys(episodes: Sequence[Episode], group_by: str | None = None) -> list[str]:
    """The distinct group keys ranked by (hash bucket, key): independent of input order."""
    return sorted({ep.group_key(group_by) for ep in episodes}, key=lambda k: (bucket(k), k))


def check_holdout(holdout: float) -> None:
    if not 0.0 <= holdout < 1.0:  # also refuses nan
        raise UserInputError(f"--holdout must be in [0, 1), got {holdout}; e.g. --holdout 0.2")


def check_group_by(episodes: Sequence[Episode], group_by: str | None, shown: int = 8) -> None:
    """Refuse a group key no trace carries: it would silently split by trace."""
    if group_by is None or any(group_by in ep.attributes for ep in episodes):
        return
    seen = sorted({key for ep in episodes for key in ep.attributes})
    listed = ", ".join(seen[:shown]) + (f", ... ({len(seen)} in all)" if len(seen) > shown else "")
    raise UserInputError(f"no trace has attribute {group_by!r}; attributes seen: {listed or 'none'}")


def split_episodes(episodes: Sequence[Episode], holdout: float, group_by: str | None = None) -> Split:
    """Hold out the groups whose ranked bucket falls in the first ``holdout`` share.

    Groups are ranked by their hash bucket and the first round(holdout × groups) are held out, so
    the ratio is met exactly on small corpora and the choice never depends on input order.
    """
    check_holdout(holdout)
    check_group_by(episodes, group_by)
    keys = ranked_keys(episodes, group_by)
    n_out = round(holdout * len(keys))
    if holdout > 0 and n_out == 0 and len(keys) > 1:
        n_out = 1
    return _split(episodes, set(keys[:n_out]), group_by, holdout, len(keys))


def fold_splits(episodes: Sequence[Episode], folds: int, group_by: str | None = None) -> list[Split]:
    """k-fold by group: fold f holds out ranked keys [round(f·n/k), round((f+1)·n/k)).

    Every group is held out in exactly one fold; fold 0 holds out what ``split_episodes`` at
    ``1/folds`` does.
    """
    check_group_by(episodes, group_by)
    keys = ranked_keys(episodes, group_by)
    if not 2 <= folds <= len(keys):
        raise UserInputError(
            f"--folds must be between 2 and the number of groups ({len(keys)}), got {folds}; e.g. --folds 5"
        )
    edges = [round(f * len(keys) / folds) for f in range(folds + 1)]
    return [_split(episodes, set(keys[lo:hi]), group_by, 1 / folds, len(keys)) for lo, hi in pairwise(edges)]


def _split(
    episodes: Sequence[Episode], out: set[str], group_by: str | None, holdout: float, groups_total: int
) -> Split:
    return Split(
        train=tuple(ep for ep in episodes if ep.group_key(group_by) not in out),
        heldout=tuple(ep for ep in episodes if ep.group_key(group_by) in out),
        group_by=group_by,
        holdout=holdout,
        groups_total=groups_total,
        groups_heldout=len(out),
    )
