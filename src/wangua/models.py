"""Every table, imported once so the metadata is complete (Alembic, tests)."""

from wangua.announcements.models import Supplement
from wangua.applications.models import Application
from wangua.audit.models import AuditCheckpoint, AuditEntry, AuditStream
from wangua.availability.models import Outage, ServingSession
from wangua.bidding.models import InquiryAnswer, Proxy, Quote, Result
from wangua.cap.models import CapAcceptance, CapLottery
from wangua.confidentiality.models import BreakGlass
from wangua.db import Base
from wangua.deposits.models import DepositAccount, Guarantee, Payment, Refund, WorkdaySchedule
from wangua.documents.models import Document
from wangua.identity.models import (
    AccessToken,
    AccountRequest,
    LoginNonce,
    Party,
    Revocation,
    User,
)
from wangua.kit.clock import ClockState
from wangua.live.models import LotEvent
from wangua.lots.models import Grantor, Lot
from wangua.pricing.models import PriceRecord
from wangua.printing.models import IssuedDocument
from wangua.publishing.models import Delivery, Publication
from wangua.reserve.models import SealedReserveRow
from wangua.scheduler.models import Timer
from wangua.suspension.models import Approval, Suspension

__all__ = [
    "AccessToken",
    "AccountRequest",
    "Application",
    "Approval",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditStream",
    "Base",
    "BreakGlass",
    "CapAcceptance",
    "CapLottery",
    "ClockState",
    "Delivery",
    "DepositAccount",
    "Document",
    "Grantor",
    "Guarantee",
    "InquiryAnswer",
    "IssuedDocument",
    "LoginNonce",
    "Lot",
    "LotEvent",
    "Outage",
    "Party",
    "Payment",
    "PriceRecord",
    "Proxy",
    "Publication",
    "Quote",
    "Refund",
    "Result",
    "Revocation",
    "SealedReserveRow",
    "ServingSession",
    "Supplement",
    "Suspension",
    "Timer",
    "User",
    "WorkdaySchedule",
]
