"""The ticket store. One module per area; everything is importable from `tickets.models`."""

from tickets.models.auth import ApiToken, LoginLockout, StaffSession
from tickets.models.duplicates import (
    DuplicateLink,
    DuplicateLinkKind,
    HotspotAlert,
    TicketBand,
    TicketFingerprint,
    same_caller_days,
)
from tickets.models.kb import KbArticle, KbArticleVersion, KbProposal, ProposalState
from tickets.models.live import LiveOutbox
from tickets.models.org import (
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
from tickets.models.sla import (
    CalendarDay,
    CalendarYear,
    CityProfile,
    DayTypeChoice,
    LimitUnitChoice,
    SlaPolicy,
)
from tickets.models.supervision import (
    AdminAlert,
    AlertKind,
    NoticeTemplate,
    SmsStatus,
    Supervision,
    SupervisionLevel,
)
from tickets.models.tickets import (
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

__all__ = [
    "CENTRE_ROLES",
    "FUNCTIONAL_MATTER_MESSAGE",
    "STREET_LEVEL_KINDS",
    "TERRITORIAL_KINDS",
    "UNIT_GROUPS",
    "AccessAction",
    "ActorKind",
    # 统一督办
    "AdminAlert",
    "AlertKind",
    "Assignment",
    "AssignmentRole",
    "CalendarDay",
    "CalendarYear",
    "Category",
    "Channel",
    "CityProfile",
    "DayTypeChoice",
    "DuplicateLink",
    "DuplicateLinkKind",
    "HotspotAlert",
    "KbArticle",
    "KbArticleVersion",
    "KbProposal",
    "Kind",
    "LimitUnitChoice",
    "LiveOutbox",
    "NoticeTemplate",
    "Outcome",
    "ProposalState",
    "Role",
    "RoutingRule",
    "SlaPolicy",
    "SmsStatus",
    "Supervision",
    "SupervisionLevel",
    "Ticket",
    "TicketAccessLog",
    "TicketBand",
    "TicketEvent",
    "TicketFingerprint",
    "TicketNumberSequence",
    "Unit",
    "UnitKind",
    "Urgency",
    "User",
    "functional_matter_refuses",
    "same_caller_days",
    "top_lead_q",
]

# --- intake (统一接收: webhooks, calls, SMS, citizen logins, partners) and rating ---------------
from tickets.models.intake import (
    Call,
    CallbackState,
    CallbackTask,
    CitizenSession,
    IdempotencyRecord,
    InboundChannel,
    InboundMessage,
    PartnerKey,
    PhoneLine,
    SmsMessage,
    SmsOptOut,
    SmsPurpose,
    SmsState,
    TicketAttachment,
    VerificationCode,
)
from tickets.models.rating import Rating, Satisfaction

__all__ += [
    "Call",
    "CallbackState",
    "CallbackTask",
    "CitizenSession",
    "IdempotencyRecord",
    "InboundChannel",
    "InboundMessage",
    "PartnerKey",
    "PhoneLine",
    "Rating",
    "Satisfaction",
    "SmsMessage",
    "SmsOptOut",
    "SmsPurpose",
    "SmsState",
    "TicketAttachment",
    "VerificationCode",
]

# --- rating feedback (评价反馈: 回访, 不满意 review) ----------------------------------------------
from tickets.models.rating import (  # noqa: E402
    CallbackStatus,
    Cause,
    RatingCallback,
    RatingRequest,
    RatingRequestState,
    Review,
)

__all__ += ["CallbackStatus", "Cause", "RatingCallback", "RatingRequest", "RatingRequestState", "Review"]

# --- unit scorecards (三率 and the rest) ------------------------------------------------------
from tickets.models.metrics import COUNTERS, MetricsConfig, UnitDayStats, UnitMonthStats  # noqa: E402

__all__ += ["COUNTERS", "MetricsConfig", "UnitDayStats", "UnitMonthStats"]

# --- long operations started from a page, with progress ----------------------------------------
from tickets.models.jobs import BackgroundJob, JobKind, JobState  # noqa: E402

__all__ += ["BackgroundJob", "JobKind", "JobState"]

# --- staff logins: API tokens, sessions by user, login lockouts (issue 14) ---------------------
__all__ += ["ApiToken", "LoginLockout", "StaffSession"]
