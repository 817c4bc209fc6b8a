"""Turns deltas into pushes: plan, route, send, record and verify (see README.md).

``plan`` (``ops.push_plan``) · ``guard`` (guardrails) · ``route`` (OData or package, and package
batches) · ``runner`` (level by level) · ``odata_channel`` · ``package_channel`` · ``ledger``
(``ops.push_ledger``) · ``verify`` (read-back) · ``clm_feed`` (master data to the CLM).
"""
