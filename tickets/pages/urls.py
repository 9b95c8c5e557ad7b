from django.urls import path

from tickets.pages import auth, board, citizen, console, jobs, outbox, supervisor, unit, views

urlpatterns = [
    path("", views.home, name="home"),
    # --- intake: citizen pages (no login) and the staff SMS outbox ---
    path("citizen/", citizen.home, name="citizen-home"),
    path("citizen/verify/", citizen.verify, name="citizen-verify"),
    path("citizen/submit/", citizen.submit, name="citizen-submit"),
    path("citizen/submitted/", citizen.submitted, name="citizen-submitted"),
    path("citizen/status/", citizen.status, name="citizen-status"),
    path("citizen/rate/<str:token>/", citizen.rate, name="citizen-rate"),
    path("sms-outbox/", outbox.sms_outbox, name="sms-outbox"),
    # --- the staff workspaces: login, 话务台, 承办工作台, 督办看板 ---
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("console/", console.console, name="console"),
    path("console/panels/<str:panel>/", console.console_panel, name="console-panel"),
    path("console/suggest/", console.console_suggest, name="console-suggest"),
    path("console/assist/", console.console_assist, name="console-assist"),
    path("console/tickets/", console.console_create, name="console-create"),
    path("console/tickets/answer/", console.console_answer, name="console-answer"),
    path(
        "console/callbacks/<int:callback_id>/record/",
        console.console_callback_record,
        name="console-callback-record",
    ),
    path("console/tickets/<int:ticket_id>/dispatch/", console.console_dispatch, name="console-dispatch"),
    path("console/assignments/<int:assignment_id>/<str:what>/", console.console_decide, name="console-decide"),
    path("console/tickets/<int:ticket_id>/review/", console.console_review, name="console-review"),
    path("console/tickets/<int:ticket_id>/complete/", console.console_complete_draft, name="console-complete"),
    path("unit/", unit.inbox, name="unit-inbox"),
    path("unit/inbox/", unit.inbox_fragment, name="unit-inbox-fragment"),
    path("unit/tickets/<int:ticket_id>/", unit.ticket_detail, name="unit-ticket"),
    path("unit/tickets/<int:ticket_id>/reveal-phone/", unit.reveal_phone, name="unit-reveal"),
    path("unit/tickets/<int:ticket_id>/<str:action>/", unit.ticket_action, name="unit-action"),
    path("board/", board.board, name="board"),
    path("board/fragment/", board.board_fragment, name="board-fragment"),
    path("board/tickets/<int:ticket_id>/<str:action>/", board.board_action, name="board-action"),
    path("board/scorecards/", supervisor.scorecards, name="board-scorecards"),
    path("board/units/<str:code>/tickets/", supervisor.unit_tickets, name="board-unit-tickets"),
    path("board/ratings/", supervisor.ratings, name="board-ratings"),
    path("board/ratings/<int:rating_id>/decide/", supervisor.rating_decide, name="board-rating-decide"),
    path("board/jobs/", jobs.jobs, name="jobs"),
    path("board/jobs/start/<str:kind>/", jobs.job_start, name="job-start"),
    path("board/jobs/<int:job_id>/", jobs.job_status, name="job-status"),
]
