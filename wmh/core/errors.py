"""The exception tree. Every error wmh raises on purpose is a ``WmhError``.

    WmhError                      one line for the user: what is wrong and what to do
    ├── UserInputError            the caller's mistake (bad flag, bad name, bad file)
    │   ├── TraceFileError        a trace file that yields nothing usable
    │   ├── InvalidNameError      a model name outside the safe pattern
    │   ├── InvalidActionError    an action the world model cannot take (no name, bad JSON)
    │   └── InvalidToolsError     tools a session declares that cannot be used (no name, bad schema)
    ├── NotFoundError             a model or session that does not exist
    ├── ModelFormatError          a saved model that this code cannot read (newer schema, corrupt)
    └── SimulatorError            a failure of ours while answering a step

One bad item (a broken trace line, a failed step in an eval) is data, not an exception: it is
recorded as a ``Problem`` and counted. Exceptions are for failures of the whole operation.
"""

from __future__ import annotations


class WmhError(Exception):
    """Root of wmh's errors. ``str(err)`` is one line fit to print to a user."""


class UserInputError(WmhError):
    """The caller asked for something wrong; the message says what to do instead."""


class TraceFileError(UserInputError):
    """A trace file is missing, unreadable, or has no usable step."""


class InvalidNameError(UserInputError):
    """A world-model name or session id outside the safe pattern."""


class InvalidActionError(UserInputError):
    """An action that cannot be stepped (a tool call with no name, arguments that are not an object)."""


class InvalidToolsError(UserInputError):
    """Tool definitions a session declares that cannot be used (no name, parameters not JSON Schema)."""


class NotFoundError(WmhError):
    """A named world model or session that does not exist."""


class ModelFormatError(WmhError):
    """A saved world model that this version of wmh cannot read."""


class SimulatorError(WmhError):
    """wmh itself failed to answer a step."""
