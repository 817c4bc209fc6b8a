"""Certificate credentials: checking a client assertion (RFC 7523) as Entra ID does.

An application registered with a certificate signs a short JWT (``iss`` = ``sub`` = client id,
``aud`` = the token endpoint) with its private key; the header names the certificate by its
SHA-1 (``x5t``, RS256) or SHA-256 (``x5t#S256``, PS256) thumbprint. msal builds exactly this
from ``client_credential={"private_key": ..., "thumbprint": ...}``.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class Certificate:
    """A certificate registered on an application (its public half only)."""

    pem: str
    sha1: str  # hex, upper case, as the portal shows it
    sha256: str

    @classmethod
    def from_pem(cls, pem: str) -> Certificate:
        cert = x509.load_pem_x509_certificate(pem.encode())
        der = cert.public_bytes(Encoding.DER)
        return cls(
            pem=pem,
            sha1=hashlib.sha1(der).hexdigest().upper(),  # noqa: S324 - a thumbprint, not security
            sha256=hashlib.sha256(der).hexdigest().upper(),
        )


class AssertionRefused(ValueError):
    """The assertion is not acceptable; ``code`` and the message are Entra's."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _thumbprint(header: dict[str, object]) -> tuple[str, str] | None:
    for name, kind in (("x5t#S256", "sha256"), ("x5t", "sha1")):
        value = header.get(name)
        if isinstance(value, str):
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            return kind, raw.hex().upper()
    return None


def check(
    assertion: str, certificate: Certificate | None, client_id: str, token_endpoint: str
) -> None:
    """Accept a valid assertion for ``client_id`` or raise :class:`AssertionRefused`."""
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        raise AssertionRefused(50027, "JWT token is invalid or malformed.") from None
    named = _thumbprint(header)
    registered = certificate and named and getattr(certificate, named[0]) == named[1]
    if certificate is None or not registered:
        raise AssertionRefused(
            700027,
            "The certificate with identifier used to sign the client assertion is not registered "
            f"on application. [Reason - The key was not found., Thumbprint of key used by client: "
            f"'{named[1] if named else ''}']",
        )
    public_key = x509.load_pem_x509_certificate(certificate.pem.encode()).public_key()
    try:
        jwt.decode(
            assertion,
            public_key,  # type: ignore[arg-type]
            algorithms=["RS256", "PS256"],
            audience=token_endpoint,
            issuer=client_id,
            options={"require": ["exp", "aud", "iss", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise AssertionRefused(
            700024, "Client assertion is not within its valid time range."
        ) from None
    except jwt.InvalidSignatureError:
        raise AssertionRefused(700027, "Client assertion failed signature validation.") from None
    except jwt.PyJWTError as exc:
        raise AssertionRefused(
            700027, f"Client assertion contains an invalid claim: {exc}."
        ) from None
