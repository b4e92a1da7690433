"""Pure rules for a lot's schedule (R-09a, R-09b)."""

from __future__ import annotations

from datetime import datetime, timedelta

ANNOUNCEMENT_LEAD = timedelta(days=20)
"""R-09a: the announcement is published at least 20 days before the listing starts."""

MINIMUM_LISTING = timedelta(days=10)
"""R-09b: the listing period lasts at least 10 days."""


def announcement_too_late(published_at: datetime, listing_start: datetime) -> bool:
    """R-09a."""
    return listing_start - published_at < ANNOUNCEMENT_LEAD


def listing_too_short(listing_start: datetime, listing_end: datetime) -> bool:
    """R-09b."""
    return listing_end - listing_start < MINIMUM_LISTING
