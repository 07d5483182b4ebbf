"""What is optimized, and how a candidate is scored on one example.

A ``Target`` names the candidate's one text component, checks a proposed text (``validate``), and
scores a text on one episode (``evaluate``). The optimizer (GEPA adapter, reflectors, run
directory) never looks past this interface, so an LLM engine plugs in with its environment prompt
as the component and its own evaluator. ``OfflineTarget`` is the offline engine's: the candidate is
its ``OfflineConfig`` as JSON text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import ValidationError

from wmh.build.split import bucket
from wmh.core.jsonutil import canonical
from wmh.core.types import Episode
from wmh.engine.offline import OfflineEngine, fit_offline
from wmh.engine.offline_config import STRATEGIES, OfflineConfig
from wmh.eval.run import StepResult, replay
from wmh.optimize.types import EpisodeOutcome, StepOutcome

OFFLINE_COMPONENT = "offline_config"
TEXT_LIMIT = 400


class InvalidCandidate(ValueError):
    """A proposed text that is not a valid candidate; ``str(err)`` says why in one line."""


class Target(Protocol):
    """One optimizable component and its evaluator."""

    component: str

    def seed(self) -> str:
        """The base candidate's text."""
        ...

    def validate(self, text: str) -> str:
        """The canonical form of ``text``, or ``InvalidCandidate`` with the reason."""
        ...

    def evaluate(self, text: str, episode: Episode, *, train: bool) -> EpisodeOutcome:
        """Score ``text`` on one episode; ``train``: the episode is in the engine's own data."""
        ...

    def evaluate_batch(self, text: str, episodes: Sequence[Episode], *, train: bool) -> list[EpisodeOutcome]:
        """``evaluate`` on several episodes (a target that waits on a model runs them at once)."""
        ...

    def heldout(self, text: str, episodes: Sequence[Episode]) -> tuple[float, int]:
        """(mean step fidelity, steps) on held-out episodes, with the engine fitted on all of train."""
        ...

    def crosscheck(self, text: str) -> list[EpisodeOutcome]:
        """``text`` scored on a check independent of the validation split (the overfit guard's
        second test), e.g. the search's train answered leak-free by group; [] when there is none."""
        ...


class OfflineTarget:
    """The offline engine's configuration as the candidate.

    ``fit`` is the search's train (train minus the validation split). Validation episodes are
    answered by an engine fitted on all of ``fit`` (their groups are not in it). Train episodes
    are answered by that engine leaving their own trace out (``folds=1``), or, with ``folds`` > 1,
    leak-free by task: ``fit`` is cut into folds by ``group_by`` and each episode is answered by the
    engine fitted on the other folds. ``full_train`` (fitted
    lazily, only for the held-out score) is what the built model learns from. ``crosscheck`` (the
    overfit guard's second test) answers every ``fit`` episode by an engine fitted on
    ``full_train`` without that episode's group fold (``check_folds`` folds). ``screen`` (what the
    deterministic reflector chooses edits by) answers every ``fit`` episode leak-free by group,
    as the train episodes are with ``folds`` > 1. Fits are cached by the fields that need a refit
    (``REFIT_FIELDS``); a config that calibrates differently is recalibrated
    (``with_config(cfg, episodes)``), so every candidate is scored as a fit under it would answer.
    """

    component = OFFLINE_COMPONENT

    def __init__(
        self,
        fit: Sequence[Episode],
        full_train: Sequence[Episode] | None = None,
        base: OfflineConfig | None = None,
        *,
        group_by: str | None = None,
        folds: int = 1,
        check_folds: int = 5,
        full_engine: OfflineEngine | None = None,
    ) -> None:
        self.base = base or OfflineConfig()
        fit = tuple(fit)
        full = tuple(full_train) if full_train is not None else fit
        self.fold_of = _folds(fit, group_by, folds)
        self.search_folds = len(set(self.fold_of.values()))
        self.pools: dict[str, tuple[Episode, ...]] = {"fit": fit, "full": full}
        for f in sorted(set(self.fold_of.values())):
            self.pools[f"fold{f}"] = tuple(ep for ep in fit if self.fold_of[ep.trace_id] != f)
        self.check_of = _folds(fit, group_by, check_folds, salt="wmh-check-v1") if check_folds > 1 else {}
        for f in sorted(set(self.check_of.values())):
            held = {ep.trace_id for ep in fit if self.check_of[ep.trace_id] == f}
            self.pools[f"check{f}"] = tuple(ep for ep in full if ep.trace_id not in held)
        self._fit_episodes = fit
        self.group_of = {ep.trace_id: ep.group_key(group_by) for ep in fit}
        self._screens: dict[str, list[tuple[str, EpisodeOutcome]]] = {}
        self._fits: dict[tuple[str, int, str | None], OfflineEngine] = {}
        self._calibrations: dict[tuple[str, tuple[object, ...]], OfflineEngine] = {}
        if full_engine is not None:
            cfg = full_engine.config
            self._fits[("full", cfg.embed_dim, cfg.group_by)] = full_engine
            self._calibrations[("full", cfg.calibration_key())] = full_engine
        self._configs: dict[str, OfflineConfig] = {}
        self._engines: dict[tuple[str, str], OfflineEngine] = {}

    def seed(self) -> str:
        return config_text(self.base)

    def validate(self, text: str) -> str:
        return config_text(parse_config(text))

    def config(self, text: str) -> OfflineConfig:
        if text not in self._configs:
            self._configs[text] = parse_config(text)
        return self._configs[text]

    def engine(self, text: str, pool: str = "fit") -> OfflineEngine:
        """The engine of ``pool`` (fit, full, fold<i>: fit without fold i) under the config ``text``,
        answering as one fitted under it would (recalibrated when the config's calibration differs)."""
        key = (pool, text)
        if key not in self._engines:
            cfg = self.config(text)
            calibrated = self._calibrated(pool, cfg)
            self._engines[key] = calibrated if calibrated.config == cfg else calibrated.with_config(cfg)
        return self._engines[key]

    def _calibrated(self, pool: str, cfg: OfflineConfig) -> OfflineEngine:
        """The engine of ``pool`` learned and calibrated as under ``cfg`` (cached by what that reads)."""
        key = (pool, cfg.calibration_key())
        if key not in self._calibrations:
            fitted = self._fits.get((pool, cfg.embed_dim, cfg.group_by))
            if fitted is None:
                fitted = self._fits[(pool, cfg.embed_dim, cfg.group_by)] = fit_offline(self.pools[pool], cfg)
                self._calibrations[(pool, fitted.config.calibration_key())] = fitted
            self._calibrations[key] = fitted.with_config(cfg, self.pools[pool])
        return self._calibrations[key]

    def evaluate(self, text: str, episode: Episode, *, train: bool) -> EpisodeOutcome:
        fold = self.fold_of.get(episode.trace_id) if train else None
        pool = f"fold{fold}" if fold is not None and self.search_folds > 1 else "fit"
        results = replay(self.engine(text, pool), [episode], set(), exclude_self=train)
        return outcome(episode, results)

    def evaluate_batch(self, text: str, episodes: Sequence[Episode], *, train: bool) -> list[EpisodeOutcome]:
        return [self.evaluate(text, ep, train=train) for ep in episodes]

    def screen(self, text: str) -> list[tuple[str, EpisodeOutcome]]:
        """(group, outcome) of every search-train episode, each answered by the engine fitted on the
        other folds of groups (as in ``evaluate`` with ``folds`` > 1); [] with fewer than 2 folds."""
        if self.search_folds < 2:
            return []
        text = self.validate(text)
        if text not in self._screens:
            self._screens[text] = [
                (self.group_of[ep.trace_id], self.evaluate(text, ep, train=True)) for ep in self._fit_episodes
            ]
        return self._screens[text]

    def crosscheck(self, text: str) -> list[EpisodeOutcome]:
        """Every search-train episode answered by an engine fitted on all of train (validation
        included) but the episode's check fold of groups: leak-free by group, like the held-out
        score, and a different question from the validation split's."""
        if len(set(self.check_of.values())) < 2:
            return []
        text = self.validate(text)
        return [
            outcome(ep, replay(self.engine(text, f"check{self.check_of[ep.trace_id]}"), [ep], set()))
            for ep in self._fit_episodes
        ]

    def heldout(self, text: str, episodes: Sequence[Episode]) -> tuple[float, int]:
        results = replay(self.engine(self.validate(text), "full"), episodes, set())
        if not results:
            return 0.0, 0
        return sum(r.grade.fidelity for r in results) / len(results), len(results)


