"""The offline engine: a simulator of a tool environment learned from recorded traces, with no LLM.

    engine = fit_offline(train_episodes, OfflineConfig())   # learning: ``offline_fit``
    obs = engine.answer(state, action)          # pure: same state and action, same answer
    engine.save(path); engine = load_offline(path)   # the index is memory-mapped on load
    engine.with_config(cfg)                     # same learned engine, other thresholds (no refit)

Strategies (``offline_strategies``), tried in ``OfflineConfig.strategy_order`` (first answer wins;
``Observation.source`` names it):

- derive: the session's latest object this call reads (a read after a mutation sees the mutation);
- session: the same call earlier in this session;
- replay: the recorded answer to the same call, the one whose preceding calls match best;
- function: a pure function of an argument (arithmetic, formatted as recorded; or its error);
- constant: a tool that always answers the same;
- shape_error / state_error / sticky_error / novel_error: the tool's recorded failure, when an
  argument has a form that fails (digits masked one by one, so a short id is another form than a long
  one), when the object the call names was last read in a state calls on it failed in (on several
  objects, e.g. already cancelled), when an earlier error in the session still applies, or when a
  value was never shown anywhere (not-found errors, with the value carried in);
- numeric_check: the tool's failure showing two numbers (e.g. a sum paid against a total), when the
  numbers a call pays differ from the total a learned linear sum computes from the arguments and the
  objects the session read (joined to the call's list items); when they agree, the call is taken to
  succeed and later strategies answer it. Silent where a number the rule needs is missing, or where an
  argument number that never varied in train differs;
- template: an object patched from the session's object (``patch``) or built from the arguments,
  fields joined from what the session read (``template``);
- collect: a search answer listing every object recorded elsewhere (or read in the session) that
  agrees with the arguments on the fields the tool's lists always matched, where calibration found
  that better than the most common answer;
- chain: a search answer listing chains of known objects (``offline_chain``: connecting flights), or
  an empty list where none can be made, each where calibration found that better;
- analogy: the nearest recorded call of the tool (arguments weighted by how much they decide the
  answer), new argument values carried into its answer, where calibration found analogies this
  close beat the tool's most common answer of the predicted outcome, which is the last resort.

A tool no train call used (``offline_novel``) answers as the known tool with the nearest name, or
fails as the tools train saw once did, or as an unknown tool: whichever the tools train called in one
trace only make likelier.

A guessed object answer (analogy, most common) takes the fields its owner rule copies from the
session's object listing the argument value (whose record it is), and the texts the tool spells from
its arguments' words. Whether the nearest calls or the tool's error rate decide failure is chosen per
tool on calibration calls.

What each strategy uses is learned per tool by ``offline_knowledge.learn``; nothing here knows a
tool, a dataset or a field by name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import orjson

from wmh.core.errors import ModelFormatError
from wmh.core.jsonutil import canonical
from wmh.core.types import Action, ActionKind, Episode, Observation, SessionState
from wmh.engine.offline_chain import ChainObjects, ChainRule
from wmh.engine.offline_config import OfflineConfig
from wmh.engine.offline_cutoff import clock
from wmh.engine.offline_effects import apply_effects
from wmh.engine.offline_json import Json, arg_text, as_dict, dumps, objects_in, parsed
from wmh.engine.offline_knowledge import ToolKnowledge, value_hash
from wmh.engine.offline_lines import carry
from wmh.engine.offline_novel import NovelToolRule, novel_answer
from wmh.engine.offline_state import SessionView, context_tokens, with_call_args
from wmh.engine.offline_strategies import STRATEGY_FUNCTIONS, Query, most_common
from wmh.retrieval.embed import HashingEmbedder
from wmh.retrieval.index import VectorIndex

SCHEMA_VERSION = 1
MAX_ROW_RECORDS = 16


class OfflineEngine:
    name = "offline"

    def __init__(
        self,
        config: OfflineConfig,
        knowledge: dict[str, ToolKnowledge],
        records: dict[str, list],
        traces: list[str],
        index: VectorIndex,
        row_ptr: np.ndarray,
        row_recs: np.ndarray,
        known: np.ndarray,
        novel: NovelToolRule | None = None,
    ) -> None:
        self.config = config
        self.novel = novel or NovelToolRule()
        self.knowledge = knowledge
        self.tools = sorted(knowledge)
        self.tool_ids = {t: i for i, t in enumerate(self.tools)}
        self.records = records
        self.rec_tool = np.asarray(records["tool"], dtype=np.int32)
        self.rec_cargs: list[str] = records["cargs"]
        self.rec_content: list[str] = records["content"]
        self.rec_err = np.asarray(records["err"], dtype=bool)
        self.rec_trace = np.asarray(records["trace"], dtype=np.int64)
        self.rec_pos = np.asarray(records["pos"], dtype=np.int64)
        self.traces = traces
        self.trace_ids = {t: i for i, t in enumerate(traces)}
        self.index = index
        self.row_ptr = row_ptr
        self.row_recs = row_recs
        self.known_hashes = known
        self.embedder = HashingEmbedder(dim=index.dim)
        self.exact = self._exact_rows()
        self._thresholds: dict[tuple[str, str], float] = {}
        self._fallback_traces: dict[str, dict[str, set[int]]] = {}
        self._clocks: dict[int, str] = {}
        self._pools: dict[str, dict[str, list[tuple[int, dict[str, Json]]]]] = {}
        self._chain_objects: dict[str, ChainObjects] = {}
        self._holders: dict[str, dict[str, list[tuple[int, dict[str, Json]]]]] = {}
        self._entities: dict[tuple[str, tuple[str, ...]], dict[str, list[tuple[int, str]]]] = {}

    # ---- the Engine protocol -----------------------------------------------------------------

    def answer(self, state: SessionState, action: Action, *, exclude_trace: str = "") -> Observation:
        if action.kind is ActionKind.MESSAGE:
            return Observation(content="", source="message")
        knowledge = self.knowledge.get(action.name)
        if knowledge is None:
            session = (turn.observation.content for turn in reversed(state.history))
            offered = any(tool.name == action.name for tool in state.tools)
            obs = novel_answer(
                self.novel, action.name, self.knowledge, session, self.config.min_support, offered=offered
            )
            if obs is not None:
                return obs
            known = f"; known tools: {', '.join(self.tools[:20])}" if self.tools else ""
            return Observation(
                content=f"Error: unknown tool {action.name!r}{known}", is_error=True, source="unknown-tool"
            )
        q = self.query(state, action, exclude=self.trace_ids.get(exclude_trace, -1) if exclude_trace else -1)
        return _with_effects(q, _carried_lines(q, self._strategies_answer(q)))

    def _strategies_answer(self, q: Query) -> Observation:
        for name in self.config.order_for(q.tool):
            strategy = STRATEGY_FUNCTIONS.get(name)
            obs = strategy(q) if strategy is not None else None
            if obs is not None:
                return obs
        return most_common(q)

    def query(
        self,
        state: SessionState,
        action: Action,
        *,
        exclude: int = -1,
        exclude_more: frozenset[int] = frozenset(),
    ) -> Query:
        return Query(
            engine=self,
            view=SessionView.of(state),
            tool=action.name,
            args=dict(action.arguments),
            cargs=canonical(action.arguments),
            knowledge=self.knowledge[action.name],
            exclude=exclude,
            cfg=self.config,
            exclude_more=exclude_more,
        )

    def analogy_threshold(self, tool: str, outcome: str) -> float:
        """Least similarity at which an analogy answers (learned in calibration), cached per config."""
        key = (tool, outcome)
        if key not in self._thresholds:
            calibration = self.knowledge[tool].calibration[outcome]
            self._thresholds[key] = calibration.min_similarity(
                self.config.analogy_margin, self.config.calibration_min_calls
            )
        return self._thresholds[key]

    def with_config(self, config: OfflineConfig, episodes: Sequence[Episode] | None = None) -> OfflineEngine:
        """The same learned engine answering under another config (``embed_dim`` must match).

        ``episodes``: the train the engine was fitted on (same traces, same order). Given, and when
        a field calibration reads changed (``CALIBRATION_FIELDS``), analogies are recalibrated under
        ``config``, so the engine answers as one fitted under ``config`` would; without them the
        original calibration is kept (cheaper, slightly different where analogies answer).
        """
        if config.embed_dim != self.index.dim:
            raise ValueError(f"embed_dim {config.embed_dim} differs from the index's {self.index.dim}; refit")
        recalibrate = episodes is not None and config.calibration_key() != self.config.calibration_key()
        engine = OfflineEngine(
            config,
            _uncalibrated(self.knowledge) if recalibrate else self.knowledge,
            self.records,
            self.traces,
            self.index,
            self.row_ptr,
            self.row_recs,
            self.known_hashes,
            self.novel,
        )
        if episodes is None or not recalibrate:
            return engine
        if [ep.trace_id for ep in episodes] != self.traces:
            raise ValueError("recalibrating needs the episodes the engine was fitted on, in order; refit")
        from wmh.engine.offline_fit import calibrate  # offline_fit imports this module

        return calibrate(engine, episodes)

    # ---- what strategies ask of the store ------------------------------------------------------

    def known(self, value: str) -> bool:
        """Whether a successful recorded call or answer contains ``value``."""
        h = np.uint64(value_hash(value))
        i = int(np.searchsorted(self.known_hashes, h))
        return i < len(self.known_hashes) and self.known_hashes[i] == h

    def clock(self, min_calls: int) -> str:
        """The environment's "now" as the cutoffs of all tools with ``min_calls`` behind them bound it."""
        found = self._clocks.get(min_calls)
        if found is None:
            found = self._clocks[min_calls] = clock(
                r for k in self.knowledge.values() for r in k.cutoffs if r.calls >= min_calls
            )
        return found

    def shown_elsewhere(self, tool: str, content: str, exclude: int) -> bool:
        """Whether a trace other than ``exclude`` recorded ``content`` for ``tool`` (leak-free fallbacks)."""
        if exclude < 0:
            return True
        traces = self._answer_traces(tool).get(content)
        if traces is None:
            recs = np.flatnonzero(self.rec_tool == self.tool_ids[tool]).tolist()
            traces = {int(self.rec_trace[r]) for r in recs if self.rec_content[r] == content}
        return bool(traces - {exclude})

    def _answer_traces(self, tool: str) -> dict[str, set[int]]:
        """For the tool's fallback answers (most common overall, successful, failed): their traces, up to 2."""
        if tool not in self._fallback_traces:
            k = self.knowledge[tool]
            wanted: dict[str, set[int]] = {c: set() for c in (k.common, k.common_ok, k.common_error) if c}
            for r in np.flatnonzero(self.rec_tool == self.tool_ids[tool]).tolist():
                found = wanted.get(self.rec_content[r])
                if found is not None and len(found) < 2:
                    found.add(int(self.rec_trace[r]))
            self._fallback_traces[tool] = wanted
        return self._fallback_traces[tool]

    def collect_pool(self, tool: str) -> dict[str, list[tuple[int, dict[str, Json]]]]:
        """For the tool's collect rule: every object any successful recorded answer showed that the rule can
        list (``CollectRule.lists``), with its trace, by the values of the fields the rule matches (built on
        first use)."""
        if tool not in self._pools:
            rule = self.knowledge[tool].collect
            pool: dict[str, list[tuple[int, dict[str, Json]]]] = {}
            if rule is not None:
                fields = [f for _, f in rule.match]
                for rec in np.flatnonzero(~self.rec_err).tolist():
                    content = self.rec_content[rec]
                    if not content.startswith(("{", "[")) or f'"{fields[0]}"' not in content:
                        continue
                    ok, value = parsed(content)
                    if not ok:
                        continue
                    args = self.rec_args(rec)
                    for obj in objects_in(value):
                        if rule.lists(obj):
                            key = canonical([obj[f] for f in fields])
                            pool.setdefault(key, []).append(
                                (int(self.rec_trace[rec]), with_call_args(obj, args))
                            )
            self._pools[tool] = pool
        return self._pools[tool]

    def chain_objects(self, tool: str, rule: ChainRule) -> ChainObjects:
        """For the tool's chain rule: every object a successful recorded answer showed that a chain may
        hold, with its traces (built on first use)."""
        if tool not in self._chain_objects:
            field = f'"{rule.item_keys[0]}"'

            def shown() -> Iterator[tuple[dict[str, Json], int]]:
                for rec in np.flatnonzero(~self.rec_err).tolist():
                    content = self.rec_content[rec]
                    if field not in content:
                        continue
                    ok, value = parsed(content)
                    if ok:
                        yield from ((obj, int(self.rec_trace[rec])) for obj in objects_in(value))

            self._chain_objects[tool] = ChainObjects(rule, shown())
        return self._chain_objects[tool]

    def holders(self, field: str) -> dict[str, list[tuple[int, dict[str, Json]]]]:
        """Every object a successful recorded answer showed holding ``field``, with its trace, by each of
        its string values (built on first use): the recorded world, for what the session has not read.
        An object takes the call's scalar arguments it does not hold itself: a search for a day answers
        objects of that day."""
        if field not in self._holders:
            pool: dict[str, list[tuple[int, dict[str, Json]]]] = {}
            quoted = orjson.dumps(field).decode()
            for rec in np.flatnonzero(~self.rec_err).tolist():
                content = self.rec_content[rec]
                if quoted not in content:
                    continue
                ok, value = parsed(content)
                args = self.rec_args(rec)
                for obj in objects_in(value) if ok else ():
                    if field in obj:
                        full = with_call_args(obj, args)
                        for v in {v for v in obj.values() if isinstance(v, str)}:
                            pool.setdefault(v, []).append((int(self.rec_trace[rec]), full))
            self._holders[field] = pool
        return self._holders[field]

    def recorded_entity(
        self, key: str, value: Json, sources: Sequence[str], exclude: frozenset[int]
    ) -> dict[str, Json] | None:
        """The object with ``key == value`` that successful answers of ``sources`` recorded, the version
        most traces (but ``exclude``) showed: how the recorded world holds an object this session has not
        read. None when no other trace showed it."""
        index = self._entity_index(key, tuple(sources))
        versions = Counter(c for trace, c in index.get(canonical(value), ()) if trace not in exclude)
        if not versions:
            return None
        best = min(versions.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        return as_dict(best)

    def _entity_index(self, key: str, sources: tuple[str, ...]) -> dict[str, list[tuple[int, str]]]:
        """(trace, canonical object) of every successful answer of ``sources`` that is an object holding
        ``key``, by the canonical value under it (built on first use)."""
        if (key, sources) not in self._entities:
            index: dict[str, list[tuple[int, str]]] = {}
            ids = [self.tool_ids[t] for t in sources if t in self.tool_ids]
            quoted = orjson.dumps(key).decode()
            for rec in np.flatnonzero(np.isin(self.rec_tool, ids) & ~self.rec_err).tolist():
                content = self.rec_content[rec]
                obj = as_dict(content) if quoted in content else None
                if obj is not None and key in obj:
                    index.setdefault(canonical(obj[key]), []).append(
                        (int(self.rec_trace[rec]), canonical(obj))
                    )
            self._entities[(key, sources)] = index
        return self._entities[(key, sources)]

    def rec_args(self, rec: int) -> dict[str, Json]:
        ok, value = parsed(self.rec_cargs[rec])
        return value if ok and isinstance(value, dict) else {}

    def rec_context(self, rec: int, turns: int) -> set[str]:
        lo = rec - int(self.rec_pos[rec])
        start = max(lo, rec - turns)
        return context_tokens([(self.tools[self.rec_tool[r]], self.rec_args(r)) for r in range(start, rec)])

    def replay_record(self, q: Query) -> int | None:
        row = self.exact.get((q.tool, q.cargs))
        if row is None:
            return None
        recs = [
            int(r)
            for r in self.row_recs[self.row_ptr[row] : self.row_ptr[row + 1]]
            if self.rec_trace[r] != q.exclude and int(self.rec_trace[r]) not in q.exclude_more
        ]
        if not recs:
            return None
        if len({self.rec_content[r] for r in recs}) == 1:
            return recs[0]
        ctx = q.view.context_tokens(q.cfg.context_turns)
        return min(recs, key=lambda r: (-_jaccard(ctx, self.rec_context(r, q.cfg.context_turns)), r))

    def neighbors(self, q: Query) -> list[tuple[float, float, int]]:
        tool_id = self.tool_ids[q.tool]
        query = arg_vectors(self.embedder, [q.args], [q.knowledge.arg_weights])[0]
        more = np.fromiter(q.exclude_more, dtype=np.int64) if q.exclude_more else None
        rows, sims = self.index.search(
            query, q.cfg.k, group=tool_id, exclude_trace=q.exclude, exclude_traces=more
        )
        ctx = q.view.context_tokens(q.cfg.context_turns) if q.cfg.context_weight else set()
        found = []
        for row, sim in zip(rows.tolist(), sims.tolist(), strict=True):
            if row == q.skip_row:
                continue
            recs = self.row_recs[self.row_ptr[row] : self.row_ptr[row + 1]][:MAX_ROW_RECORDS]
            for rec in recs.tolist():
                if self.rec_trace[rec] == q.exclude or (
                    more is not None and int(self.rec_trace[rec]) in q.exclude_more
                ):
                    continue
                bonus = (
                    q.cfg.context_weight * _jaccard(ctx, self.rec_context(rec, q.cfg.context_turns))
                    if ctx
                    else 0.0
                )
                found.append((sim + bonus, sim, rec))
        found.sort(key=lambda t: (-t[0], t[2]))
        return found

    def _exact_rows(self) -> dict[tuple[str, str], int]:
        exact = {}
        for row in range(len(self.index)):
            rec = int(self.row_recs[self.row_ptr[row]])
            exact[(self.tools[self.rec_tool[rec]], self.rec_cargs[rec])] = row
        return exact

    # ---- persistence ----------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "schema_version": SCHEMA_VERSION,
            "config": self.config.model_dump(mode="json"),
            "knowledge": {t: k.model_dump(mode="json") for t, k in self.knowledge.items()},
            "traces": self.traces,
            "novel_tools": self.novel.model_dump(mode="json"),
        }
        (directory / "engine.json").write_bytes(orjson.dumps(meta))
        (directory / "records.json").write_bytes(orjson.dumps(self.records))
        self.index.save(directory / "index")
        np.save(directory / "row_ptr.npy", np.asarray(self.row_ptr))
        np.save(directory / "row_recs.npy", np.asarray(self.row_recs))
        np.save(directory / "known.npy", np.asarray(self.known_hashes))


