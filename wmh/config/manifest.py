"""The manifest saved with every world model: what it was built from and how well it did."""

from __future__ import annotations

from pydantic import Field

from wmh.core.errors import ModelFormatError
from wmh.core.types import Frozen
from wmh.eval.grade import Score

SCHEMA_VERSION = 1


class SourceInfo(Frozen):
    path: str
    sha256: str
    spans: int = 0
    steps: int = 0
    problems: int = 0


class SplitInfo(Frozen):
    group_by: str | None = None
    holdout: float = 0.2
    groups_total: int = 0
    groups_heldout: int = 0
    train_traces: int = 0
    heldout_traces: int = 0
    train_steps: int = 0
    heldout_steps: int = 0


class Metrics(Frozen):
    heldout: Score = Field(default_factory=Score, description="Held-out fidelity of this model's engine")
    heldout_seen: Score = Field(default_factory=Score)
    heldout_unseen: Score = Field(default_factory=Score)
    baseline: Score = Field(default_factory=Score, description="Replay-else-most-common on the same steps")


class OptimizationInfo(Frozen):
    """What the GEPA search did; the full result is ``optimize.json`` beside the manifest."""

    reflector: str
    budget: int
    rollouts: int = Field(description="Metric calls spent")
    candidates: int
    frontier: int = Field(description="Candidates on the Pareto frontier")
    val_base: float
    val_best: float
    heldout_base: float | None = None
    heldout_best: float | None = None
    improved: bool = False
    guard: str = Field(default="", description="Why the overfit guard kept or rejected the search's best")


class Manifest(Frozen):
    schema_version: int = SCHEMA_VERSION
    name: str
    built_at: str = Field(description="ISO 8601 UTC time of the build")
    wmh_version: str
    engine: str = "offline"
    provider: str | None = None
    model: str | None = None
    sources: tuple[SourceInfo, ...] = ()
    spans: int = 0
    bad_items: int = 0
    traces: int = 0
    steps: int = 0
    tools: tuple[str, ...] = ()
    split: SplitInfo = Field(default_factory=SplitInfo)
    metrics: Metrics = Field(default_factory=Metrics)
    optimization: OptimizationInfo | None = None
    prompt_optimization: OptimizationInfo | None = Field(
        default=None, description="The environment-prompt search, for llm and hybrid engines"
    )


def parse_manifest(raw: bytes, where: str) -> Manifest:
    """Read a manifest, refusing versions newer than this code and migrating older ones."""
    import orjson

    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ModelFormatError(
            f"{where}: manifest is not JSON ({exc}); rebuild the model with `wmh build`"
        ) from exc
    version = data.get("schema_version", 0) if isinstance(data, dict) else 0
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise ModelFormatError(
            f"{where}: model schema version {version} is newer than this wmh understands "
            f"({SCHEMA_VERSION}); upgrade wmh"
        )
    if version < 1:
        raise ModelFormatError(f"{where}: not a wmh model manifest; rebuild it with `wmh build`")
    return Manifest.model_validate(data)
