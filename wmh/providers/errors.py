"""Provider errors, under wmh's one tree (``wmh.core.errors``).

    WmhError
    ├── UserInputError
    │   ├── MissingCredentialsError   a provider's env variable is not set (the message names it)
    │   ├── MissingSDKError           a provider's SDK is not installed (the message names the command)
    │   └── UnknownProviderError      a provider name the registry does not know
    └── SimulatorError
        └── ProviderError             a model call failed (status, retryable, retry_after)
            ├── ProviderTimeoutError  the call ran past its timeout (retryable)
            ├── RetriesExhaustedError the wrapper gave up after its last attempt
            ├── ReplayMissError       replay-only cache mode met a request it has no answer for
            └── ScriptExhaustedError  the scripted test double ran out of replies

A failed call for one step is data for the caller (the engine turns it into an error observation);
these are exceptions because one call is the whole operation at this layer.
"""

from __future__ import annotations

from wmh.core.errors import SimulatorError, UserInputError


class MissingCredentialsError(UserInputError):
    """A provider needs an environment variable that is not set."""

    def __init__(self, provider: str, variable: str, hint: str = "") -> None:
        self.provider = provider
        self.variable = variable
        tail = f" ({hint})" if hint else ""
        super().__init__(f"{provider}: set {variable}{tail}")


class MissingSDKError(UserInputError):
    """A provider's SDK cannot be imported."""


class UnknownProviderError(UserInputError):
    """A provider name that is not registered."""


class ProviderError(SimulatorError):
    """A model call failed. ``retryable`` says whether trying again may help."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


class ProviderTimeoutError(ProviderError):
    """The call did not finish in time."""


class RetriesExhaustedError(ProviderError):
    """Every attempt failed with a retryable error; the message carries the last one."""


class ReplayMissError(ProviderError):
    """Replay-only cache mode and no recorded response for this request."""


class ScriptExhaustedError(ProviderError):
    """The scripted provider was asked for more replies than its script holds."""
