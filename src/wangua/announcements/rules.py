"""R-10b as a pure rule."""

from __future__ import annotations

from datetime import datetime, timedelta

MAJOR_CHANGE_NOTICE = timedelta(days=20)
"""R-10b: a major change published less than 20 days before the deadline moves it."""


def deadline_after_supplement(
    listing_end: datetime, published_at: datetime, major: bool
) -> datetime:
    """R-10b: a major change leaves at least 20 days between the notice and the deadline."""
    if major and listing_end - published_at < MAJOR_CHANGE_NOTICE:
        return published_at + MAJOR_CHANGE_NOTICE
    return listing_end
