"""The service document (``GET /data/``) and a minimal ``$metadata`` CSDL, from the catalog."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import quoteattr

from connectors import catalog
from emulator.odata_query import edm_type

NS = catalog.ENUM_NAMESPACE

# Parameters of the data management actions bound to DataManagementDefinitionGroups
# (reference §1.2); the value type each returns.
ACTIONS: dict[str, tuple[tuple[tuple[str, str], ...], str | None]] = {
    "GetAzureWriteUrl": ((("uniqueFileName", "Edm.String"),), "Edm.String"),
    "ImportFromPackage": (
        (
            ("packageUrl", "Edm.String"),
            ("definitionGroupId", "Edm.String"),
            ("executionId", "Edm.String"),
            ("execute", "Edm.Boolean"),
            ("overwrite", "Edm.Boolean"),
            ("legalEntityId", "Edm.String"),
        ),
        "Edm.String",
    ),
    "ExportToPackage": (
        (
            ("definitionGroupId", "Edm.String"),
            ("packageName", "Edm.String"),
            ("executionId", "Edm.String"),
            ("reExecute", "Edm.Boolean"),
            ("legalEntityId", "Edm.String"),
        ),
        "Edm.String",
    ),
    "GetExportedPackageUrl": ((("executionId", "Edm.String"),), "Edm.String"),
    "GetExecutionSummaryStatus": (
        (("executionId", "Edm.String"),),
        f"{NS}.DMFExecutionSummaryStatus",
    ),
    "GetExecutionErrors": ((("executionId", "Edm.String"),), "Edm.String"),
    "GetImportStagingErrorFileUrl": (
        (("executionId", "Edm.String"), ("entityName", "Edm.String")),
        "Edm.String",
    ),
    "GenerateImportTargetErrorKeysFile": (
        (("executionId", "Edm.String"), ("entityName", "Edm.String")),
        "Edm.Boolean",
    ),
    "GetImportTargetErrorKeysFileUrl": (
        (("executionId", "Edm.String"), ("entityName", "Edm.String")),
        "Edm.String",
    ),
    "DeleteExecutionHistoryJob": ((("executionId", "Edm.String"),), None),
    "GetExecutionSummaryPageUrl": ((("executionId", "Edm.String"),), "Edm.String"),
    "ResetVersionToken": (
        (
            ("definitionGroupId", "Edm.String"),
            ("entityName", "Edm.String"),
            ("sourceName", "Edm.String"),
        ),
        "Edm.Boolean",
    ),
}
ACTIONS["ImportFromPackageAsync"] = ACTIONS["ImportFromPackage"]
ACTIONS["ExportToPackageAsync"] = ACTIONS["ExportToPackage"]


def service_document(root: str) -> dict[str, Any]:
    return {
        "@odata.context": f"{root}/$metadata",
        "value": [{"name": e.name, "kind": "EntitySet", "url": e.name} for e in catalog.ENTITIES],
    }


def csdl() -> str:
    """CSDL 4.0 of every catalog entity, its enums and the data management actions."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
        "<edmx:DataServices>",
        f'<Schema Namespace="{NS}" xmlns="http://docs.oasis-open.org/odata/ns/edm">',
    ]
    for name, members in catalog.ENUMS.items():
        out.append(f'<EnumType Name="{name}">')
        out += [f'<Member Name="{m}" Value="{i}" />' for i, m in enumerate(members)]
        out.append("</EnumType>")
    for e in catalog.ENTITIES:
        out.append(f'<EntityType Name="{e.public_name}">')
        out.append("<Key>" + "".join(f'<PropertyRef Name="{k}" />' for k in e.keys) + "</Key>")
        for f in e.fields:
            extra = ' Nullable="false"' if f.name in e.keys else ""
            if f.type == "decimal":
                extra += ' Precision="32" Scale="6"'
            if f.max_length:
                extra += f' MaxLength="{f.max_length}"'
            out.append(f'<Property Name="{f.name}" Type="{edm_type(f)}"{extra} />')
        out.append("</EntityType>")
    for action, (params, returns) in ACTIONS.items():
        out.append(f'<Action Name="{action}" IsBound="true">')
        out.append(
            '<Parameter Name="_bindingParameter" '
            f'Type="Collection({NS}.DataManagementDefinitionGroup)" />'
        )
        out += [f'<Parameter Name="{p}" Type="{t}" />' for p, t in params]
        if returns:
            out.append(f'<ReturnType Type="{returns}" />')
        out.append("</Action>")
    out.append('<EntityContainer Name="Container">')
    for e in catalog.ENTITIES:
        out.append(
            f"<EntitySet Name={quoteattr(e.name)} "
            f"EntityType={quoteattr(NS + '.' + e.public_name)} />"
        )
    out += ["</EntityContainer>", "</Schema>", "</edmx:DataServices>", "</edmx:Edmx>"]
    return "\n".join(out)
