"""The data management package API: export, import, executions and their errors.

Every action is a POST on ``DataManagementDefinitionGroups`` (reference §1). Long jobs are a state
machine with a deadline: ``export_to_package`` → ``wait`` → ``exported_package_url`` →
``download``; ``azure_write_url`` → ``upload`` → ``import_from_package`` → ``wait`` →
``execution_errors``. An ``ImportFromPackage`` is never sent twice: when its answer is lost the
caller gets the execution id the client chose, to look it up instead.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from connectors.blob import BlobClient
from connectors.errors import (
    ODataError,
    ODataRequestError,
    PackageJobFailed,
    PackageJobTimeout,
)
from connectors.http import request_may_have_been_sent
from connectors.odata import ODataClient

log = logging.getLogger(__name__)

GROUPS = "DataManagementDefinitionGroups"
PENDING = frozenset({"NotRun", "Executing"})
FAILED = frozenset({"Failed", "Canceled", "Unknown"})
KNOWN = PENDING | FAILED | {"Succeeded", "PartiallySucceeded"}
IMPORT_TIMEOUT = 3600.0  # an import answers once the package is read; large ones take minutes


@dataclass(frozen=True)
class ExecutionError:
    """One error record of an execution (``GetExecutionErrors``)."""

    record_id: str
    field: str
    message: str


def unwrap_value(value: Any) -> Any:
    """The result of an action whose ``value`` may be flat or nested (``{"value": ...}``)."""
    while isinstance(value, dict) and "value" in value:
        value = value["value"]
    return value


def _text_value(value: Any, action: str) -> str:
    value = unwrap_value(value)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ODataRequestError(f"{action} answered {value!r}, not a string", status=200)
    return value


def parse_write_url(value: Any) -> tuple[str, str]:
    """(BlobId, BlobUrl) from ``GetAzureWriteUrl``, whose value is JSON inside a string."""
    found = unwrap_value(value)
    for _ in range(3):  # the value may be encoded once more than expected
        if isinstance(found, str):
            try:
                found = json.loads(found)
            except ValueError:
                break
        else:
            break
    if not isinstance(found, dict) or not found.get("BlobUrl"):
        raise ODataRequestError(f"GetAzureWriteUrl answered {str(value)[:200]!r}", status=200)
    return str(found.get("BlobId") or ""), str(found["BlobUrl"])


_RECORD = re.compile(r"\}\s*,\s*\{\s*(?=\"RecordId\")")
_KEY = re.compile(r'"(RecordId|Field|ErrorMessage)"\s*:\s*')


def parse_execution_errors(text: str) -> list[ExecutionError]:
    """``GetExecutionErrors``' text: strict JSON first, then a lenient record splitter.

    SCM's messages may hold unescaped quotes and line breaks, so when ``json.loads`` fails the
    text is cut on the record boundary ``},{"RecordId"`` and each field is read up to the next
    known key (reference §1.5).
    """
    text = (text or "").strip()
    if not text or text in ("[]", "null"):
        return []
    try:
        rows = json.loads(text)
        if isinstance(rows, dict):
            rows = [rows]
        if isinstance(rows, list):
            return [
                ExecutionError(
                    str(r.get("RecordId", "")),
                    str(r.get("Field", "")),
                    str(r.get("ErrorMessage", "")),
                )
                for r in rows
                if isinstance(r, dict)
            ]
    except ValueError:
        pass
    body = text
    if body.startswith("["):
        body = body[1:]
    if body.endswith("]"):
        body = body[:-1]
    body = body.strip().removeprefix("{").removesuffix("}")
    errors: list[ExecutionError] = []
    for record in _RECORD.split(body):
        fields: dict[str, str] = {}
        marks = list(_KEY.finditer(record))
        for i, mark in enumerate(marks):
            end = marks[i + 1].start() if i + 1 < len(marks) else len(record)
            raw = record[mark.end() : end].strip().rstrip(",").strip()
            if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
                raw = raw[1:-1]
            fields[mark.group(1)] = raw.replace('\\"', '"').replace("\\n", "\n")
        if fields:
            errors.append(
                ExecutionError(
                    fields.get("RecordId", ""),
                    fields.get("Field", ""),
                    fields.get("ErrorMessage", ""),
                )
            )
    if not errors:
        errors.append(ExecutionError("", "", text))
    return errors


class PackageApi:
    """SCM's package REST API over an :class:`ODataClient`.

    ``poll`` is the first wait between status polls; it grows by half each time up to
    ``max_poll`` (5 s → 60 s by default, as Microsoft's samples and the reference suggest).
    """

    def __init__(
        self,
        odata: ODataClient,
        *,
        poll: float = 5.0,
        max_poll: float = 60.0,
        import_timeout: float = IMPORT_TIMEOUT,
        download_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.odata = odata
        self.poll = poll
        self.max_poll = max_poll
        self.import_timeout = import_timeout
        self._sleep = sleep
        self._clock = clock
        self.blob = BlobClient(odata.session, odata.policy, attempts=download_attempts)

    def _call(self, action: str, body: dict[str, Any], *, idempotent: bool = True) -> Any:
        return self.odata.action(GROUPS, action, body, idempotent=idempotent)

    # --- export --------------------------------------------------------------------------

    def export_to_package(
        self,
        project: str,
        package_name: str,
        legal_entity: str,
        execution_id: str = "",
        *,
        re_execute: bool = False,
    ) -> str:
        """Start an export of data project ``project``; returns the execution id."""
        body = {
            "definitionGroupId": project,
            "packageName": package_name,
            "executionId": execution_id,
            "reExecute": re_execute,
            "legalEntityId": legal_entity,
        }
        value = self._call("ExportToPackage", body, idempotent=False)
        found = _text_value(value, "ExportToPackage")
        if not found:
            raise ODataRequestError("ExportToPackage returned no execution id", status=200)
        log.info("export of %s (%s) started: execution %s", project, legal_entity, found)
        return found

    def exported_package_url(self, execution_id: str, *, timeout: float = 120.0) -> str:
        """The package's download URL; asks again (with back-off) while SCM answers empty."""
        deadline = self._clock() + timeout
        wait = self.poll
        while True:
            value = self._call("GetExportedPackageUrl", {"executionId": execution_id})
            url = _text_value(value, "GetExportedPackageUrl")
            if url:
                return url
            if self._clock() + wait > deadline:
                raise PackageJobTimeout(execution_id, "no package URL yet", timeout)
            self._sleep(wait)
            wait = min(self.max_poll, wait * 1.5)

    def download(
        self,
        url: str,
        dest: Path,
        *,
        expected_size: int | None = None,
        expected_sha256: str | None = None,
    ) -> Path:
        """Stream the package to ``dest`` (checked, retried when truncated). No bearer token."""
        return self.blob.download(
            url, dest, expected_size=expected_size, expected_sha256=expected_sha256, zip_check=True
        )

    # --- import --------------------------------------------------------------------------

    def azure_write_url(self, name: str) -> tuple[str, str]:
        """(blob id, SAS URL) to upload a package named ``name`` to."""
        return parse_write_url(self._call("GetAzureWriteUrl", {"uniqueFileName": name}))

    def upload(self, url: str, path: Path) -> None:
        """PUT the package to its blob URL (``x-ms-blob-type: BlockBlob``, no bearer token)."""
        self.blob.upload(url, path)

    def import_from_package(
        self,
        package_url: str,
        project: str,
        legal_entity: str,
        *,
        execution_id: str | None = None,
        execute: bool = True,
        overwrite: bool = True,
    ) -> str:
        """Queue an import of the uploaded package; returns the execution id.

        The client names the execution (unless told one), so that when the answer is lost the
        execution can be looked up: this call is never sent twice.
        """
        chosen = execution_id or new_execution_id(project)
        body = {
            "packageUrl": package_url,
            "definitionGroupId": project,
            "executionId": chosen,
            "execute": execute,
            "overwrite": overwrite,
            "legalEntityId": legal_entity,
        }
        try:
            value = self.odata.action(
                GROUPS,
                "ImportFromPackage",
                body,
                idempotent=False,
                timeout=(min(30.0, self.import_timeout), self.import_timeout),
            )
        except ODataError as exc:
            cause = exc.__cause__
            if exc.status == 0 and cause is not None and request_may_have_been_sent(cause):
                raise PackageJobFailed(
                    chosen,
                    "Unknown",
                    detail="ImportFromPackage got no answer and was not sent again; look up "
                    f"execution {chosen} (execution_status or DataManagementExecutionJobDetails) "
                    "before importing this package again",
                ) from exc
            raise
        found = _text_value(value, "ImportFromPackage") or chosen
        log.info("import into %s (%s) queued: execution %s", project, legal_entity, found)
        return found

    # --- executions ----------------------------------------------------------------------

    def execution_status(self, execution_id: str) -> str:
        """The execution's ``DMFExecutionSummaryStatus`` member name."""
        value = self._call("GetExecutionSummaryStatus", {"executionId": execution_id})
        status = _text_value(value, "GetExecutionSummaryStatus")
        if status not in KNOWN:
            log.warning("execution %s has an unknown status %r", execution_id, status)
        return status

    def wait(
        self,
        execution_id: str,
        *,
        timeout: float,
        poll: float | None = None,
        partially_succeeded: Literal["fail", "accept"],
    ) -> str:
        """Poll until the execution is final; returns ``Succeeded`` or ``PartiallySucceeded``.

        A 400 "were not found" right after queuing means SCM has not created the execution yet
        and counts as pending. ``Failed``/``Canceled``/``Unknown`` raise :class:`PackageJobFailed`
        with the execution's errors, as does ``PartiallySucceeded`` unless ``accept`` is asked
        for. Past ``timeout`` seconds: :class:`PackageJobTimeout` (transient).
        """
        start = self._clock()
        wait = poll if poll is not None else self.poll
        status = "NotRun"
        while True:
            try:
                status = self.execution_status(execution_id)
            except ODataRequestError as exc:
                if exc.status != 400 or "were not found" not in exc.server_message:
                    raise
                status = "NotRun"
                log.info("execution %s not found yet; treating it as pending", execution_id)
            if status == "Succeeded":
                return status
            if status == "PartiallySucceeded":
                if partially_succeeded == "accept":
                    log.warning("execution %s partially succeeded (accepted)", execution_id)
                    return status
                raise self._failed(execution_id, status)
            if status in FAILED or status not in KNOWN:
                raise self._failed(execution_id, status)
            waited = self._clock() - start
            if waited + wait > timeout:
                raise PackageJobTimeout(execution_id, status, waited)
            log.info("execution %s is %s; next poll in %.1f s", execution_id, status, wait)
            self._sleep(wait)
            wait = min(self.max_poll, wait * 1.5)

    def _failed(self, execution_id: str, status: str) -> PackageJobFailed:
        try:
            errors = self.execution_errors(execution_id)
        except ODataError as exc:  # the failure itself matters more than its details
            log.warning("errors of execution %s unavailable: %s", execution_id, exc)
            errors = []
        shown = [f"{e.record_id} {e.field}: {e.message}".strip() for e in errors]
        detail = f"{len(errors)} error(s)" + (f"; first: {shown[0]}" if shown else "")
        return PackageJobFailed(execution_id, status, detail=detail, errors=shown)

    def execution_errors(self, execution_id: str) -> list[ExecutionError]:
        """The execution's error records, parsed leniently."""
        value = self._call("GetExecutionErrors", {"executionId": execution_id})
        value = unwrap_value(value)
        if isinstance(value, list):
            value = json.dumps(value)
        return parse_execution_errors(value or "")

    def staging_error_file_url(self, execution_id: str, entity_label: str) -> str:
        """URL of the rows that failed source → staging ("" when none)."""
        body = {"executionId": execution_id, "entityName": entity_label}
        return _text_value(self._call("GetImportStagingErrorFileUrl", body), "staging errors")

    def staging_error_rows(self, execution_id: str, entity_label: str) -> list[dict[str, str]]:
        """The rows that failed source → staging, as SCM's error file holds them."""
        url = self.staging_error_file_url(execution_id, entity_label)
        return self.blob.read_csv(url) if url else []

    def target_error_keys(
        self, execution_id: str, entity_label: str, *, timeout: float = 120.0
    ) -> list[dict[str, str]]:
        """The keys of the rows that failed staging → target, read from SCM's error-keys file."""
        body = {"executionId": execution_id, "entityName": entity_label}
        has_errors = unwrap_value(self._call("GenerateImportTargetErrorKeysFile", body))
        if has_errors is not True and str(has_errors).lower() != "true":
            return []
        deadline = self._clock() + timeout
        wait = self.poll
        while True:
            value = self._call("GetImportTargetErrorKeysFileUrl", body)
            url = _text_value(value, "GetImportTargetErrorKeysFileUrl")
            if url:
                return self.blob.read_csv(url)
            if self._clock() + wait > deadline:
                raise PackageJobTimeout(execution_id, "error-keys file not ready", timeout)
            self._sleep(wait)
            wait = min(self.max_poll, wait * 1.5)

    def delete_execution_history(self, execution_id: str) -> None:
        """Remove the execution's history in SCM (after its results are recorded)."""
        self._call("DeleteExecutionHistoryJob", {"executionId": execution_id})

    def execution_job_details(self, execution_id: str) -> list[dict[str, Any]]:
        """Per-entity details of an execution (``DataManagementExecutionJobDetails``)."""
        quoted = execution_id.replace("'", "''")
        rows: list[dict[str, Any]] = []
        for page in self.odata.pages(
            "DataManagementExecutionJobDetails", filter=f"JobId eq '{quoted}'"
        ):
            rows.extend(page)
        return rows


def new_execution_id(project: str) -> str:
    """An execution id in the shape Microsoft's scheduler uses: project, UTC time, GUID."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d_%H-%M-%S")
    return f"{project}-{stamp}-{uuid.uuid4()}"
