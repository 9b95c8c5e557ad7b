"""A unit clerk who opens 短信发件箱 (/sms-outbox/) gets the site's styled 403 page with the reason
and a way back, not a bare line of text."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tickets.org.models import User


def test_a_unit_clerk_is_refused_the_sms_outbox_with_the_styled_error_page(city: Any) -> None:
    client = Client()
    client.force_login(User.objects.get(username="rsj_staff"))
    response = client.get("/sms-outbox/", HTTP_REFERER="http://testserver/unit/")

    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-testid="error-page"' in page
    assert "您没有权限执行此操作" in page and "仅限热线中心人员" in page  # the page's title and the reason
    assert '<a class="button" href="http://testserver/unit/">返回上一页</a>' in page  # back where they were
    assert 'href="/">回到首页</a>' in page
    assert 'class="outbox"' not in page  # nothing of the outbox itself
