"""后台任务 (supervisors and admins): start classifier retraining or a calendar import, watch progress."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tickets.core.actors import Actor
from tickets.errors import InvalidInput
from tickets.jobs import services as job_service
from tickets.jobs.models import BackgroundJob, JobKind
from tickets.org.models import Role
from tickets.pages.common import post_only, role_required, run_service

JOB_PAGE_ROLES = (Role.SUPERVISOR, Role.ADMIN)


@require_GET
@role_required(*JOB_PAGE_ROLES)
def jobs(request: HttpRequest) -> HttpResponse:
    recent = list(BackgroundJob.objects.select_related("started_by").order_by("-id")[:20])
    return render(request, "tickets/board/jobs.html", {"jobs": recent, "kinds": JobKind, "tab": "jobs"})


@post_only
@role_required(*JOB_PAGE_ROLES)
def job_start(request: HttpRequest, kind: str) -> HttpResponse:
    actor = Actor.of(request.user)  # type: ignore[arg-type]

    def start() -> None:
        payload = None
        if kind == JobKind.CALENDAR_IMPORT:
            upload = request.FILES.get("file")
            if upload is None:
                raise InvalidInput(_("请选择要导入的年度节假日安排文件"), field="file", rule="required")
            payload = job_service.calendar_payload(name=upload.name or "", content=upload.read())
        job_service.job_start(actor=actor, kind=kind, payload=payload)

    label = JobKind(kind).label if kind in JobKind.values else _("后台任务")
    run_service(request, start, _("已提交“%(job)s”，进度见下方") % {"job": label})
    return redirect("jobs")


@require_GET
@role_required(*JOB_PAGE_ROLES)
def job_status(request: HttpRequest, job_id: int) -> JsonResponse:
    """What the page polls: state, percent and the steps so far."""
    job = get_object_or_404(BackgroundJob, pk=job_id)
    return JsonResponse(
        {
            "id": job.pk,
            "kind": job.kind,
            "state": job.state,
            "state_label": job.get_state_display(),
            "progress": job.progress,
            "message": job.message,
            "steps": job.steps,
            "finished": job.finished_at is not None,
        }
    )
