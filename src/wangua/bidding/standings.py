"""The standing at which this process last accepted a quote on each lot, so the stale
check a waiting quote gets (bidding.prejudge, R-19b) is skipped where it cannot refuse.

While a quote waits its turn behind the lot's earlier quotes, the committed lot is read
to refuse a stale one without the wait. A lot's highest price only rises, and its quoting
window closes no earlier than when a quote was last accepted in it (unless the lot is
voided or terminated first). So a quote at least one increment above the highest price
accepted here, received before that window closes, cannot be refused by the check: it
is not made. A quote that another process's acceptances made stale, which this process
has not seen, waits its turn and is refused under the lock with the same code.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from wangua.bidding import rules


@dataclass(frozen=True)
class Accepted:
    highest_fen: int
    increment_fen: int
    closes_at: datetime

    @classmethod
    def left(cls, standing: rules.Standing) -> Accepted | None:
        """What a quote accepted leaving `standing` shows of the quotes after it."""
        if standing.highest_fen is None or standing.window is None:
            return None
        return cls(standing.highest_fen, standing.increment_fen, standing.window.closes_at)

    def not_stale(self, amount_fen: int, received_at: datetime) -> bool:
        """Whether a quote of `amount_fen` received at `received_at` is surely neither too
        small nor too late for the lot as this acceptance left it."""
        return amount_fen >= self.highest_fen + self.increment_fen and received_at < self.closes_at


PRUNE_AT = 1024  # lots remembered before those whose window has closed are looked for


class Standings:
    """Per lot, the standing its latest quote accepted by this process left."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accepted: dict[int, Accepted] = {}
        self._prune_at = PRUNE_AT

    def __len__(self) -> int:
        return len(self._accepted)

    def accepted(self, lot_id: int, standing: rules.Standing, received_at: datetime) -> None:
        """A quote received at `received_at` was accepted on the lot, leaving `standing`
        (called in the lot's turn, so in the order the quotes were accepted).

        Now and then the lots whose window closed before that receipt are forgotten, or
        every lot this process ever accepted a quote on would stay: the receipts since
        are at the window's close or after it, so they skip no check; a quote received
        earlier on such a lot, still waiting, just gets its check."""
        seen = Accepted.left(standing)
        if seen is None:
            return
        with self._lock:
            self._accepted[lot_id] = seen
            if len(self._accepted) >= self._prune_at:
                self._accepted = {
                    lot: kept
                    for lot, kept in self._accepted.items()
                    if kept.closes_at > received_at
                }
                self._prune_at = max(PRUNE_AT, 2 * len(self._accepted))

    def not_stale(self, lot_id: int, amount_fen: int, received_at: datetime) -> bool:
        """Whether the committed lot surely neither finds the quote too small nor has
        ended at its receipt (bidding.prejudge would let it through)."""
        with self._lock:
            seen = self._accepted.get(lot_id)
        return seen is not None and seen.not_stale(amount_fen, received_at)
