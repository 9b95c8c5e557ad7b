"""The app's model registry. Django imports `tickets.models`; this module imports every domain's
models module, so each model is registered under the app label `tickets` (tables, migrations and
admin URLs unchanged). Code imports a model from its domain (`tickets.core.models`, ...); only the
admin reads this registry (import-linter contract "model registry").
"""

from __future__ import annotations

from django.db.models import Model

from tickets.accounts.models import ApiToken, LoginLockout, StaffSession
from tickets.core.models import (
    AccessAction,
    ActorKind,
    Assignment,
    AssignmentRole,
    Channel,
    Kind,
    Outcome,
    Ticket,
    TicketAccessLog,
    TicketEvent,
    TicketNumberSequence,
    Urgency,
    top_lead_q,
)
from tickets.duplicates.models import DuplicateLink, DuplicateLinkKind, HotspotAlert, TicketBand, TicketFingerprint
from tickets.feedback.models import (
    Cause,
    Rating,
    RatingCallback,
    RatingCallbackState,
    RatingRequest,
    RatingRequestState,
    Review,
    Satisfaction,
)
from tickets.intake.models import (
    AttachmentSource,
    Call,
    CallbackTask,
    CitizenSession,
    IdempotencyRecord,
    InboundChannel,
    InboundMessage,
    MissedCallState,
    PartnerKey,
    PhoneLine,
    TicketAttachment,
    VerificationCode,
)
from tickets.jobs.models import BackgroundJob, JobKind, JobState
from tickets.knowledge.models import KbArticle, KbArticleVersion, KbProposal, ProposalState
from tickets.live.models import LiveOutbox
from tickets.messaging.models import SmsMessage, SmsOptOut, SmsPurpose, SmsState
from tickets.metrics.models import COUNTERS, MetricsConfig, UnitDayStats, UnitMonthStats, same_caller_days
from tickets.model_labels import apply_labels
from tickets.notes.models import ReplyTemplate, TicketNote
from tickets.org.models import (
    CENTRE_ROLES,
    FUNCTIONAL_MATTER_MESSAGE,
    STREET_LEVEL_KINDS,
    TERRITORIAL_KINDS,
    UNIT_GROUPS,
    Category,
    Role,
    RoutingRule,
    Unit,
    UnitKind,
    User,
    functional_matter_refuses,
)
from tickets.sla.models import (
    AdminAlert,
    AlertKind,
    CalendarDay,
    CalendarYear,
    CityProfile,
    DayTypeChoice,
    LimitUnitChoice,
    SlaPolicy,
)
from tickets.supervision.models import NoticeSmsStatus, NoticeTemplate, Supervision, SupervisionLevel

# Chinese names for the admin (tickets/model_labels.py), applied once as the models load.
apply_labels(v for v in list(globals().values()) if isinstance(v, type) and issubclass(v, Model) and v is not Model)

__all__ = [
    "CENTRE_ROLES",
    "COUNTERS",
    "FUNCTIONAL_MATTER_MESSAGE",
    "STREET_LEVEL_KINDS",
    "TERRITORIAL_KINDS",
    "UNIT_GROUPS",
    "AccessAction",
    "ActorKind",
    "AdminAlert",
    "AlertKind",
    "ApiToken",
    "Assignment",
    "AssignmentRole",
    "AttachmentSource",
    "BackgroundJob",
    "CalendarDay",
    "CalendarYear",
    "Call",
    "CallbackTask",
    "Category",
    "Cause",
    "Channel",
    "CitizenSession",
    "CityProfile",
    "DayTypeChoice",
    "DuplicateLink",
    "DuplicateLinkKind",
    "HotspotAlert",
    "IdempotencyRecord",
    "InboundChannel",
    "InboundMessage",
    "JobKind",
    "JobState",
    "KbArticle",
    "KbArticleVersion",
    "KbProposal",
    "Kind",
    "LimitUnitChoice",
    "LiveOutbox",
    "LoginLockout",
    "MetricsConfig",
    "MissedCallState",
    "NoticeSmsStatus",
    "NoticeTemplate",
    "Outcome",
    "PartnerKey",
    "PhoneLine",
    "ProposalState",
    "Rating",
    "RatingCallback",
    "RatingCallbackState",
    "RatingRequest",
    "RatingRequestState",
    "ReplyTemplate",
    "Review",
    "Role",
    "RoutingRule",
    "Satisfaction",
    "SlaPolicy",
    "SmsMessage",
    "SmsOptOut",
    "SmsPurpose",
    "SmsState",
    "StaffSession",
    "Supervision",
    "SupervisionLevel",
    "Ticket",
    "TicketAccessLog",
    "TicketAttachment",
    "TicketBand",
    "TicketEvent",
    "TicketFingerprint",
    "TicketNote",
    "TicketNumberSequence",
    "Unit",
    "UnitDayStats",
    "UnitKind",
    "UnitMonthStats",
    "Urgency",
    "User",
    "VerificationCode",
    "functional_matter_refuses",
    "same_caller_days",
    "top_lead_q",
]
