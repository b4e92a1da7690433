"""Asset types (R-02, Art. 46): the same auction for other rights, with their own fields
and the wording of their documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AssetType:
    name: str
    right: str
    """The right granted, as documents name it."""
    contract: str
    required_details: tuple[tuple[str, str], ...] = ()
    """(key, label) of the fields this asset type needs in `details`."""


ASSET_TYPES: dict[str, AssetType] = {
    "state_construction_land": AssetType(
        "国有建设用地使用权", "国有建设用地使用权", "国有建设用地使用权出让合同"
    ),
    "mining_right": AssetType(
        "矿业权",
        "采矿权",
        "采矿权出让合同",
        (
            ("mineral", "矿种"),
            ("mining_area_km2", "矿区面积(平方千米)"),
            ("production_scale", "生产规模"),
        ),
    ),
    "rural_collective_construction_land": AssetType(
        "农村集体经营性建设用地使用权",
        "集体经营性建设用地使用权",
        "集体经营性建设用地使用权出让合同",
        (("collective", "集体经济组织"), ("resolution", "村民会议或村民代表会议决议")),
    ),
    "state_land_lease": AssetType(
        "国有建设用地使用权租赁",
        "国有建设用地使用权(租赁)",
        "国有建设用地使用权租赁合同",
        (("lease_years", "租赁年限"), ("rent_payment", "租金支付方式")),
    ),
}
LAYERS = {"surface": "地表", "above_ground": "地上", "underground": "地下"}


def missing_details(asset_type: str, details: dict[str, Any]) -> list[str]:
    """The labels of the fields this asset type needs that `details` lacks. API v1 has no
    `details`, so a missing one is shown to staff as a warning, never refused."""
    known = ASSET_TYPES.get(asset_type)
    if known is None:
        return []
    return [label for key, label in known.required_details if details.get(key) in (None, "")]


def document_names(asset_type: str) -> dict[str, str]:
    """R-08 document names in the wording of the asset type."""
    known = ASSET_TYPES.get(asset_type, ASSET_TYPES["state_construction_land"])
    return {
        "announcement": f"{known.right}挂牌出让公告",
        "bidder_instructions": f"{known.right}挂牌出让须知",
        "planning_indicators": "宗地规划指标要求" if "land" in asset_type else "出让范围与技术指标",
        "boundary_map": "宗地界址图" if "land" in asset_type else "矿区范围图",
        "application_form": "竞买申请书",
        "confirmation_template": "成交确认书",
        "contract_template": known.contract,
    }
