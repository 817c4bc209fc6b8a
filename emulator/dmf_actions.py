"""The package API: actions bound to ``DataManagementDefinitionGroups`` (reference §1.2).

Bodies are flat JSON objects of camelCase parameters; answers are the flat OData primitive
wrapper ``{"@odata.context": ".../$metadata#Edm.String", "value": ...}`` (``#Edm.Boolean`` for
booleans). ``GetAzureWriteUrl`` returns JSON text inside ``value`` (parse it twice), and
``GetExecutionErrors`` a JSON array as text. An execution id the service does not know (yet)
gets HTTP 400 whose message contains "were not found", as observed on SCM right after queuing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.responses import Response

from connectors import catalog
from emulator import sql
from emulator.dmf_jobs import DmfRefused, Execution, ExecutionNotFound
from emulator.metadata import ACTIONS
from emulator.package import BOM16, csv_header
from emulator.responses import action_failed, bad_request, json_response, segment_not_found

if TYPE_CHECKING:
    from emulator.state import App, EmulatorState

NS = catalog.ENUM_NAMESPACE


def _value(state: EmulatorState, value: Any) -> Response:
    kind = "Edm.Boolean" if isinstance(value, bool) else "Edm.String"
    return json_response({"@odata.context": f"{state.odata_root}/$metadata#{kind}", "value": value})


def _params(action: str, raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise bad_request("The body of an action must be a JSON object of its parameters.")
    spec = dict(ACTIONS[action][0])
    values: dict[str, Any] = {}
    for name, value in body.items():
        if name not in spec:
            raise bad_request(
                f"The parameter '{name}' in the request payload is not a valid parameter for the "
                f"operation '{action}'."
            )
        wanted = bool if spec[name] == "Edm.Boolean" else str
        if value is not None and not isinstance(value, wanted):
            raise bad_request(
                f"Cannot convert the value of parameter '{name}' to the expected type "
                f"'{spec[name]}'."
            )
        values[name] = value
    for name, kind in spec.items():
        if values.get(name) is None:
            values[name] = False if kind == "Edm.Boolean" else ""
    return values


def _execution(state: EmulatorState, execution_id: str) -> Execution:
    try:
        return state.dmf.get(execution_id)
    except ExecutionNotFound:
        raise action_failed(
            f"The execution details for execution ID '{execution_id}' were not found."
        ) from None


def _csv_blob(state: EmulatorState, name: str, columns: list[str], rows: list[list[str]]) -> str:
    """Write a small CSV-Unicode file (error files) as a blob; returns its name."""
    lines = [",".join('"' + v.replace('"', '""') + '"' for v in row) + "\r\n" for row in rows]
    path = state.dmf.workdir / f"{uuid.uuid4().hex}.csv"
    path.write_bytes(BOM16 + csv_header(columns) + "".join(lines).encode("utf-16-le"))
    state.blobs.adopt(name, path)
    return name


def handle(state: EmulatorState, app: App, action: str, raw: bytes) -> Response:
    """Run one data management action."""
    if action not in ACTIONS:
        raise segment_not_found(f"{NS}.{action}")
    params = _params(action, raw)
    handler = _HANDLERS[action.removesuffix("Async")]
    try:
        return handler(state, app, params)
    except DmfRefused as exc:
        raise action_failed(str(exc)) from None


def _write_url(state: EmulatorState, app: App, p: dict[str, Any]) -> Response:
    name = p["uniqueFileName"] or str(uuid.uuid4())
    blob = {"BlobId": "{" + str(uuid.uuid4()).upper() + "}", "BlobUrl": state.blobs.url(name, "w")}
    return _value(state, orjson.dumps(blob).decode())


def _import(state: EmulatorState, app: App, p: dict[str, Any]) -> Response:
    if not p["definitionGroupId"]:
        raise DmfRefused("The parameter definitionGroupId (the data project) is required.")
    execution_id = state.dmf.import_(
        app,
        p["packageUrl"],
        p["definitionGroupId"],
        p["executionId"],
        bool(p["execute"]),
        p["legalEntityId"] or app.company,
    )
    return _value(state, execution_id)


def _export(state: EmulatorState, app: App, p: dict[str, Any]) -> Response:
    execution_id = state.dmf.export(
        app,
        p["definitionGroupId"],
        p["packageName"],
        p["executionId"],
        p["legalEntityId"] or app.company,
    )
    return _value(state, execution_id)


def _package_url(state: EmulatorState, app: App, p: dict[str, Any]) -> Response:
    execution = _execution(state, p["executionId"])
    ready = execution.status in ("Succeeded", "PartiallySucceeded") and execution.package_blob
    return _value(
        state,
        state.blobs.url(execution.package_blob, "r") if ready and execution.package_blob else "",
    )


def _status(state: EmulatorState, app: App, p: dict[str, Any]) -> Response:
    return _value(state, _execution(state, p["executionId"]).status)


def _errors(state: EmulatorState, app: App, p: dict[str, Any]) -> Response:
    return _value(state, orjson.dumps(_execution(state, p["executionId"]).errors).decode())


def _staging_file(state: EmulatorState, app: App, p: dict[str, Any]) -> Response:
    execution = _execution(state, p["executionId"])
    failures = execution.staging_failures.get(_label(p["entityName"]))
    if not failures:
        return _value(state, "")
    key = ("staging", _label(p["entityName"]))
    if key not in execution.error_files:
        name = _csv_blob(state, f"{execution.id}/{key[1]}-staging-errors.csv", *failures)
        execution.error_files[key] = (0.0, name)
    return _value(state, state.blobs.url(execution.error_files[key][1], "r"))


def _label(entity_name: str) -> str:
    try:
        return catalog.entity_by_label(entity_name).label
    except KeyError:
        return entity_name


def _generate_keys(state: EmulatorState, app: App, p: dict[str, Any]) -> Response:
    execution = _execution(state, p["executionId"])
    label = _label(p["entityName"])
    failures = execution.failed_keys.get(label)
    if not failures:
        return _value(state, False)
    key = ("keys", label)
    if key not in execution.error_files:
        name = _csv_blob(state, f"{execution.id}/{label}-error-keys.csv", *failures)
        execution.error_files[key] = (time.time() + state.options.error_file_seconds, name)
    return _value(state, True)


def _keys_url(state: EmulatorState, app: App, p: dict[str, Any]) -> Response:
    execution = _execution(state, p["executionId"])
    ready_at, name = execution.error_files.get(("keys", _label(p["entityName"])), (0.0, ""))
    if not name or time.time() < ready_at:
        return _value(state, "")
    return _value(state, state.blobs.url(name, "r"))


def _delete_history(state: EmulatorState, app: App, p: dict[str, Any]) -> Response:
    try:
        state.dmf.delete(p["executionId"])
    except ExecutionNotFound:
        raise action_failed(
            f"The execution details for execution ID '{p['executionId']}' were not found."
        ) from None
    return Response(status_code=204, headers={"OData-Version": "4.0"})


def _summary_page(state: EmulatorState, app: App, p: dict[str, Any]) -> Response:
    execution = _execution(state, p["executionId"])
    return _value(
        state,
        f"{state.scm_url}/?cmp={execution.legal_entity}&mi=DMFExecutionSummary&ExecutionId={execution.id}",
    )


def _reset_version(state: EmulatorState, app: App, p: dict[str, Any]) -> Response:
    details = catalog.entity("DataManagementDefinitionGroupDetails")
    with state.store.transaction() as con:
        rows = con.execute(
            f'SELECT _recid FROM {sql.table(details)} WHERE lower("DefinitionGroupId") = lower(?) '
            'AND lower("EntityName") = lower(?)',
            [p["definitionGroupId"], p["entityName"]],
        ).fetchall()
        for (recid,) in rows:
            con.execute("DELETE FROM emu.watermarks WHERE detail = ?", [recid])
    return _value(state, bool(rows))


_HANDLERS: dict[str, Callable[[EmulatorState, App, dict[str, Any]], Response]] = {
    "GetAzureWriteUrl": _write_url,
    "ImportFromPackage": _import,
    "ExportToPackage": _export,
    "GetExportedPackageUrl": _package_url,
    "GetExecutionSummaryStatus": _status,
    "GetExecutionErrors": _errors,
    "GetImportStagingErrorFileUrl": _staging_file,
    "GenerateImportTargetErrorKeysFile": _generate_keys,
    "GetImportTargetErrorKeysFileUrl": _keys_url,
    "DeleteExecutionHistoryJob": _delete_history,
    "GetExecutionSummaryPageUrl": _summary_page,
    "ResetVersionToken": _reset_version,
}
