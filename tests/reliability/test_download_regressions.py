"""Download faults found by the fault matrix, each pinned by a test of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.blob import BlobClient
from connectors.errors import BlobUrlExpired
from connectors.http import RetryPolicy, build_session
from emulator.server import running_emulator
from tests.reliability.harness import FAST


def test_an_expired_blob_url_whose_refusal_is_cut_short_is_still_an_expired_url(
    tmp_path: Path,
) -> None:
    """A 403 whose body the connection drops surfaced as a bare ChunkedEncodingError (the run
    failed) instead of BlobUrlExpired, on which the extract asks SCM for a fresh URL."""
    with running_emulator(tmp_path / "emulator", **FAST) as info:
        assert info.state is not None
        info.state.blobs.path("package.zip").write_bytes(b"PK" + bytes(4000))
        info.set_fault(kind="blob_expired", count=1)
        expired = info.state.blobs.url("package.zip", "r")
        info.set_fault(kind="truncate", count=1, fraction=0.5)
        client = BlobClient(build_session(ca_bundle=Path(info.ca_cert)), RetryPolicy(deadline=5))
        with pytest.raises(BlobUrlExpired, match=r"package\.zip failed: download refused"):
            client.download(expired, tmp_path / "package.zip")
        assert info.stats()["responses"] == {"GET /blob/dmf 403": 1}
