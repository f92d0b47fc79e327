"""Bearer tokens a resource server must refuse, made with a stand-in provider's keys.

Each is a token the provider could have issued, granting the scopes asked for, with one thing
wrong: its signature, its times, whom it is from or for, or its very encoding. A served
service answers each with 401 and `error="invalid_token"`, never a 5xx.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
from cryptography.hazmat.primitives import serialization

from tests.support.oidc import IdentityProvider, SigningKey


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header that sends `token`."""
    return {"Authorization": f"Bearer {token}"}


def segment(value: object) -> str:
    """Return `value` as a JWT segment: base64url of its JSON (or of the bytes), unpadded."""
    text = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def hs256_with_the_public_key(provider: IdentityProvider, scope: str) -> str:
    """Return a token signed with HS256, the provider's public key (PEM) as the secret."""
    key = provider.keys[0]
    public = key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = jwt.decode(provider.sign(scope=scope), options={"verify_signature": False})
    signed = f"{segment({'alg': 'HS256', 'typ': 'JWT', 'kid': key.kid})}.{segment(claims)}"
    mac = hmac.new(public, signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{segment(mac)}"


def bad_tokens(provider: IdentityProvider, scope: str) -> dict[str, str]:
    """Return every kind of bad token granting `scope`, by name."""
    good = provider.sign(scope=scope)
    head, body, signature = good.split(".")
    key = provider.keys[0]
    kid = key.kid
    now = int(time.time())
    return {
        "alg-none": f"{segment({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{body}.",
        "hs256-with-the-public-key": hs256_with_the_public_key(provider, scope),
        "expired": provider.sign(scope=scope, iat=now - 7200, nbf=now - 7200, exp=now - 3600),
        "not-yet-valid": provider.sign(scope=scope, nbf=now + 3600),
        "other-issuer": provider.sign(scope=scope, iss="https://login.example.com"),
        "other-audience": provider.sign(scope=scope, aud="another-service"),
        "no-subject": provider.sign(scope=scope, sub=None),
        "unknown-kid": provider.sign(SigningKey.new("made-up", "ES256"), scope=scope),
        "another-key-with-a-known-kid": provider.sign(SigningKey.new(kid), scope=scope),
        "es256-on-the-rsa-key-s-kid": provider.sign(SigningKey.new(kid, "ES256"), scope=scope),
        # Signed by the provider's own key, with an algorithm OIDC_ALGORITHMS leaves out.
        "ps256-not-accepted": provider.sign(SigningKey(kid, key.private, "PS256"), scope=scope),
        "truncated": good[: len(good) // 2],
        "signature-cut": f"{head}.{body}.{signature[:-8]}",
        "padded": f"{head}.{body}.{signature}====",
        "not-base64": f"{head}.{body[:10]}!*{body[10:]}.{signature}",
        "header-not-json": f"{segment(b'{not json')}.{body}.{signature}",
        "payload-not-json": f"{head}.{segment(b'not json')}.{signature}",
        "payload-changed": f"{head}.{segment({'sub': 'root', 'scope': scope})}.{signature}",
        "two-segments": f"{head}.{body}",
    }
