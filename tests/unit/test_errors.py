from __future__ import annotations

import pytest

from connectors import errors


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (errors.ODataUnavailable("busy", status=429), True),
        (errors.ODataRequestError("bad", status=400), False),
        (errors.PackageJobTimeout("exec-1", "Executing", 60), True),
        (errors.PackageJobFailed("exec-1", "Failed"), False),
        (errors.BlobUrlExpired("pkg.zip", "403 AuthenticationFailed"), True),
        (errors.AuthError("no", error="invalid_client", code="AADSTS7000215"), False),
        (errors.CompletenessError("VendorsV2", "usmf", 10, 9), False),
        (errors.RetryDeadlineExceeded("GET x", waited=10, last_reason="429"), True),
    ],
)
def test_transient_or_terminal(error: errors.ClmSyncError, transient: bool) -> None:
    assert isinstance(error, errors.ClmSyncError)
    assert errors.is_transient(error) is transient
    assert isinstance(error, errors.TerminalError) is not transient


def test_context_is_kept_as_attributes() -> None:
    error = errors.ODataRequestError(
        "Write failed", status=500, method="POST", url="https://x/data/VendorsV2", activity_id="a-1"
    )
    assert (error.status, error.activity_id, error.server_message) == (500, "a-1", "Write failed")
    assert "POST https://x/data/VendorsV2" in str(error)
    completeness = errors.CompletenessError("VendorsV2", "usmf", 100, 98)
    assert "VendorsV2 (usmf): expected 100 rows, landed 98" in str(completeness)
    auth = errors.AuthError("token refused", error="invalid_client", code="AADSTS7000215")
    assert auth.code == "AADSTS7000215"
    assert "AADSTS7000215" in str(auth)
