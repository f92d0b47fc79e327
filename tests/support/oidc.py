"""A stand-in OpenID Connect provider on 127.0.0.1: discovery, a key set, rotation, outages.

It signs tokens with its keys (RS256 by default) and serves what a resource server reads:
<issuer>/.well-known/openid-configuration and the key set it names, counting each fetch.
The template's suite serves its services with this same file, byte for byte.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

#: The subject of the tokens a provider signs, unless a test says otherwise.
TEST_CALLER = "test-caller"


@dataclass
class SigningKey:
    """A key of the provider: its id, private key and algorithm."""

    kid: str
    private: Any
    algorithm: str = "RS256"

    @classmethod
    def new(cls, kid: str, algorithm: str = "RS256") -> SigningKey:
        """Make a fresh key for `algorithm` (RS256 or ES256)."""
        if algorithm == "ES256":
            return cls(kid, ec.generate_private_key(ec.SECP256R1()), algorithm)
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm)

    def jwk(self) -> dict[str, Any]:
        """Return the public JWK, as a key set lists it."""
        ec_key = self.algorithm == "ES256"
        maker = jwt.algorithms.ECAlgorithm if ec_key else jwt.algorithms.RSAAlgorithm
        public: dict[str, Any] = json.loads(maker.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


@dataclass
class IdentityProvider:
    """Serves discovery and a key set until stopped; `keys` is what the key set lists."""

    #: What the tokens it signs are for (their aud), unless a test says otherwise.
    audience: str
    keys: list[SigningKey] = field(default_factory=lambda: [SigningKey.new("key-1")])
    #: Paths served, by how many times each was asked for.
    served: Counter[str] = field(default_factory=Counter)
    port: int = 0
    server: ThreadingHTTPServer | None = None
    #: Where the key set is served, as discovery names it: a test may move it.
    jwks_path: str = "/jwks.json"

    @property
    def issuer(self) -> str:
        """The issuer URL, as tokens' iss spells it."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def fetches(self) -> int:
        """How many times the key set was fetched."""
        return self.served[self.jwks_path]

    def start(self) -> IdentityProvider:
        """Serve on `port` (a free one the first time)."""
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.served[self.path] += 1
                body: dict[str, Any]
                if self.path == "/.well-known/openid-configuration":
                    jwks_uri = f"{provider.issuer}{provider.jwks_path}"
                    body = {"issuer": provider.issuer, "jwks_uri": jwks_uri}
                elif self.path == provider.jwks_path:
                    body = {"keys": [key.jwk() for key in provider.keys]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Keep the test's output clean."""

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop answering: the port refuses connections until `start` again."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def rotate(self, algorithm: str = "RS256") -> SigningKey:
        """Add a new key, which signs from now on; the old ones stay listed."""
        key = SigningKey.new(f"key-{len(self.keys) + 1}", algorithm)
        self.keys.append(key)
        return key

    def sign(
        self, key: SigningKey | None = None, headers: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        """Return a token signed with `key` (the newest), for `audience`, valid five minutes."""
        key = key or self.keys[-1]
        now = int(time.time())
        payload = {"iss": self.issuer, "aud": self.audience, "sub": TEST_CALLER, "iat": now}
        payload |= {"nbf": now, "exp": now + 300, "scope": ""}
        payload |= claims
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(
            payload, key.private, key.algorithm, headers={"kid": key.kid, **(headers or {})}
        )
