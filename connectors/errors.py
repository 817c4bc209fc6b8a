"""The one exception tree of clmsync.

Every error raised on purpose derives from :class:`ClmSyncError` and carries one of two markers:
:class:`TransientError` (trying again later may succeed: throttling, outages, timeouts) or
:class:`TerminalError` (it will fail the same way until someone changes something). Orchestration
retries only what is transient. Context is kept as attributes; the message is built once, in
``__init__``, and is always redacted, so an error can be logged or shown as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.redact import redact


class ClmSyncError(Exception):
    """Root of every error clmsync raises on purpose.

    ``hint`` says, in one sentence, what the user can do about it.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = redact(message)
        self.hint = redact(hint) if hint else None
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class TransientError(Exception):
    """Marker: the same call may succeed later without any change on our side."""


class TerminalError(Exception):
    """Marker: retrying will not help until something is changed."""


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` is marked transient (the predicate orchestration retries on)."""
    return isinstance(exc, TransientError)


# --- configuration -------------------------------------------------------------------------


class ConfigError(ClmSyncError, TerminalError):
    """A setting is missing or invalid. ``key`` is its dotted name, e.g. ``scm.client_id``."""

    def __init__(self, key: str, problem: str, *, source: str | None = None) -> None:
        self.key = key
        self.problem = problem
        self.source = source
        where = f"{source}: " if source else ""
        env_name = "CLMSYNC__" + key.replace(".", "__").upper()
        super().__init__(
            f"{where}{key}: {problem}",
            hint=f"Fix '{key}' in the settings file or set {env_name}.",
        )


# --- authentication ------------------------------------------------------------------------


class AuthError(ClmSyncError, TerminalError):
    """Microsoft Entra ID refused to issue a token, or SCM refused the token.

    ``code`` is the AADSTS code when Entra ID sent one (``AADSTS7000215``), ``error`` the OAuth
    error (``invalid_client``).
    """

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        code: str | None = None,
        correlation_id: str | None = None,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.error = error
        self.code = code
        self.correlation_id = correlation_id
        self.status = status
        parts = [message]
        if error:
            parts.append(f"error={error}")
        if code:
            parts.append(f"code={code}")
        if correlation_id:
            parts.append(f"correlation_id={correlation_id}")
        super().__init__(" | ".join(parts), hint=hint)


class AuthUnavailable(ClmSyncError, TransientError):
    """The token endpoint could not be reached or answered with a server error."""


class PermissionDenied(ClmSyncError, TerminalError):
    """SCM authenticated the application but its user lacks a role (HTTP 403)."""

    def __init__(self, message: str, *, resource: str, hint: str | None = None) -> None:
        self.resource = resource
        super().__init__(message, hint=hint)


# --- HTTP and OData ------------------------------------------------------------------------


class ODataError(ClmSyncError):
    """An OData call failed. ``status`` is the HTTP status (0 when no response arrived)."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str = "",
        url: str = "",
        activity_id: str | None = None,
        error_type: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.url = redact(url)
        self.activity_id = activity_id
        self.error_type = error_type
        where = f" ({method} {self.url})" if method else ""
        aid = f" [activity {activity_id}]" if activity_id else ""
        super().__init__(f"HTTP {status}{where}: {message}{aid}", hint=hint)
        # Keep the server's own words reachable without the decoration above.
        self.server_message = redact(message)


class ODataRequestError(ODataError, TerminalError):
    """The request itself was refused: bad query, unknown entity, business-rule failure."""


class ODataUnavailable(ODataError, TransientError):
    """Throttling or a server-side outage outlasted the retry deadline."""


class RetryDeadlineExceeded(ClmSyncError, TransientError):
    """Retries of one call went on past the configured deadline."""

    def __init__(self, what: str, *, waited: float, last_reason: str) -> None:
        self.what = what
        self.waited = waited
        self.last_reason = last_reason
        super().__init__(
            f"{what}: gave up after {waited:.0f} s of retries (last: {last_reason})",
            hint="The service is throttling or unavailable; run again later or raise the deadline.",
        )


# --- data management packages --------------------------------------------------------------


class PackageJobFailed(ClmSyncError, TerminalError):
    """A data management execution ended in a failed state."""

    def __init__(
        self,
        execution_id: str,
        status: str,
        *,
        detail: str = "",
        errors: Sequence[str] = (),
    ) -> None:
        self.execution_id = execution_id
        self.status = status
        self.errors = list(errors)
        extra = f": {detail}" if detail else ""
        super().__init__(
            f"execution {execution_id} ended {status}{extra}",
            hint="See the execution's errors in SCM's Data management workspace.",
        )


class PackageJobTimeout(ClmSyncError, TransientError):
    """An execution did not reach a final status before the deadline."""

    def __init__(self, execution_id: str, last_status: str, waited: float) -> None:
        self.execution_id = execution_id
        self.last_status = last_status
        self.waited = waited
        super().__init__(
            f"execution {execution_id} still {last_status} after {waited:.0f} s",
            hint="SCM's batch may be busy; the next run asks about this execution again.",
        )


class PackageFormatError(ClmSyncError, TerminalError):
    """A data package is malformed, unsafe or in a format clmsync does not read."""

    def __init__(self, package: str, reason: str, *, entry: str | None = None) -> None:
        self.package = package
        self.entry = entry
        self.reason = reason
        at = f" [{entry}]" if entry else ""
        super().__init__(f"package {package}{at}: {reason}")


class DownloadError(ClmSyncError, TransientError):
    """A package download failed or arrived incomplete."""

    def __init__(self, what: str, reason: str, *, hint: str | None = None) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"download of {what} failed: {reason}", hint=hint)


class BlobUrlExpired(DownloadError):
    """The blob's SAS URL was refused (expired or wrong signature): ask SCM for a new one."""


# --- CLM -----------------------------------------------------------------------------------


class ClmApiError(ClmSyncError):
    """A CLM API call failed."""

    def __init__(self, message: str, *, status: int, url: str = "") -> None:
        self.status = status
        self.url = redact(url)
        super().__init__(f"CLM API HTTP {status} ({self.url}): {message}")


class ClmRequestError(ClmApiError, TerminalError):
    """The CLM refused the request (bad key, bad parameters)."""


class ClmUnavailable(ClmApiError, TransientError):
    """The CLM throttled or failed for longer than the retry deadline."""


class ClmExportError(ClmSyncError, TerminalError):
    """A CLM export folder is incomplete or does not match its manifest."""

    def __init__(self, folder: str, reason: str, *, file: str | None = None) -> None:
        self.folder = folder
        self.file = file
        self.reason = reason
        at = f"/{file}" if file else ""
        super().__init__(f"CLM export {folder}{at}: {reason}")


# --- warehouse, models, loader -------------------------------------------------------------


class CompletenessError(ClmSyncError, TerminalError):
    """Fewer rows landed than the source said it sent."""

    def __init__(self, entity: str, legal_entity: str | None, expected: int, actual: int) -> None:
        self.entity = entity
        self.legal_entity = legal_entity
        self.expected = expected
        self.actual = actual
        le = f" ({legal_entity})" if legal_entity else ""
        super().__init__(
            f"{entity}{le}: expected {expected} rows, landed {actual}",
            hint="Nothing downstream ran on the partial data; the next run extracts it again.",
        )


class WarehouseBusy(ClmSyncError, TransientError):
    """Another process holds the warehouse for writing."""


class LandingError(ClmSyncError, TerminalError):
    """Rows handed to the warehouse cannot be landed as given (unknown or missing columns,
    duplicate row numbers, counts that do not add up). ``relation`` and ``source_file`` say where.
    """

    def __init__(self, relation: str, source_file: str, reason: str) -> None:
        self.relation = relation
        self.source_file = source_file
        self.reason = reason
        super().__init__(f"landing {source_file} into {relation}: {reason}")


class ModelError(ClmSyncError, TerminalError):
    """A model cannot be built: bad SQL, a cycle, a reference to nothing."""

    def __init__(self, message: str, *, files: Sequence[str] = ()) -> None:
        self.files = list(files)
        super().__init__(message)


class ModelTestFailed(ClmSyncError, TerminalError):
    """An error-level model test failed; nothing is pushed in this run."""

    def __init__(self, failures: Sequence[str]) -> None:
        self.failures = list(failures)
        shown = "; ".join(self.failures[:5])
        more = f" (and {len(self.failures) - 5} more)" if len(self.failures) > 5 else ""
        super().__init__(f"{len(self.failures)} error-level model test(s) failed: {shown}{more}")


class PlanError(ClmSyncError, TerminalError):
    """A push plan cannot be made or found: a deltas relation or column is missing, no plan
    exists for the run, or a plan that has started cannot be replaced. ``relation`` says where."""

    def __init__(
        self, message: str, *, relation: str | None = None, hint: str | None = None
    ) -> None:
        self.relation = relation
        super().__init__(message, hint=hint)


class GuardrailError(ClmSyncError, TerminalError):
    """A push was refused by a guardrail. ``rule`` names it, ``override`` says how to bypass it."""

    def __init__(self, rule: str, detail: str, *, override: str) -> None:
        self.rule = rule
        self.detail = detail
        self.override = override
        super().__init__(f"push refused by guardrail '{rule}': {detail}", hint=override)


# --- runs ----------------------------------------------------------------------------------


class RunFailed(ClmSyncError):
    """A run stopped at one of its steps. ``step`` names it, ``cause`` is the error that stopped
    it; transient or terminal as the cause is (``transient``)."""

    def __init__(self, run_id: str, step: str, cause: BaseException) -> None:
        self.run_id = run_id
        self.step = step
        self.cause = cause
        self.transient = is_transient(cause)
        if isinstance(cause, ClmSyncError):
            reason, hint = str(cause), cause.hint
        else:
            first = str(cause).strip().splitlines()
            reason = f"{type(cause).__name__}: {first[0]}" if first else type(cause).__name__
            hint = "Run again with --debug to see the traceback, and report it if it persists."
        super().__init__(f"run {run_id} failed at step '{step}': {reason}", hint=hint)
