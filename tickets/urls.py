"""API routes of the ticket store (mounted under /api/)."""

from django.urls import path

from tickets.core.apis import assignments as a
from tickets.core.apis import catalogue as c
from tickets.core.apis import tickets as t
from tickets.intake.apis import tickets as intake_tickets
from tickets.knowledge import apis as kb_api
from tickets.notes import apis as notes_api
from tickets.supervision.apis import endpoints as sv

urlpatterns = [
    path("me/", c.MeApi.as_view(), name="me"),
    path("tickets/", intake_tickets.TicketListCreateApi.as_view(), name="ticket-list"),
    path("tickets/<int:ticket_id>/", t.TicketDetailApi.as_view(), name="ticket-detail"),
    path("tickets/<int:ticket_id>/history/", t.TicketHistoryApi.as_view(), name="ticket-history"),
    path("tickets/<int:ticket_id>/notes/", notes_api.TicketNotesApi.as_view(), name="ticket-notes"),
    path("tickets/<int:ticket_id>/reveal-phone/", t.TicketRevealPhoneApi.as_view(), name="ticket-reveal-phone"),
    path("tickets/<int:ticket_id>/dispatch/", t.TicketDispatchApi.as_view(), name="ticket-dispatch"),
    path("tickets/<int:ticket_id>/review/", t.TicketReviewApi.as_view(), name="ticket-review"),
    path("tickets/<int:ticket_id>/close/", t.TicketCloseApi.as_view(), name="ticket-close"),
    path("tickets/<int:ticket_id>/reopen/", t.TicketReopenApi.as_view(), name="ticket-reopen"),
    path("tickets/<int:ticket_id>/merge/", t.TicketMergeApi.as_view(), name="ticket-merge"),
    path("tickets/<int:ticket_id>/unmerge/", t.TicketUnmergeApi.as_view(), name="ticket-unmerge"),
    path(
        "tickets/<int:ticket_id>/answer-directly/",
        kb_api.TicketAnswerDirectlyApi.as_view(),
        name="ticket-answer-directly",
    ),
    path("tickets/<int:ticket_id>/out-of-scope/", t.TicketOutOfScopeApi.as_view(), name="ticket-out-of-scope"),
    path("tickets/<int:ticket_id>/complete/", intake_tickets.TicketCompleteApi.as_view(), name="ticket-complete"),
    path("dispatch-queue/", t.DispatchQueueApi.as_view(), name="dispatch-queue"),
    path("assignments/", a.AssignmentListApi.as_view(), name="assignment-list"),
    path("assignments/<int:assignment_id>/sign/", a.AssignmentSignApi.as_view(), name="assignment-sign"),
    path("assignments/<int:assignment_id>/reply/", a.AssignmentReplyApi.as_view(), name="assignment-reply"),
    path(
        "assignments/<int:assignment_id>/redispatch/", a.AssignmentRedispatchApi.as_view(), name="assignment-redispatch"
    ),
    path(
        "assignments/<int:assignment_id>/request-return/",
        a.AssignmentRequestReturnApi.as_view(),
        name="assignment-request-return",
    ),
    path(
        "assignments/<int:assignment_id>/decide-return/",
        a.AssignmentDecideReturnApi.as_view(),
        name="assignment-decide-return",
    ),
    path(
        "assignments/<int:assignment_id>/request-extension/",
        a.AssignmentRequestExtensionApi.as_view(),
        name="assignment-request-extension",
    ),
    path(
        "assignments/<int:assignment_id>/decide-extension/",
        a.AssignmentDecideExtensionApi.as_view(),
        name="assignment-decide-extension",
    ),
    path("units/", c.UnitListApi.as_view(), name="unit-list"),
    path("categories/", c.CategoryListApi.as_view(), name="category-list"),
    path("routing-rules/", c.RoutingRuleListApi.as_view(), name="routing-rule-list"),
    # 统一督办 and clocks
    path("supervision/board/", sv.SupervisionBoardApi.as_view(), name="supervision-board"),
    path("supervision/requests/", sv.PendingRequestsApi.as_view(), name="supervision-requests"),
    path("tickets/<int:ticket_id>/flag/", sv.TicketFlagApi.as_view(), name="ticket-flag"),
    path("tickets/<int:ticket_id>/unflag/", sv.TicketUnflagApi.as_view(), name="ticket-unflag"),
    path("tickets/<int:ticket_id>/supervise/", sv.TicketSuperviseApi.as_view(), name="ticket-supervise"),
    path(
        "assignments/<int:assignment_id>/pause-clock/",
        sv.AssignmentPauseClockApi.as_view(),
        name="assignment-pause-clock",
    ),
    path(
        "assignments/<int:assignment_id>/resume-clock/",
        sv.AssignmentResumeClockApi.as_view(),
        name="assignment-resume-clock",
    ),
]

