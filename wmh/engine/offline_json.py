"""JSON helpers the offline engine shares: parsing with a cache, scalar leaves, value substitution, safe arithmetic."""

from __future__ import annotations

import ast
import hashlib
import math
import operator
import re
from collections.abc import Callable, Iterator
from functools import lru_cache

from pydantic import JsonValue

from wmh.core.jsonutil import canonical, parse_json
from wmh.core.types import Episode

Json = JsonValue


@lru_cache(maxsize=4096)
def parsed(text: str) -> tuple[bool, Json]:
    """``parse_json`` with a cache: session histories parse the same answers again and again."""
    return parse_json(text)


def as_dict(text: str) -> dict[str, Json] | None:
    ok, value = parsed(text)
    return value if ok and isinstance(value, dict) else None


def scalar(value: Json) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def leaves(value: Json, path: str = "") -> Iterator[tuple[str, Json]]:
    """(path, scalar) pairs; list indices are kept (``flights.0.date``)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, f"{path}.{i}" if path else str(i))
    else:
        yield path, value


def strings(value: Json) -> Iterator[str]:
    """Every string scalar inside ``value`` (keys excluded)."""
    for _, v in leaves(value):
        if isinstance(v, str):
            yield v


def objects_in(value: Json) -> Iterator[dict[str, Json]]:
    """Every object inside ``value``, outermost first."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from objects_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from objects_in(v)


def earlier_objects(episode: Episode, pos: int, lookback: int | None = None) -> list[dict[str, Json]]:
    """Every object nested in the episode's successful answers before step ``pos`` (the last
    ``lookback`` steps, if given), latest first."""
    out: list[dict[str, Json]] = []
    start = 0 if lookback is None else max(0, pos - lookback)
    for step in reversed(episode.steps[start:pos]):
        if not step.observation.is_error:
            ok, value = parsed(step.observation.content)
            if ok:
                out.extend(objects_in(value))
    return out


def key_of(value: Json) -> str:
    return canonical(value)


_NONWORD = re.compile(r"\W+")


def arg_text(arguments: dict[str, Json]) -> str:
    """Arguments as words for the embedder: a ``key_value`` word per leaf (so equal values under the
    same key match as a whole), then the value's own words (so near values match in part)."""
    words = []
    for path, v in leaves(arguments):
        value = _NONWORD.sub("_", str(v)).strip("_")
        words.append(f"{path.rsplit('.', 1)[-1]}_{value} {str(v)[:200]}")
    return " ".join(words)


def substitution_pairs(old: dict[str, Json], new: dict[str, Json]) -> list[tuple[Json, Json, str]]:
    """(old value, new value, leaf key) for every argument leaf whose value changed, longest first."""
    new_leaves = dict(leaves(new))
    pairs = []
    for path, v_old in leaves(old):
        if path in new_leaves and new_leaves[path] != v_old and scalar(new_leaves[path]):
            pairs.append((v_old, new_leaves[path], path.rsplit(".", 1)[-1]))
    pairs.sort(key=lambda p: -len(str(p[0])))
    return pairs


def substitute(content: str, pairs: list[tuple[Json, Json, str]], min_len: int) -> str:
    """Carry new argument values into a recorded answer that echoed the old ones."""
    if not pairs:
        return content
    ok, value = parsed(content)
    if ok and isinstance(value, dict | list):
        return _dump_like(content, _sub_json(value, pairs, min_len, ""))
    return _sub_text(content, pairs, min_len)


def _sub_json(value: Json, pairs: list[tuple[Json, Json, str]], min_len: int, key: str) -> Json:
    if isinstance(value, dict):
        return {k: _sub_json(v, pairs, min_len, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_sub_json(v, pairs, min_len, key) for v in value]
    for old, new, arg_key in pairs:
        if isinstance(value, bool) or isinstance(old, bool):
            continue
        if value == old and type(value) is type(old) and (isinstance(old, str) or arg_key == key):
            return new
    if isinstance(value, str):
        return _sub_text(value, pairs, min_len)
    return value


def _sub_text(text: str, pairs: list[tuple[Json, Json, str]], min_len: int) -> str:
    for old, new, _ in pairs:
        if isinstance(old, bool) or old is None or isinstance(old, dict | list):
            continue
        o = str(old)
        if len(o) < min_len and not isinstance(old, int | float):
            continue
        text = _replace_whole(text, o, str(new))
    return text


def _replace_whole(text: str, old: str, new: str) -> str:
    """``old`` replaced by ``new`` where it stands alone (not inside a longer word or number)."""
    out, i, n = [], 0, len(old)
    while (j := text.find(old, i)) >= 0:
        before = text[j - 1] if j else ""
        after = text[j + n] if j + n < len(text) else ""
        if before.isalnum() or before in ("_", ".") or after.isalnum() or after == "_":
            out.append(text[i : j + 1])
            i = j + 1
            continue
        out.append(text[i:j])
        out.append(new)
        i = j + n
    out.append(text[i:])
    return "".join(out)


def _dump_like(original: str, value: Json) -> str:
    """JSON text in the recorded answer's spacing style (compact or ``", "``/``": "``)."""
    import json

    compact = '":' in original and '": ' not in original
    seps = (",", ":") if compact else (", ", ": ")
    return json.dumps(value, ensure_ascii=False, separators=seps)


def dumps(value: Json, like: str = "") -> str:
    return _dump_like(like, value)


# ---- safe arithmetic -------------------------------------------------------------------------

_BIN: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}


def safe_eval(expression: str) -> float | int | None:
    """The value of an arithmetic expression (numbers, + - * / // % **, parentheses), else None."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
        value = _eval(tree.body)
    except (SyntaxError, ValueError, TypeError, ZeroDivisionError, OverflowError, RecursionError):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _eval(node: ast.AST) -> float | int:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 64:
            raise ValueError("exponent too large")
        return _BIN[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    raise ValueError("not arithmetic")


# How a tool writes a computed number, most faithful first: among formats that fit train equally well,
# the earliest wins ("g" keeps six digits, so it comes last: it agrees with the others on small numbers).
FORMATTERS = {
    "round2": lambda x: str(round(float(x), 2)),
    "round2_int": lambda x: str(round(x, 2)),  # Python's own: an int stays an int
    "int_or_round2": lambda x: str(int(x)) if float(x).is_integer() else str(round(float(x), 2)),
    "repr": lambda x: repr(x),
    "float": lambda x: repr(float(x)),
    "g": lambda x: format(x, "g"),
}
FORMAT_RANK = {name: i for i, name in enumerate(FORMATTERS)}


def like_shape(value: str, seed: str) -> str:
    """A string of ``value``'s shape (each upper-case letter, lower-case letter and digit replaced by one
    of its class, other characters kept), chosen by ``seed``: the same seed, the same string."""
    digest = hashlib.blake2b(seed.encode(), digest_size=64).digest()
    out = []
    for i, c in enumerate(value):
        pick = digest[i % len(digest)] + i // len(digest)
        if c.isascii() and c.isupper():
            out.append(chr(ord("A") + pick % 26))
        elif c.isascii() and c.islower():
            out.append(chr(ord("a") + pick % 26))
        elif c.isascii() and c.isdigit():
            out.append(chr(ord("0") + pick % 10))
        else:
            out.append(c)
    return "".join(out)