def load_offline(directory: Path) -> OfflineEngine:
    """An engine saved by ``OfflineEngine.save``; its arrays are memory-mapped."""
    directory = Path(directory)
    try:
        meta = orjson.loads((directory / "engine.json").read_bytes())
    except (OSError, orjson.JSONDecodeError) as e:
        raise ModelFormatError(
            f"{directory} holds no readable offline engine ({e}); rebuild with `wmh build`"
        ) from e
    version = meta.get("schema_version", 0)
    if version > SCHEMA_VERSION:
        raise ModelFormatError(
            f"{directory} was saved by a newer wmh (engine schema {version} > {SCHEMA_VERSION}); upgrade wmh"
        )
    return OfflineEngine(
        OfflineConfig.model_validate(meta["config"]),
        {t: ToolKnowledge.model_validate(k) for t, k in meta["knowledge"].items()},
        orjson.loads((directory / "records.json").read_bytes()),
        list(meta["traces"]),
        VectorIndex.load(directory / "index"),
        np.load(directory / "row_ptr.npy", mmap_mode="r"),
        np.load(directory / "row_recs.npy", mmap_mode="r"),
        np.load(directory / "known.npy", mmap_mode="r"),
        NovelToolRule.model_validate(meta.get("novel_tools") or {}),  # absent from models saved before it
    )


