"""``python -m bench NAME [ARGS]``: run one benchmark; each is a module with ``main(argv)``."""

from __future__ import annotations

import importlib
import sys

from wmh.core.errors import UserInputError

BENCHMARKS = {
    "fidelity": "bench.fidelity",
    "gepa": "bench.gepa",
    "llm": "bench.llm",
    "perf": "bench.perf",
    "serve": "bench.serve",
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in BENCHMARKS:
        print(f"usage: python -m bench {{{','.join(BENCHMARKS)}}} [ARGS]", file=sys.stderr)
        return 2
    module = importlib.import_module(BENCHMARKS[args[0]])
    try:
        module.main(args[1:])
    except UserInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
