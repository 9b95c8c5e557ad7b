"""Long operations started from a page: classifier retraining and working-day calendar import.

`job_start` writes a BackgroundJob row and, after commit, hands its id to the Celery task
`tickets.job_run` (run inline in the embedded set-up). `job_run` does the work through the
existing cores (classifier.tasks.retrain_from_store, services.calendar.calendar_import_file) and
writes each step to the row, which the page polls.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from classifier.tasks import MIN_ROWS, retrain_from_store
from tickets.core.actors import Actor
from tickets.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from tickets.jobs.calendar_problems import year_file_text
from tickets.jobs.models import BackgroundJob, JobKind, JobState
from tickets.org.models import Role
from tickets.sla.calendar_source import YearFileError
from tickets.sla.services.calendar import calendar_import_file

logger = logging.getLogger(__name__)

JOB_ROLES = (Role.SUPERVISOR, Role.ADMIN)
CALENDAR_FILE_MAX = 256 * 1024
CALENDAR_SUFFIXES = (".toml", ".json")

# What the retraining core says (English, for logs) → what the page shows, with a rough percentage.
_RETRAIN_STEPS: tuple[tuple[str, int, str], ...] = (
    ("rows ", 10, "已读取训练数据"),
    ("fitting on ", 30, "正在留出检验集并训练"),
    ("held-back slice", 55, "留出检验完成"),
    ("fitting the final", 65, "正在用全部数据训练最终模型"),
    ("fitted in", 80, "训练完成"),
    ("evaluating", 90, "正在与现用模型比较"),
)


@transaction.atomic
def job_start(*, actor: Actor, kind: str, payload: dict[str, Any] | None = None) -> BackgroundJob:
    """Record the job and queue it after commit; one run of a kind at a time."""
    actor.require_role(*JOB_ROLES)
    if actor.user is None:  # machines pass require_role; a job is always someone's
        raise NotPermitted("后台任务须由督办员或管理员发起", rule="role")
    if kind not in JobKind.values:
        raise InvalidInput("未知的后台任务", field="kind", rule="enum")
    busy = BackgroundJob.objects.select_for_update().filter(kind=kind, state__in=(JobState.QUEUED, JobState.RUNNING))
    if busy.exists():
        raise TransitionNotAllowed(f"已有一个“{JobKind(kind).label}”任务在进行，请等它完成", rule="job_running")
    job = BackgroundJob.objects.create(
        kind=kind, payload=payload or {}, started_by=actor.user, message="已提交，等待执行"
    )
    transaction.on_commit(lambda: _enqueue(job.pk), robust=True)
    return job


def _enqueue(job_id: int) -> None:
    # function-level: tickets.jobs.tasks imports this module while loading (import cycle)
    from tickets.jobs.tasks import job_run_task

    job_run_task.delay(job_id)


def calendar_payload(*, name: str, content: bytes) -> dict[str, Any]:
    """Check an uploaded year file before it is queued (size, type, UTF-8)."""
    if not name.lower().endswith(CALENDAR_SUFFIXES):
        raise InvalidInput("请上传 .toml 或 .json 格式的年度节假日安排文件", field="file", rule="file_type")
    if len(content) > CALENDAR_FILE_MAX:
        raise InvalidInput("文件过大（最大 256 KB）", field="file", rule="file_size")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("文件不是 UTF-8 编码的文本", field="file", rule="encoding") from None
    return {"name": Path(name).name, "content": text}


def _step(job_id: int, progress: int, text: str, **fields: Any) -> None:
    """One autocommitted update, so a poll sees it at once."""
    job = BackgroundJob.objects.get(pk=job_id)
    steps = [*job.steps, {"at": timezone.now().isoformat(), "text": text}]
    BackgroundJob.objects.filter(pk=job_id).update(
        progress=max(job.progress, progress), message=text, steps=steps, updated_at=timezone.now(), **fields
    )


def job_run(job_id: int) -> BackgroundJob:
    """Run a queued job; every failure ends the job as 失败 with a message (never left running)."""
    claimed = BackgroundJob.objects.filter(pk=job_id, state=JobState.QUEUED).update(
        state=JobState.RUNNING, updated_at=timezone.now()
    )
    job = BackgroundJob.objects.get(pk=job_id)
    if not claimed:
        return job
    _step(job_id, 2, "开始执行")
    runner = _RUNNERS[job.kind]
    try:
        message, result = runner(job, lambda p, t: _step(job_id, p, t))
    except Exception as exc:  # any failure must reach the page, in Chinese, without server details
        logger.exception("background job %s (%s) failed", job_id, job.kind)
        # The bar stays where the work stopped (a full bar reads as done); the message is the user's.
        _step(job_id, 0, f"失败：{_failure_text(exc)}", state=JobState.FAILED, finished_at=timezone.now())
    else:
        _step(job_id, 100, message, state=JobState.DONE, result=result, finished_at=timezone.now())
    return BackgroundJob.objects.get(pk=job_id)


class JobFailed(Exception):
    """A failure whose message (Chinese, no paths or parser internals) is meant for the page."""


def _failure_text(exc: Exception) -> str:
    if isinstance(exc, JobFailed):
        return str(exc)
    return "系统内部错误，任务未完成。请稍后重试；如仍失败，请联系系统管理员查看日志。"


Say = Callable[[int, str], None]


def _run_retrain(job: BackgroundJob, say: Say) -> tuple[str, dict[str, Any]]:
    def progress(message: str) -> None:
        for prefix, percent, label in _RETRAIN_STEPS:
            if message.strip().startswith(prefix):
                say(percent, label)  # the core's own line (English, for logs) stays in the log
                return

    say(5, "正在读取已确认分类的工单")
    result = retrain_from_store(progress=progress)
    status = result.get("status")
    if status == "skipped":
        text = f"训练数据不足：已确认分类的工单 {result['rows']} 条（至少需要 {MIN_ROWS} 条、2 个分类），现用模型不变"
    elif status == "promoted":
        text = f"新模型 {result['version']} 已启用（检验集 F1 {result['candidate_macro_f1']}）"
    else:
        text = f"新模型 {result['version']} 不优于现用模型，未启用：{result['reason']}"
    return text, dict(result)


def _run_calendar_import(job: BackgroundJob, say: Say) -> tuple[str, dict[str, Any]]:
    name = str(job.payload.get("name") or "calendar.toml")
    say(10, f"正在解析文件 {name}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        content = str(job.payload.get("content", ""))
        path.write_text(content, encoding="utf-8")
        say(40, "正在写入全年工作日并补算待定时限")
        try:
            stored = calendar_import_file(path=path)
        except YearFileError as exc:
            logger.info("calendar import job %s: %s", job.pk, exc)
            raise JobFailed(year_file_text(exc, content=content)) from exc
    text = f"{stored.year} 年工作日历已导入；补算时限 {stored.filled} 件，仍待下一年日历 {stored.still_missing} 件"
    return text, {"year": stored.year, "filled": stored.filled, "still_missing": stored.still_missing}


_RUNNERS: dict[str, Callable[[BackgroundJob, Say], tuple[str, dict[str, Any]]]] = {
    JobKind.RETRAIN: _run_retrain,
    JobKind.CALENDAR_IMPORT: _run_calendar_import,
}
