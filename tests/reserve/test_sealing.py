"""R-11: sealed reserves open only with the system key, each for its own lot; many lots
decided together open theirs on several threads, each to its own price."""

from __future__ import annotations

from pathlib import Path

import pytest

from wangua.identity.certificates import init_ca, issue_certificate
from wangua.kit.money import format_fen
from wangua.reserve.sealing import SealingKey, SealInvalid, seal


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> SealingKey:
    return SealingKey(tmp_path_factory.mktemp("sealing"))


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    directory = tmp_path_factory.mktemp("ca")
    init_ca(directory)
    pair = issue_certificate(directory, common_name="监督员", out_prefix=directory / "supervisor")
    return pair.key_path.read_bytes(), pair.cert_path.read_bytes()


def _sealed(key: SealingKey, signer: tuple[bytes, bytes], code: str, fen: int) -> bytes:
    certificate = key.certificate_pem().encode()
    return seal(code, format_fen(fen), certificate, *signer).ciphertext


def test_r11_reserves_opened_together_each_open_to_their_own_price(
    key: SealingKey, signer: tuple[bytes, bytes]
) -> None:
    prices = {f"XN2026-{n:02d}": 100_000_000_00 + n * 137 for n in range(12)}
    sealed = [(_sealed(key, signer, code, fen), code) for code, fen in prices.items()]
    assert key.open_all(sealed) == list(prices.values())
    assert key.open_all(sealed[:1]) == [prices["XN2026-00"]]
    assert key.open_all([]) == []


def test_r11_one_reserve_that_does_not_open_fails_the_opening_of_them_all(
    key: SealingKey, signer: tuple[bytes, bytes]
) -> None:
    sealed = [(_sealed(key, signer, f"XN2026-{n:02d}", 1_00), f"XN2026-{n:02d}") for n in range(4)]
    sealed[2] = (sealed[2][0], "XN2026-99")  # sealed for another lot
    with pytest.raises(SealInvalid):
        key.open_all(sealed)


def test_r11_a_reserve_does_not_open_with_another_key(
    key: SealingKey, signer: tuple[bytes, bytes], tmp_path: Path
) -> None:
    other = SealingKey(tmp_path)
    sealed = _sealed(other, signer, "XN2026-01", 1_00)
    with pytest.raises(SealInvalid):
        key.open_all([(sealed, "XN2026-01"), (sealed, "XN2026-01")])