def _folds(
    episodes: Sequence[Episode], group_by: str | None, folds: int, salt: str = "wmh-fold-v1"
) -> dict[str, int]:
    """Trace id → fold: groups ranked by a stable hash, dealt round-robin into ``folds``."""
    keys = sorted({ep.group_key(group_by) for ep in episodes}, key=lambda k: (bucket(k, salt), k))
    n = max(1, min(folds, len(keys)))
    rank = {k: i % n for i, k in enumerate(keys)}
    return {ep.trace_id: rank[ep.group_key(group_by)] for ep in episodes}


def parse_config(text: str) -> OfflineConfig:
    """An ``OfflineConfig`` from candidate text, or ``InvalidCandidate`` naming what is wrong."""
    try:
        cfg = OfflineConfig.model_validate_json(text)
    except ValidationError as e:
        first = e.errors()[0] if e.errors() else {"loc": (), "msg": str(e)}
        where = ".".join(str(p) for p in first["loc"]) or "config"
        raise InvalidCandidate(f"not a valid OfflineConfig: {where}: {first['msg']}") from None
    unknown = sorted(
        {s for order in (cfg.strategy_order, *cfg.tool_strategies.values()) for s in order} - set(STRATEGIES)
    )
    if unknown:
        raise InvalidCandidate(f"unknown strategies {unknown}; known: {', '.join(STRATEGIES)}")
    return cfg


def config_text(cfg: OfflineConfig) -> str:
    return cfg.model_dump_json(indent=2)


def outcome(episode: Episode, results: Sequence[StepResult]) -> EpisodeOutcome:
    """The graded steps of one replayed episode; its score is their mean fidelity (1.0 if none)."""
    steps = tuple(
        StepOutcome(
            tool=r.tool,
            source=r.predicted.source,
            arguments=_cut(canonical(episode.steps[r.index].action.arguments)),
            predicted=_cut(r.predicted.content),
            recorded=_cut(r.recorded.content),
            predicted_error=r.predicted.is_error,
            recorded_error=r.recorded.is_error,
            exact=r.grade.exact,
            fidelity=r.grade.fidelity,
            feedback=r.grade.feedback,
        )
        for r in results
    )
    score = sum(s.fidelity for s in steps) / len(steps) if steps else 1.0
    return EpisodeOutcome(trace_id=episode.trace_id, score=score, steps=steps)


def _cut(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 3] + "..."
