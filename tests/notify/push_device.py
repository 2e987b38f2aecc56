"""A browser's side of Web Push, for the tests: its subscription keys, and reading what the local push
service (tests/notify/receiver.py) received exactly as the browser would, with the reference
implementation of RFC 8188/8291 (http_ece) and a VAPID check (RFC 8292) done with `cryptography`."""

import base64
import json
import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.notify.receiver import Received


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class BrowserKeys:
    private: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        point = self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def read(self, received: Received) -> dict:
        """The push message's JSON, decrypted as the browser does (aes128gcm), after checking its VAPID
        signature against the key it names."""
        assert received.headers["content-encoding"] == "aes128gcm"
        verify_vapid(received)
        plaintext = http_ece.decrypt(
            received.body, private_key=self.private, auth_secret=self.auth_secret, version="aes128gcm"
        )
        return json.loads(plaintext)


def verify_vapid(received: Received) -> dict:
    """The JWT's claims, once its ES256 signature checks out with the `k` public key (RFC 8292)."""
    scheme, _space, params = received.headers["authorization"].partition(" ")
    assert scheme == "vapid"
    values = dict(part.strip().split("=", 1) for part in params.split(","))
    header, claims, signature = values["t"].split(".")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(values["k"]))
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise AssertionError("the VAPID signature does not verify") from None
    assert json.loads(unb64url(header)) == {"typ": "JWT", "alg": "ES256"}
    decoded = json.loads(unb64url(claims))
    return {**decoded, "k": values["k"]}


def audience_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
