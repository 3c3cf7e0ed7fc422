"""Hashing of client secrets and agent passwords (PBKDF2-SHA256, salted). Never store or log
the plain value."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ITERATIONS = 120_000


def hash_secret(secret: str, *, iterations: int = ITERATIONS) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, iterations)
    b64 = base64.urlsafe_b64encode
    return f"pbkdf2_sha256${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    b64d = base64.urlsafe_b64decode
    candidate = hashlib.pbkdf2_hmac("sha256", secret.encode(), b64d(salt), int(iterations))
    return hmac.compare_digest(candidate, b64d(digest))


def fingerprint(secret: str) -> str:
    """A cheap stand-in for a secret already verified once (cache keys); not for storage."""
    return hashlib.sha256(secret.encode()).hexdigest()
