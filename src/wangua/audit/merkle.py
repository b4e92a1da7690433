"""RFC 6962 Merkle tree hashing, used to sign all audit stream heads at once (R-32a).

leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right); a list of
n > 1 leaves splits at the largest power of two smaller than n. The empty tree
hashes to SHA-256 of nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash (RFC 6962, 2.1) of the leaves' data, in order."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    return _subtree([leaf_hash(leaf) for leaf in leaves])


def _subtree(hashes: Sequence[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    split = 1 << ((len(hashes) - 1).bit_length() - 1)
    return node_hash(_subtree(hashes[:split]), _subtree(hashes[split:]))
