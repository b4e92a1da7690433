"""The cap lottery's draw (R-CAP): reproducible by anyone from what is published.

When the cap is reached the system draws a random seed and publishes its SHA-256 digest
(the commitment) before anyone may accept the cap. At the deadline the entrants are
known, and the winner is

    entrants sorted as text, e_0 … e_{n-1}
    m = HMAC-SHA256(key = seed, message = "wangua-cap-lottery/1|<lot code>|e_0,…,e_{n-1}")
    winner = e_(m as a big-endian integer mod n)

The seed is then published: anyone can check that it matches the commitment and
recompute the winner. Nobody, staff included, knows the seed while acceptances come in
(it is sealed to the system's key like a reserve price), and the seed cannot be chosen
after the entrants are known.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

METHOD = "wangua-cap-lottery/1"
SEED_BYTES = 32


def new_seed() -> bytes:
    return secrets.token_bytes(SEED_BYTES)


def commitment(seed: bytes) -> str:
    """What is published when the cap is reached: the seed's SHA-256, hex."""
    return hashlib.sha256(seed).hexdigest()


def winner(seed: bytes, lot_code: str, entrants: Iterable[str]) -> str:
    """The bidder number the seed draws among `entrants` (see the module's text)."""
    ordered = sorted(set(entrants))
    if not ordered:
        raise ValueError("a lottery needs at least one entrant")
    message = f"{METHOD}|{lot_code}|{','.join(ordered)}".encode()
    drawn = int.from_bytes(hmac.digest(seed, message, "sha256"), "big")
    return ordered[drawn % len(ordered)]
