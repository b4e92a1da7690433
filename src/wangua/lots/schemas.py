"""Request bodies for lots (API.md, Lots)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field


class LotCreate(BaseModel):
    """R-02: one parcel, its land-use conditions, prices and schedule.

    `asset_type` and `layer` are the codes of `lots.assets` (R-02, Art. 46), whose
    `details` an asset type may require; other spellings are kept as given. Money
    fields are yuan strings with at most two decimals; times are RFC 3339 with an
    offset. Both are checked by the service so that refusals carry the project's
    stable codes.
    """

    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    grantor: str
    asset_type: str = Field(default="state_construction_land", min_length=1, max_length=40)
    layer: str = Field(default="surface", min_length=1, max_length=20)
    location: str = Field(min_length=1, max_length=300)
    area_m2: Decimal = Field(gt=0, max_digits=16, decimal_places=2)
    land_use: str = Field(min_length=1, max_length=100)
    term_years: int = Field(gt=0, le=70)
    planning: dict[str, Any] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)
    start_price: Any
    increment: Any
    deposit: Any
    has_reserve: bool = False
    price_cap: Any = None
    application_deadline: Any
    deposit_deadline: Any
    listing_start: Any
    listing_end: Any