# --- intake: the operators' call console and the citizen app (统一接收) ----------------------------
from tickets.intake.apis import app as app_api  # noqa: E402
from tickets.intake.apis import calls as calls_api  # noqa: E402

urlpatterns += [
    path("calls/<str:call_sid>/caller-history/", calls_api.CallerHistoryApi.as_view(), name="call-caller-history"),
    path("callbacks/", calls_api.CallbackListApi.as_view(), name="callback-list"),
    path("callbacks/<int:task_id>/done/", calls_api.CallbackDoneApi.as_view(), name="callback-done"),
    path("app/auth/code/", app_api.AppCodeApi.as_view(), name="app-auth-code"),
    path("app/auth/login/", app_api.AppLoginApi.as_view(), name="app-auth-login"),
    path("app/tickets/", app_api.AppTicketListCreateApi.as_view(), name="app-ticket-list"),
    path("app/tickets/<str:number>/", app_api.AppTicketDetailApi.as_view(), name="app-ticket-detail"),
    path("app/tickets/<str:number>/rating/", app_api.AppRateApi.as_view(), name="app-ticket-rate"),
    path("app/tickets/<str:number>/supplement/", app_api.AppSupplementApi.as_view(), name="app-ticket-supplement"),
]

# --- 评价反馈: 回访 queue and 不满意 review -------------------------------------------------------
from tickets.feedback import apis as r  # noqa: E402

urlpatterns += [
    path("callbacks/rating/", r.CallbackQueueApi.as_view(), name="rating-callback-queue"),
    path("callbacks/rating/<int:callback_id>/record/", r.CallbackRecordApi.as_view(), name="rating-callback-record"),
    path("ratings/dissatisfied/", r.DissatisfiedQueueApi.as_view(), name="rating-dissatisfied"),
    path("ratings/<int:rating_id>/decide/", r.RatingDecideApi.as_view(), name="rating-decide"),
]

# --- Unit scorecards (三率 and the rest) ---------------------------------------------------------
from tickets.metrics.apis import scorecards as m  # noqa: E402

urlpatterns += [
    path("metrics/units/", m.UnitMetricsApi.as_view(), name="metrics-units"),
    path("metrics/ranking/", m.RankingApi.as_view(), name="metrics-ranking"),
    path("metrics/trends/", m.MetricsTrendApi.as_view(), name="metrics-trends"),
]

# --- Exports (tickets CSV/XLSX, scorecards CSV), role-limited and logged ------------------------
from tickets.metrics.apis import exports as x  # noqa: E402

urlpatterns += [
    path("exports/tickets.csv", x.TicketCsvExportApi.as_view(), name="export-tickets-csv"),
    path("exports/tickets.xlsx", x.TicketXlsxExportApi.as_view(), name="export-tickets-xlsx"),
    path("exports/metrics.csv", x.MetricsCsvExportApi.as_view(), name="export-metrics-csv"),
]

# 并单, 热点, 重复来电率 and 知识库 (tickets/knowledge/apis.py)
from tickets.duplicates import apis as dup_api  # noqa: E402
from tickets.knowledge import apis as kb_api  # noqa: E402

urlpatterns += [
    path("tickets/<int:ticket_id>/duplicates/", dup_api.TicketDuplicatesApi.as_view(), name="ticket-duplicates"),
    path(
        "tickets/<int:ticket_id>/duplicates/confirm/",
        dup_api.TicketDuplicateConfirmApi.as_view(),
        name="ticket-duplicate-confirm",
    ),
    path("duplicates/preview/", dup_api.DuplicatePreviewApi.as_view(), name="duplicate-preview"),
    path("metrics/repeat-call-rate/", dup_api.RepeatCallRateApi.as_view(), name="repeat-call-rate"),
    path("hotspots/", dup_api.HotspotListApi.as_view(), name="hotspot-list"),
    path("hotspots/alerts/", dup_api.HotspotAlertListApi.as_view(), name="hotspot-alert-list"),
    path("kb/search/", kb_api.KbSearchApi.as_view(), name="kb-search"),
    path("kb/articles/", kb_api.KbArticleListCreateApi.as_view(), name="kb-article-list"),
    path("kb/articles/<int:article_id>/", kb_api.KbArticleDetailApi.as_view(), name="kb-article-detail"),
    path("kb/proposals/", kb_api.KbProposalListCreateApi.as_view(), name="kb-proposal-list"),
    path("kb/proposals/<int:proposal_id>/decide/", kb_api.KbProposalDecideApi.as_view(), name="kb-proposal-decide"),
]
