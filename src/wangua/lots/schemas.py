"""Request bodies for lots (API.md, Lots)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

AssetType = Literal[
    "state_construction_land",
    "mining_right",
    "rural_collective_construction_land",
    "state_land_lease",
]
Layer = Literal["surface", "above_ground", "underground"]


class LotCreate(BaseModel):
    """R-02: one parcel, its land-use conditions, prices and schedule.

    Money fields are yuan strings with at most two decimals; times are RFC 3339
    with an offset. They are checked by the service so that refusals carry the
    project's stable codes.
    """

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    grantor: str
    asset_type: AssetType = "state_construction_land"
    layer: Layer = "surface"
    location: str = Field(min_length=1, max_length=300)
    area_m2: Decimal = Field(gt=0, max_digits=16, decimal_places=2)
    land_use: str = Field(min_length=1, max_length=100)
    term_years: int = Field(gt=0, le=70)
    planning: dict[str, Any] = Field(default_factory=dict)
    start_price: Any
    increment: Any
    deposit: Any
    has_reserve: bool = False
    price_cap: Any = None
    application_deadline: Any
    deposit_deadline: Any
    listing_start: Any
    listing_end: Any
