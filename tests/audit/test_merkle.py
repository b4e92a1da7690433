"""R-32a: the checkpoint's Merkle tree hashes exactly as RFC 6962 (Certificate Transparency)."""

from __future__ import annotations

import hashlib

import pytest

from wangua.audit.merkle import leaf_hash, node_hash, root

# The reference leaves and roots of the CT implementation's merkle_tree_test.
LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_r32a_merkle_root_matches_the_rfc6962_vectors(size: int) -> None:
    assert root(LEAVES[:size]).hex() == ROOTS[size]


def test_r32a_leaves_and_nodes_are_domain_separated() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert root([b"a", b"b"]) == node_hash(a, b)
    # three leaves split 2 + 1 (the largest power of two below n), not 1 + 2
    c = leaf_hash(b"c")
    assert root([b"a", b"b", b"c"]) == node_hash(node_hash(a, b), c)
