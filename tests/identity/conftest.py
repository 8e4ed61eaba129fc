"""A test OIDC issuer: RSA (and EC) keys made here, the JWKS served over HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://dex.example.test"
AUDIENCE = "steward"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Issuer:
    """Signs tokens with its keys and serves their public halves as a JWKS."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.published: list[dict[str, Any]] = []
        self.requests = 0
        self.url = ""

    def add_rsa_key(self, kid: str, *, publish: bool = True) -> rsa.RSAPrivateKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.keys[kid] = key
        if publish:
            self.publish(kid)
        return key

    def add_ec_key(self, kid: str) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        self.keys[kid] = key
        self.publish(kid)

    def publish(self, kid: str) -> None:
        key = self.keys[kid]
        if isinstance(key, rsa.RSAPrivateKey):
            jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        self.published.append({**jwk, "kid": kid, "use": "sig"})

    def jwks(self) -> dict[str, Any]:
        return {"keys": list(self.published)}

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "CiQwOGE4Njg0Yi1kYjg4",
            "email": "ana@example.com",
            "groups": ["analysts", "analysts-eu"],
            "iat": now,
            "exp": now + 600,
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, kid: str = "key-1", alg: str = "RS256", **changes: Any) -> str:
        return jwt.encode(
            self.claims(**changes), self.keys[kid], algorithm=alg, headers={"kid": kid}
        )

    def unsigned_token(self, **changes: Any) -> str:
        """`alg: none`: no signature at all."""
        header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "key-1"}).encode())
        payload = b64(json.dumps(self.claims(**changes)).encode())
        return f"{header}.{payload}."

    def public_key_hs256_token(self, kid: str = "key-1") -> str:
        """HS256 with the issuer's public key (PEM) as the HMAC secret: the alg confusion attack."""
        pem = (
            self.keys[kid]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
        payload = b64(json.dumps(self.claims()).encode())
        signature = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{b64(signature)}"


def serve(issuer: Issuer) -> tuple[ThreadingHTTPServer, threading.Thread]:
    class JwksHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer.requests += 1
            body = json.dumps(issuer.jwks()).encode()
            self.send_response(200 if self.path == "/keys" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), JwksHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    issuer.url = f"http://127.0.0.1:{server.server_address[1]}/keys"
    return server, thread


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    """One RSA key for the whole run: making a 2048-bit key takes a moment."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def issuer(signing_key: rsa.RSAPrivateKey) -> Iterator[Issuer]:
    """An issuer with one published RSA key `key-1`, its JWKS at `issuer.url`."""
    made = Issuer()
    made.keys["key-1"] = signing_key
    made.publish("key-1")
    server, thread = serve(made)
    yield made
    server.shutdown()
    server.server_close()
    thread.join()
