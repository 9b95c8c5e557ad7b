"""A supervisor who uploads a bad working-day calendar on /board/jobs/ reads what is wrong with it, in
Chinese, by name (the first three problems, then how many in all), and how the file should look —
not a count of problems and a path in the source tree they cannot open."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tickets.jobs.calendar_problems import year_file_text
from tickets.jobs.models import BackgroundJob, JobState
from tickets.org.models import User
from tickets.sla.calendar_source import YearFileError, parse_year_data

pytestmark = pytest.mark.django_db

EXAMPLE_2027 = Path(__file__).parents[2] / "tickets/sla/data/cn-2027.example.toml"
FORMAT = "。文件应写明年份、每个法定节假日的名称和放假日期"



def _import(name: str, content: bytes, capture: Any) -> str:
    """Upload on the jobs page as a supervisor; the failed job's message as the page shows it."""
    client = Client()
    client.force_login(User.objects.get(username="supervisor1"))
    with capture(execute=True):  # the task is queued after commit
        started = client.post("/board/jobs/start/calendar_import/", {"file": SimpleUploadedFile(name, content)})
    assert started.status_code == 302
    job = BackgroundJob.objects.get(kind="calendar_import")
    assert job.state == JobState.FAILED
    status = client.get(f"/board/jobs/{job.pk}/").json()  # what the page polls
    assert status["message"] == job.message
    page = client.get("/board/jobs/").content.decode()  # what the page shows on reload
    row = page.index(f'id="job-{job.pk}"')
    message = re.search(r"data-job-message[^>]*>([^<]*)</div>", page[row:])
    assert message is not None and message.group(1) == job.message
    return status["message"]


def _says_no_source_path(message: str) -> None:
    assert "tickets/sla" not in message and "example" not in message and "/tmp" not in message
    assert FORMAT in message and message.endswith("，请修改后重新上传。")


def test_an_empty_file_is_called_empty(city: Any, eager_celery: None, django_capture_on_commit_callbacks: Any) -> None:
    message = _import("cn-2031.toml", b"", django_capture_on_commit_callbacks)
    assert message.startswith("失败：日历文件有误：文件为空。")
    _says_no_source_path(message)


def test_dates_outside_the_declared_year_are_named_with_that_year(
    city: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    text = EXAMPLE_2027.read_text(encoding="utf-8").replace("year = 2027", "year = 2028")
    message = _import("cn-2028.toml", text.encode(), django_capture_on_commit_callbacks)
    assert message.startswith(
        "失败：日历文件有误：日期 2027-01-01 不属于 2028 年；日期 2027-01-02 不属于 2028 年；"
        "日期 2027-01-03 不属于 2028 年等共 35 处。"
    )
    _says_no_source_path(message)


def test_a_day_that_does_not_exist_is_named(
    city: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    content = 'year = 2027\n\n[[holidays]]\nname = "春节"\ndates = ["2027-02-30"]\n'.encode()
    message = _import("cn-2027.toml", content, django_capture_on_commit_callbacks)
    assert message.startswith("失败：日历文件有误：日期 2027-02-30 不存在。")
    assert "等共" not in message  # one problem: nothing more to count
    _says_no_source_path(message)


def test_a_year_that_is_not_a_number_is_quoted(
    city: Any, eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    message = _import("cn-2027.json", b'{"year": "abc"}', django_capture_on_commit_callbacks)
    assert message.startswith("失败：日历文件有误：年份应为四位数字，现为“abc”。")
    _says_no_source_path(message)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], "文件最外层应为一组设置，而不是列表或单个值"),
        ({"year": 2027, "holidays": [{"name": "元旦", "dates": ["2027-01-01"]}], "notes": 1}, "无法识别的项“notes”"),
        ({}, "缺少年份"),
        ({"year": 1800}, "年份 1800 超出范围（应在 1949 至 2200 年之间）"),
        ({"year": 2027}, "没有列出任何法定节假日"),
        ({"year": 2027, "holidays": {"name": "元旦"}}, "法定节假日应逐条列出（每条以 [[holidays]] 开头）"),
        ({"year": 2027, "holidays": ["元旦"]}, "第 1 个节假日应写明名称和日期"),
        ({"year": 2027, "holidays": [{"dates": ["2027-01-01"]}]}, "第 1 个节假日没有名称"),
        (
            {"year": 2027, "holidays": [{"name": "元旦", "dates": ["2027-01-01"], "days": 1}]},
            "第 1 个节假日中有无法识别的项“days”",
        ),
        ({"year": 2027, "holidays": [{"name": "元旦"}]}, "节假日“元旦”没有列出日期"),
        (
            {"year": 2027, "holidays": [{"name": "元旦", "dates": ["明天"]}]},
            "“明天”不是日期（应写作 2027-01-01 的形式）",
        ),
        (
            {
                "year": 2027,
                "holidays": [{"name": "元旦", "dates": ["2027-01-01"]}, {"name": "春节", "dates": ["2027-01-01"]}],
            },
            "日期 2027-01-01 重复（已列在“元旦”下）",
        ),
        (
            {
                "year": 2027,
                "holidays": [{"name": "元旦", "dates": ["2027-01-01"]}],
                "makeup_workdays": [{"dates": ["2027-01-01"]}],
            },
            "日期 2027-01-01 既是调休上班日又是节假日（元旦）",
        ),
        (
            {
                "year": 2027,
                "holidays": [{"name": "元旦", "dates": ["2027-01-01"]}],
                "makeup_workdays": [{"dates": ["2027-01-04"]}],
            },
            "调休上班日 2027-01-04 是星期一，调休上班日只能是星期六或星期日",
        ),
        (
            {
                "year": 2027,
                "holidays": [{"name": "元旦", "dates": ["2027-01-01"]}],
                "makeup_workdays": [{"dates": ["2027-01-09", "2027-01-09"]}],
            },
            "调休上班日 2027-01-09 重复",
        ),
        (
            {"year": 2027, "holidays": [{"name": "元旦", "dates": ["2027-01-01"]}], "makeup_workdays": ["x"]},
            "第 1 组调休上班日应写明日期",
        ),
        (
            {
                "year": 2027,
                "holidays": [{"name": "元旦", "dates": ["2027-01-01"]}],
                "makeup_workdays": [{"name": 1, "dates": ["2027-01-09"]}],
            },
            "第 1 组调休上班日的名称应为文字",
        ),
    ],
)
def test_every_problem_the_parser_finds_has_a_chinese_name(data: Any, expected: str) -> None:
    with pytest.raises(YearFileError) as raised:
        parse_year_data(data)
    message = year_file_text(raised.value, content="x")
    assert message.startswith(f"日历文件有误：{expected}"), message
    assert "有内容不符合格式" not in message  # no problem fell through to the catch-all


def test_the_jobs_page_shows_how_the_file_is_written(city: Any) -> None:
    """The page once sent supervisors to an operations document that has no such section."""
    client = Client()
    client.force_login(User.objects.get(username="supervisor1"))
    page = client.get("/board/jobs/").content.decode()
    sample = re.search(r'<details data-testid="calendar-format">(.*?)</details>', page, re.S)
    assert sample is not None and "[[makeup_workdays]]" in sample.group(1) and "调休上班" in sample.group(1)
    assert "运维文档" not in page
