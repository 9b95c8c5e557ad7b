"""Jobs, scorecards and 不满意 review without a browser: who may open them, refusals, failures in Chinese."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tickets.core.actors import Actor
from tickets.errors import TransitionNotAllowed
from tickets.jobs import services as jobs
from tickets.jobs.models import BackgroundJob, JobState
from tickets.org.models import User

pytestmark = pytest.mark.django_db


def _client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client



@pytest.mark.parametrize("path", ["/board/jobs/", "/board/ratings/"])
def test_jobs_and_review_pages_are_for_supervisors_and_admins(city: Any, path: str) -> None:
    assert _client("supervisor1").get(path).status_code == 200
    assert _client("admin").get(path).status_code == 200
    assert _client("operator1").get(path).status_code == 404
    assert _client("rsj_staff").get(path).status_code == 404


def test_scorecards_and_drill_down_are_centre_pages(city: Any) -> None:
    assert _client("operator1").get("/board/scorecards/?month=2026-11&group=streets").status_code == 200
    assert _client("rsj_staff").get("/board/scorecards/").status_code == 404
    assert _client("supervisor1").get("/board/units/rsj/tickets/").status_code == 200
    assert _client("supervisor1").get("/board/units/no-such-unit/tickets/").status_code == 404


def test_the_streets_ranking_says_it_ranks_communities_too(city: Any) -> None:
    """Communities are ranked with the streets (UNIT_GROUPS): the group's name says so."""
    page = _client("supervisor1").get("/board/scorecards/?group=streets").content.decode()
    assert "街道（乡镇）及社区（村）" in page


def test_a_second_run_of_the_same_job_is_refused_while_one_is_queued(city: Any) -> None:
    actor = Actor.of(User.objects.get(username="supervisor1"))
    BackgroundJob.objects.create(kind="retrain", started_by=actor.user)  # queued, no worker took it yet
    with pytest.raises(TransitionNotAllowed, match="已有一个“重新训练分类模型”任务在进行"):
        jobs.job_start(actor=actor, kind="retrain")
    assert BackgroundJob.objects.count() == 1


def test_a_broken_calendar_file_ends_the_job_as_failed_with_a_chinese_message(
    city: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    client = _client("supervisor1")
    bad = SimpleUploadedFile("cn-2031.toml", b"year = 2031\n[[holidays]]\nname = 1\n")
    with django_capture_on_commit_callbacks(execute=True):  # the task is queued after commit
        response = client.post("/board/jobs/start/calendar_import/", {"file": bad}, follow=True)
    assert "已提交“导入工作日历”" in response.content.decode()
    job = BackgroundJob.objects.get()
    assert job.state == JobState.FAILED and job.progress < 100 and job.finished_at is not None  # not a full bar
    assert job.message.startswith("失败：日历文件有误")
    status = client.get(f"/board/jobs/{job.pk}/").json()
    assert status["state"] == "failed" and status["finished"] and status["steps"][-1]["text"] == job.message


def test_operators_cannot_start_jobs(city: Any) -> None:
    assert _client("operator1").post("/board/jobs/start/retrain/").status_code == 404
    assert not BackgroundJob.objects.exists()


def demo_rows() -> list[tuple[str, str]]:
    """Training rows for the retrain job: the shipped demo set (CLASSIFIER_TRAINING_ROWS points here)."""
    from pathlib import Path

    from classifier.training import read_csv_rows

    return read_csv_rows(str(Path(__file__).resolve().parents[2] / "classifier" / "data" / "demo_train.csv"))


def test_retraining_reports_each_step_and_promotes_a_model(
    city: Any, settings: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CLASSIFIER_TRAINING_ROWS = "tests.ui.test_jobs_and_review_pages.demo_rows"
    with django_capture_on_commit_callbacks(execute=True):
        jobs.job_start(actor=Actor.of(User.objects.get(username="supervisor1")), kind="retrain")
    job = BackgroundJob.objects.get()
    texts = [step["text"] for step in job.steps]
    assert job.state == JobState.DONE and job.progress == 100
    assert any(t.startswith("正在留出检验集并训练") for t in texts)
    assert any(t.startswith("正在与现用模型比较") for t in texts)
    assert job.message.startswith("新模型 store-") and job.result["status"] in ("promoted", "kept")
