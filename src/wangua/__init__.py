"""wangua — online listing auctions of state-owned construction land use rights."""

__version__ = "0.1.0"
