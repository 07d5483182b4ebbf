from __future__ import annotations

import pytest

from wmh.core.types import Episode
from wmh.engine.offline import OfflineEngine, fit_offline
from wmh.engine.offline_config import OfflineConfig
from wmh.eval.run import replay
from wmh.optimize.target import OfflineTarget, config_text

GROUP = "task_id"


def _answers(engine: OfflineEngine, episodes: list[Episode]) -> list[tuple[str, bool]]:
    return [(r.predicted.content, r.predicted.is_error) for r in replay(engine, episodes, set())]


@pytest.mark.parametrize("update", [{"k": 2}, {"context_weight": 0.0}, {"analogy_min_similarity": 0.3}])
def test_a_config_that_calibrates_differently_is_scored_as_a_fit_under_it(
    corpus: list[Episode], update: dict[str, object]
) -> None:
    base = OfflineConfig(group_by=GROUP)
    cfg = base.model_copy(update=update)
    fit, rest = corpus[:24], corpus[24:]
    target = OfflineTarget(fit, base=base, group_by=GROUP, full_engine=None)
    target.engine(config_text(base))  # the base fit first: the candidate goes through ``with_config``
    engine = target.engine(config_text(cfg))
    fresh = fit_offline(fit, cfg)
    assert engine.knowledge == fresh.knowledge
    assert _answers(engine, rest) == _answers(fresh, rest)
    kept = fit_offline(fit, base).with_config(cfg)  # without the episodes: the original calibration
    assert kept.knowledge == target.engine(config_text(base)).knowledge != fresh.knowledge


def test_with_config_refuses_other_episodes(corpus: list[Episode]) -> None:
    engine = fit_offline(corpus[:10], OfflineConfig())
    with pytest.raises(ValueError, match="fitted on"):
        engine.with_config(OfflineConfig(k=2), corpus[1:11])
    assert engine.with_config(OfflineConfig(template_fill="omit"), corpus[1:11]).knowledge is engine.knowledge


def test_screen_answers_every_search_episode_without_its_group(corpus: list[Episode]) -> None:
    target = OfflineTarget(corpus, group_by=GROUP, folds=4)
    screened = target.screen(target.seed())
    assert [o.trace_id for _, o in screened] == [ep.trace_id for ep in corpus]
    assert [g for g, _ in screened] == [ep.attributes[GROUP] for ep in corpus]
    for ep in corpus:
        pool = target.pools[f"fold{target.fold_of[ep.trace_id]}"]
        assert all(other.attributes[GROUP] != ep.attributes[GROUP] for other in pool)
    assert OfflineTarget(corpus, group_by=GROUP, folds=1).screen(target.seed()) == []
