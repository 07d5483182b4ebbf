"""Convert tau-bench trajectory files into the same OTel GenAI traces the scripted agent produces.

A tau-bench results file is a JSON array of ``{task_id, reward, info, traj, trial}`` where ``traj`` is
OpenAI chat messages. Each entry becomes one trace: ``invoke_agent`` with ``tau.task_id`` and
``tau.trial``, a ``chat`` span per assistant message, an ``execute_tool`` span per tool call with the
matching ``role=tool`` message as its result (an error when the text starts with "Error"). Ids come
from the model name, task id and trial, so converting twice gives the same bytes.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from genai_tracing import ChatModel, Recorder
from tools_schema import TOOL_DEFINITIONS


class InputError(Exception):
    """The input file is missing or is not a tau-bench trajectory file; the message says which."""


@dataclass(frozen=True)
class Converted:
    recorder: Recorder
    traces: int
    tool_calls: int
    missing_observations: int


def load_trajectories(path: Path) -> list[dict]:
    """The entries of a tau-bench results file, checked for the fields the conversion needs."""
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON ({exc})") from None
    expected = "expected a JSON array of {task_id, trial, traj}"
    if not isinstance(data, list):
        raise InputError(f"{path} is not a tau-bench trajectory file: {expected}")
    for index, entry in enumerate(data):
        if not (isinstance(entry, dict) and "task_id" in entry and isinstance(entry.get("traj"), list)):
            raise InputError(f"{path}: entry {index} is not a trajectory: {expected}")
    return data


def model_and_domain(path: Path) -> tuple[str, str]:
    """``gpt-4o-airline.json`` → ("gpt-4o", "airline")."""
    stem = path.stem
    head, _, domain = stem.rpartition("-")
    return (head or stem), (domain if head else "unknown")


def provider_of(model: str) -> str:
    """The ``gen_ai.provider.name`` for a model name, as far as the name tells."""
    lowered = model.lower()
    if lowered.startswith(("gpt", "o1", "o3", "o4")):
        return "openai"
    if "claude" in lowered or "sonnet" in lowered or "haiku" in lowered or "opus" in lowered:
        return "anthropic"
    return "unknown"


def task_label(task_id: object) -> str:
    return f"task-{task_id:03d}" if isinstance(task_id, int) else str(task_id)


def convert(path: Path, model_name: str | None = None) -> Converted:
    """Read a trajectory file and trace every trajectory; nothing is written yet."""
    entries = load_trajectories(path)
    name, domain = model_and_domain(path)
    model = ChatModel(
        name=model_name or name,
        provider=provider_of(model_name or name),
        tool_definitions=TOOL_DEFINITIONS if domain == "airline" else [],
    )
    recorder = Recorder(seed=f"tau-bench/{model.name}/{domain}")
    calls = missing = 0
    for entry in entries:
        c, m = _trace_entry(recorder, model, domain, entry)
        calls, missing = calls + c, missing + m
    return Converted(recorder, len(entries), calls, missing)


def _trace_entry(recorder: Recorder, model: ChatModel, domain: str, entry: dict) -> tuple[int, int]:
    task_id, trial = task_label(entry["task_id"]), int(entry.get("trial") or 0)
    info = entry.get("info")
    task = info.get("task") if isinstance(info, dict) else None
    task = task if isinstance(task, dict) else {}
    attributes: dict = {"tau.domain": domain}
    if isinstance(entry.get("reward"), int | float):
        attributes["tau.reward"] = float(entry["reward"])
    if isinstance(task.get("instruction"), str):
        attributes["tau.instruction"] = task["instruction"]
    if isinstance(task.get("user_id"), str):
        attributes["tau.user_id"] = task["user_id"]
    rng = random.Random(f"{model.name}/{task_id}/{trial}")
    traj = entry["traj"]
    used: set[int] = set()
    calls = missing = 0
    with recorder.run(task_id, trial, attributes) as run:
        history: list[dict] = []
        for position, message in enumerate(traj):
            if not isinstance(message, dict) or "role" not in message:
                continue
            if message["role"] == "assistant":
                run.chat(model, history, message, duration_ms=rng.uniform(400, 2500))
                for call in message.get("tool_calls") or []:
                    observation = _answer(traj, position, call, used)
                    if observation is None:
                        missing += 1
                        continue
                    text = str(observation.get("content") or "")
                    function = call.get("function") or {}
                    run.tool(
                        str(function.get("name")),
                        str(call.get("id")),
                        str(function.get("arguments") or "{}"),
                        text,
                        text.startswith("Error"),
                        duration_ms=rng.uniform(2, 60),
                    )
                    calls += 1
            history.append(message)
    return calls, missing


def _answer(traj: list, position: int, call: dict, used: set[int]) -> dict | None:
    """The first unused tool message after ``position`` answering this call.

    Matched by call id, and by name where the message has one: agents reuse call ids within one
    trajectory (gpt-4o-airline.json does), so an id alone can pick another call's result.
    """
    name = (call.get("function") or {}).get("name")
    for i in range(position + 1, len(traj)):
        m = traj[i]
        if i in used or not isinstance(m, dict) or m.get("role") != "tool":
            continue
        if m.get("tool_call_id") == call.get("id") and m.get("name") in (None, name):
            used.add(i)
            return m
    return None
