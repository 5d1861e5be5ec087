"""The predict suite runs once per signing scheme: shared-secret HS256, and RS256 and ES256 key pairs.

Tokens are issued and verified through simplejwt's settings, so a deployment that signs with a
private key and verifies with its public key gets the same predict path as the default.
"""

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def _pem_pair(private_key: Any) -> tuple[str, str]:
    private = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
    public = private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture(scope="session")
def key_pairs() -> dict[str, tuple[str, str]]:
    return {"RS256": _pem_pair(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
            "ES256": _pem_pair(ec.generate_private_key(ec.SECP256R1()))}


@pytest.fixture(params=["HS256", "RS256", "ES256"])
def jwt_algorithm(request: pytest.FixtureRequest, settings: Any, key_pairs: dict[str, tuple[str, str]]) -> str:
    algorithm = request.param
    if algorithm != "HS256":
        private, public = key_pairs[algorithm]
        settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ALGORITHM": algorithm, "SIGNING_KEY": private,
                               "VERIFYING_KEY": public}
    return algorithm