def _carried_lines(q: Query, obs: Observation) -> Observation:
    """A successful text answer with the labeled lines its tool carries set from the session."""
    labels = [label for label, n in q.knowledge.carried if n >= q.cfg.min_support]
    if obs.is_error or not labels:
        return obs
    content = carry(obs.content, labels, (c.observation.content for c in reversed(q.view.calls)))
    return obs if content == obs.content else obs.model_copy(update={"content": content})


def _with_effects(q: Query, obs: Observation) -> Observation:
    """A successful object answer with what the session's writes added to its lists (offline_effects)."""
    rules = [r for r in q.knowledge.effects if r.hits >= q.cfg.min_support]
    if obs.is_error or not rules or as_dict(obs.content) is None:
        return obs
    answer = orjson.loads(obs.content)  # a fresh copy: parsed answers are cached and shared
    writes = [(c.tool, c.args, c.observation) for c in q.view.calls]
    if not apply_effects(answer, q.args, rules, writes):
        return obs
    return obs.model_copy(update={"content": dumps(answer, like=obs.content)})


def _uncalibrated(knowledge: dict[str, ToolKnowledge]) -> dict[str, ToolKnowledge]:
    """A copy of ``knowledge`` with what calibration fills reset to a fresh fit's values."""
    fields = ToolKnowledge.model_fields
    reset = {
        f: fields[f].get_default(call_default_factory=True)
        for f in ("calibration", "vote_hits", "prior_hits")
    }
    out = {}
    for tool, k in knowledge.items():
        update = dict(reset)
        if k.collect is not None:
            update["collect"] = k.collect.model_copy(
                update={"gain": type(k.collect).model_fields["gain"].get_default(call_default_factory=True)}
            )
        if k.chain is not None:
            update["chain"] = k.chain.model_copy(update={"gain": 0.0, "empty_gain": 0.0, "tested": 0})
        out[tool] = k.model_copy(update=update)
    return out


