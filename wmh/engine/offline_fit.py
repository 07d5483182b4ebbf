"""Fitting the offline engine: learn per-tool rules, index the recorded calls, calibrate analogies.

    engine = fit(train_episodes, OfflineConfig())   # what ``fit_offline`` calls

Every step of every train episode becomes a record (tool, canonical arguments, answer, trace).
Records with the same tool and arguments share one index row, embedded from the arguments, each
weighted by how much it decides the tool's answer. Calibration then answers a sample of train calls
as if their task were held out and the call never seen, to learn per tool when an analogy beats
the tool's most common answer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from wmh.core.jsonutil import canonical
from wmh.core.types import Episode, Observation, SessionState, Turn
from wmh.engine.offline import OfflineEngine, arg_vectors
from wmh.engine.offline_config import OfflineConfig
from wmh.engine.offline_json import Json, dumps, leaves, parsed
from wmh.engine.offline_knowledge import Calibration, ToolKnowledge, learn, near_key, task_group, value_hash
from wmh.engine.offline_limits import ChargeSample, carried_charges, learn_charges
from wmh.engine.offline_novel import learn_novel_tools
from wmh.engine.offline_strategies import Query, analogy, chained, collected, most_common, patched
from wmh.eval.grade import grade
from wmh.retrieval.embed import HashingEmbedder
from wmh.retrieval.index import VectorIndex

CALIBRATION_CALLS = 100
CHARGE_CALLS = 400  # train calls of a write answered to learn its charge limits


def fit(episodes: Sequence[Episode], config: OfflineConfig) -> OfflineEngine:
    """Learn an offline engine from recorded episodes (the train split)."""
    knowledge = learn(episodes, config.group_by)
    tools = sorted(knowledge)
    records, row_members = _records(episodes, {t: i for i, t in enumerate(tools)})
    index, row_ptr, row_recs = _build_index(config, records, row_members, tools, knowledge)
    known = _known_values(episodes) if any(k.novel_errors for k in knowledge.values()) else set()
    engine = OfflineEngine(
        config,
        knowledge,
        records,
        [ep.trace_id for ep in episodes],
        index,
        row_ptr,
        row_recs,
        np.array(sorted(known), dtype=np.uint64),
        learn_novel_tools(episodes),
    )
    return learn_charge_limits(calibrate(engine, episodes), episodes)


def _records(
    episodes: Sequence[Episode], tool_ids: dict[str, int]
) -> tuple[dict[str, list], list[list[int]]]:
    """Column lists of every recorded call, and the records of each (tool, arguments) row."""
    records: dict[str, list] = {"tool": [], "cargs": [], "content": [], "err": [], "trace": [], "pos": []}
    row_of: dict[tuple[int, str], int] = {}
    row_members: list[list[int]] = []
    for t, ep in enumerate(episodes):
        for pos, step in enumerate(s for s in ep.steps if s.action.name):
            cargs = canonical(step.action.arguments)
            tool = tool_ids[step.action.name]
            row = row_of.setdefault((tool, cargs), len(row_members))
            if row == len(row_members):
                row_members.append([])
            row_members[row].append(len(records["tool"]))
            for key, value in (
                ("tool", tool),
                ("cargs", cargs),
                ("content", step.observation.content),
                ("err", step.observation.is_error),
                ("trace", t),
                ("pos", pos),
            ):
                records[key].append(value)
    return records, row_members


def _known_values(episodes: Sequence[Episode]) -> set[int]:
    """Hashes of every string a successful call passed or answered (only novel-value rules ask)."""
    known: set[int] = set()
    for ep in episodes:
        for step in ep.steps:
            if step.action.name and not step.observation.is_error:
                for v in _strings_of(step.action.arguments, step.observation.content):
                    known.add(value_hash(v))
                    if key := near_key(v):
                        known.add(value_hash(key))  # a mistyped id is known by this key
    return known


def learn_charge_limits(engine: OfflineEngine, episodes: Sequence[Episode]) -> OfflineEngine:
    """Learn the charge limits (``offline_limits.ChargeRule``) of each write that appends to the object
    it patches and sometimes fails. The amount charged is what the engine's own patch computes, so it
    is learned from the answers the engine makes for train calls, each asked as a held-out task's.

    A write whose own failures teach none takes those of another write appending the same kind of item
    (a fee charged to a card is held to the card's balance whichever write charges it), unless one of
    its own train calls contradicts them."""
    by_task = _tasks(engine, episodes)
    memo: dict[str, list[ChargeSample]] = {}

    def samples(tool: str) -> list[ChargeSample]:
        if tool not in memo:
            memo[tool] = _charge_samples(engine, episodes, by_task, tool)
        return memo[tool]

    writes = {t: k for t, k in engine.knowledge.items() if _appends(k)}
    own = {t: learn_charges(samples(t)) for t, k in writes.items() if k.error_rate > 0}
    for tool, knowledge in writes.items():
        rules = own.get(tool) or ()
        if not rules:
            others = [
                r.model_copy(update={"source": other})
                for other, learned in sorted(own.items())
                if other != tool
                for r in learned
                if _appends(knowledge, r.list_key, (r.name_field, r.amount_field))
            ]
            rules = carried_charges(others, samples(tool)) if others else ()
        if rules:
            engine.knowledge[tool] = knowledge.model_copy(update={"charges": rules})
    return engine


def _appends(knowledge: ToolKnowledge, key: str = "", fields: Sequence[str] = ()) -> bool:
    """Whether the tool's patch appends an item (to list ``key``, with ``fields``, when given)."""
    return any(
        op.op == "append" and (not key or op.key == key) and all(f in op.item_fields for f in fields)
        for rule in knowledge.templates
        for op in rule.keys
    )


def _charge_samples(
    engine: OfflineEngine, episodes: Sequence[Episode], by_task: dict[str, list[int]], tool: str
) -> list[ChargeSample]:
    """The engine's patch of a sample of the tool's train calls, beside what each call really got."""
    out = []
    for rec in _sample(engine, tool, CHARGE_CALLS):
        q = _calibration_query(engine, episodes, by_task, rec)
        made = patched(q)
        if made is not None:
            failed, text = bool(engine.rec_err[rec]), engine.rec_content[rec]
            out.append(ChargeSample(*made, list(q.view.objects()), failed, text))
    return out


def _tasks(engine: OfflineEngine, episodes: Sequence[Episode]) -> dict[str, list[int]]:
    """The train episodes of each task."""
    by_task: dict[str, list[int]] = {}
    for t, ep in enumerate(episodes):
        by_task.setdefault(task_group(ep, engine.config.group_by), []).append(t)
    return by_task


def _sample(engine: OfflineEngine, tool: str, n: int) -> list[int]:
    """Up to ``n`` of the tool's records, evenly spread over the train calls."""
    recs = np.flatnonzero(engine.rec_tool == engine.tool_ids[tool])
    return recs[np.linspace(0, len(recs) - 1, min(len(recs), n)).astype(np.int64)].tolist()


def calibrate(engine: OfflineEngine, episodes: Sequence[Episode]) -> OfflineEngine:
    """Score analogies against the most common answer per tool on a sample of train calls, each
    answered without the traces of its own task (as a held-out task would be)."""
    by_task = _tasks(engine, episodes)
    for tool, knowledge in list(engine.knowledge.items()):
        sample = _sample(engine, tool, CALIBRATION_CALLS)
        samples: dict[str, list[tuple[float, float, float]]] = {"ok": [], "error": []}
        gains: list[float] = []
        chain_gains: dict[bool, list[float]] = {True: [], False: []}  # by whether chains were found
        vote_hits = prior_hits = 0
        for rec in sample:
            q = _calibration_query(engine, episodes, by_task, rec)
            recorded = Observation(content=engine.rec_content[rec], is_error=bool(engine.rec_err[rec]))
            common = most_common(q)
            found = q.neighbors()
            best = q.best_neighbor()
            failed = bool(engine.rec_err[rec])
            vote_hits += best is not None and best[1] == failed
            prior_hits += (knowledge.error_rate > 0.5 and not q.retrying()) == failed
            if knowledge.collect is not None:
                listed = collected(q, knowledge.collect)
                gains.append(_utility(listed, recorded) - _utility(common, recorded) if listed else 0.0)
            if knowledge.chain is not None:
                chains = chained(q, knowledge.chain)
                if chains is not None:
                    made = Observation(content=dumps(chains, like=knowledge.common_ok))
                    chain_gains[bool(chains)].append(_utility(made, recorded) - _utility(common, recorded))
            samples["error" if common.is_error else "ok"].append(
                (
                    round(found[0][1], 6) if found else 0.0,
                    _utility(analogy(q) or common, recorded),
                    _utility(common, recorded),
                )
            )
        calibration = {
            outcome: Calibration(
                similarity=tuple(x[0] for x in rows),
                analogy=tuple(x[1] for x in rows),
                common=tuple(x[2] for x in rows),
            )
            for outcome, rows in samples.items()
            if rows
        }
        update: dict[str, object] = {
            "calibration": calibration,
            "vote_hits": vote_hits,
            "prior_hits": prior_hits,
        }
        if knowledge.collect is not None and gains:
            update["collect"] = knowledge.collect.model_copy(update={"gain": sum(gains) / len(gains)})
        if knowledge.chain is not None:
            found, none = chain_gains[True], chain_gains[False]
            update["chain"] = knowledge.chain.model_copy(
                update={
                    "gain": sum(found) / len(found) if found else 0.0,
                    "empty_gain": sum(none) / len(none) if none else 0.0,
                    "tested": len(found),
                }
            )
        engine.knowledge[tool] = knowledge.model_copy(update=update)
    return engine


def _calibration_query(
    engine: OfflineEngine, episodes: Sequence[Episode], by_task: dict[str, list[int]], rec: int
) -> Query:
    """Record ``rec`` asked as if its task were held out and the call never seen."""
    t, pos = int(engine.rec_trace[rec]), int(engine.rec_pos[rec])
    ep = episodes[t]
    steps = [s for s in ep.steps if s.action.name]
    state = SessionState(
        id="calibration",
        task=ep.task,
        history=tuple(Turn(action=s.action, observation=s.observation) for s in steps[:pos]),
    )
    action = steps[pos].action
    siblings = frozenset(by_task[task_group(ep, engine.config.group_by)])
    q = engine.query(state, action, exclude=t, exclude_more=siblings)
    q.skip_row = engine.exact.get((action.name, q.cargs), -1)
    return q


def _utility(predicted: Observation, recorded: Observation) -> float:
    g = grade(predicted, recorded)
    return g.exact + g.fidelity


def _build_index(
    config: OfflineConfig,
    records: dict[str, list],
    row_members: list[list[int]],
    tools: list[str],
    knowledge: dict[str, ToolKnowledge],
) -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    embedder = HashingEmbedder(dim=config.embed_dim)
    firsts = [members[0] for members in row_members]
    calls = [_args(records["cargs"][r]) for r in firsts]
    weights = [knowledge[tools[records["tool"][r]]].arg_weights for r in firsts]
    vectors = arg_vectors(embedder, calls, weights)
    groups = np.array([records["tool"][r] for r in firsts], dtype=np.int64)
    traces = np.array(
        [records["trace"][m[0]] if len({records["trace"][r] for r in m}) == 1 else -1 for m in row_members],
        dtype=np.int64,
    )
    index, order = VectorIndex.build(vectors, groups, traces, len(tools))
    counts = np.array([len(row_members[o]) for o in order.tolist()], dtype=np.int64)
    row_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    row_recs = np.array([r for o in order.tolist() for r in row_members[o]], dtype=np.int64)
    return index, row_ptr, row_recs


def _args(cargs: str) -> dict[str, Json]:
    ok, value = parsed(cargs)
    return value if ok and isinstance(value, dict) else {}


def _strings_of(arguments: dict[str, Json], content: str) -> set[str]:
    out = {v for _, v in leaves(arguments) if isinstance(v, str)}
    ok, value = parsed(content)
    if ok:
        out.update(v for _, v in leaves(value) if isinstance(v, str))
    else:
        out.update(content.split())
    return out
