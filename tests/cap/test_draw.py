"""R-CAP: the lottery's draw is a function of the published seed, lot and entrants only,
and every entrant can win it; the seed stays sealed to the system until the draw."""

from __future__ import annotations

import hashlib
from pathlib import Path
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wangua.cap import draw
from wangua.reserve.sealing import SealingKey, SealInvalid

numbers = st.lists(st.from_regex(r"[0-9]{3,4}", fullmatch=True), min_size=1, max_size=12)
seeds = st.binary(min_size=draw.SEED_BYTES, max_size=draw.SEED_BYTES)


@given(seeds, numbers, st.randoms())
def test_r_cap_the_winner_is_an_entrant_whatever_order_they_are_listed_in(
    seed: bytes, entrants: list[str], order: Random
) -> None:
    shuffled = list(entrants) + entrants[:1]  # a repeated entrant counts once
    order.shuffle(shuffled)
    won = draw.winner(seed, "XN2026-01", entrants)
    assert won in entrants
    assert draw.winner(seed, "XN2026-01", shuffled) == won


@given(seeds)
def test_r_cap_the_commitment_is_the_seeds_sha256(seed: bytes) -> None:
    assert draw.commitment(seed) == hashlib.sha256(seed).hexdigest()


@pytest.mark.parametrize("size", [2, 3, 5, 8])
def test_r_cap_every_entrant_can_win(size: int) -> None:
    entrants = [f"{100 + i}" for i in range(size)]
    winners = {
        draw.winner(hashlib.sha256(str(i).encode()).digest(), "XN2026-01", entrants)
        for i in range(200)
    }
    assert winners == set(entrants)


def test_r_cap_the_draw_depends_on_the_lot() -> None:
    entrants = [f"{100 + i}" for i in range(8)]
    seed = hashlib.sha256(b"seed").digest()
    assert len({draw.winner(seed, f"XN2026-{k:02}", entrants) for k in range(40)}) > 1


def test_r_cap_a_lottery_needs_an_entrant() -> None:
    with pytest.raises(ValueError):
        draw.winner(draw.new_seed(), "XN2026-01", [])


def test_r_cap_the_seed_is_sealed_for_its_lot_only(tmp_path: Path) -> None:
    key = SealingKey(tmp_path)
    seed = draw.new_seed()
    sealed = key.seal_secret(seed, "XN2026-01")
    assert seed not in sealed and seed.hex().encode() not in sealed
    assert key.open_secret(sealed, "XN2026-01") == seed
    with pytest.raises(SealInvalid):
        key.open_secret(sealed, "XN2026-02")