def fit_offline(episodes: Sequence[Episode], config: OfflineConfig | None = None) -> OfflineEngine:
    """Learn an offline engine from recorded episodes (the train split); see ``offline_fit``."""
    from wmh.engine.offline_fit import fit

    return fit(episodes, config or OfflineConfig())


def arg_vectors(
    embedder: HashingEmbedder, calls: Sequence[dict[str, Json]], weights: Sequence[dict[str, float]]
) -> np.ndarray:
    """One unit vector per call: the sum of its arguments' embeddings, each weighted by how much that
    argument decides the tool's answer (unweighted when nothing was learned)."""
    if len(calls) == 1:  # one query: no bookkeeping
        args, w = calls[0], weights[0]
        if not args:
            return np.zeros((1, embedder.dim), dtype=np.float32)
        parts = embedder.embed([arg_text({n: v}) for n, v in args.items()])
        vec = (
            parts * np.asarray([w.get(n, 1.0) if w else 1.0 for n in args], dtype=np.float32)[:, None]
        ).sum(0)
        norm = float(np.linalg.norm(vec))
        return (vec / norm if norm > 0 else vec)[None].astype(np.float32)
    texts: list[str] = []
    owner: list[int] = []
    scale: list[float] = []
    for i, (args, w) in enumerate(zip(calls, weights, strict=True)):
        for name, value in args.items():
            texts.append(arg_text({name: value}))
            owner.append(i)
            scale.append(w.get(name, 1.0) if w else 1.0)
    out = np.zeros((len(calls), embedder.dim), dtype=np.float32)
    if texts:
        unique = {t: i for i, t in enumerate(dict.fromkeys(texts))}  # many calls share a value
        vectors = embedder.embed(list(unique))
        parts = vectors[[unique[t] for t in texts]] * np.asarray(scale, dtype=np.float32)[:, None]
        np.add.at(out, np.asarray(owner), parts)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def _jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
