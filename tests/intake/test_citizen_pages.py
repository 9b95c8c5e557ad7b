"""The citizen web pages, driven through the Django test client as a phone browser would."""

from __future__ import annotations

import io
import re
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tickets.core.actors import Actor
from tickets.core.models import Ticket
from tickets.core.services import workflow
from tickets.feedback.models import Rating
from tickets.feedback.services import rating
from tickets.intake.models import TicketAttachment
from tickets.messaging.models import SmsMessage
from tickets.org.models import User

PHONE = "+8613600136000"


def code_from_outbox(phone: str = PHONE) -> str:
    body = SmsMessage.objects.filter(to_phone=phone, purpose="verification").latest("id").body
    return re.search(r"验证码是(\d{6})", body).group(1)  # type: ignore[union-attr]


def verify_phone(web: Any, phone: str = "136 0013 6000") -> None:
    sent = web.post("/citizen/verify/", {"action": "send", "phone": phone})
    assert sent.status_code == 200 and "验证码已发送至 136****6000" in sent.content.decode()
    done = web.post("/citizen/verify/", {"action": "check", "code": code_from_outbox()})
    assert done.status_code == 302 and done["Location"] == "/citizen/submit/"


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "手机厂商"  # Make
    exif[0x8825] = {1: "N", 2: (30.0, 15.0, 10.0), 3: "E", 4: (120.0, 10.0, 5.0)}  # GPS position
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def photo(name: str = "a.jpg", content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content if content is not None else jpeg_with_gps(), content_type="image/jpeg")


FORM = {
    "kind": "complaint",
    "text": "园区社区门口的路灯坏了一个多月，晚上很黑，老人出行不安全。",
    "address": "滨江区园区街道园区社区东门",
    "name": "王女士",
    "privacy": "confidential",
}


def test_the_form_needs_a_verified_phone_first(city: Any, web: Any) -> None:
    assert web.get("/citizen/submit/")["Location"] == "/citizen/verify/"
    page = web.get("/citizen/verify/").content.decode()
    assert '<label for="id_phone">手机号码' in page and 'name="viewport"' in page


def test_a_citizen_files_a_matter_with_photos_and_sees_the_ticket_number(city: Any, web: Any) -> None:
    verify_phone(web)
    form_page = web.get("/citizen/submit/").content.decode()
    for label in ("诉求类型", "诉求内容", "事发地址", "信息保护", "照片"):
        assert label in form_page
    assert "<legend>信息保护" in form_page or "信息保护</legend>" in form_page

    response = web.post("/citizen/submit/", {**FORM, "photos": [photo("a.jpg"), photo("b.jpg")]})

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.kind, ticket.citizen_phone, ticket.confidential) == ("web", "complaint", PHONE, True)
    assert ticket.citizen_address.startswith("滨江区")
    done = web.get(response["Location"]).content.decode()
    assert ticket.number in done
    attachments = TicketAttachment.objects.filter(ticket=ticket)
    assert attachments.count() == 2
    for attachment in attachments:
        with attachment.file.open("rb") as stored, Image.open(stored) as image:
            assert not image.getexif() and "exif" not in image.info
    assert SmsMessage.objects.filter(ticket=ticket, purpose="received").exists()


def test_photos_are_checked_by_content_count_and_size(city: Any, web: Any, settings: Any) -> None:
    verify_phone(web)
    fake = web.post("/citizen/submit/", {**FORM, "photos": [photo("x.jpg", b"<?php echo 1; ?>" * 10)]})
    assert fake.status_code == 400 and "仅支持" in fake.content.decode()

    six = web.post("/citizen/submit/", {**FORM, "photos": [photo(f"{i}.jpg") for i in range(6)]})
    assert six.status_code == 400 and "最多上传 5 张照片" in six.content.decode()

    settings.CITIZEN_PHOTO_MAX_BYTES = 100
    big = web.post("/citizen/submit/", {**FORM, "photos": [photo()]})
    assert big.status_code == 400 and "不能超过" in big.content.decode()
    assert not Ticket.objects.exists()


def test_a_wrong_code_does_not_verify_and_codes_die_after_five_tries(city: Any, web: Any) -> None:
    web.post("/citizen/verify/", {"action": "send", "phone": "13600136000"})
    real = code_from_outbox()
    wrong = "000000" if real != "000000" else "111111"
    for _ in range(5):
        assert "验证码错误" in web.post("/citizen/verify/", {"action": "check", "code": wrong}).content.decode()
    late = web.post("/citizen/verify/", {"action": "check", "code": real})
    assert late.status_code == 200 and "次数过多" in late.content.decode()


def test_codes_are_rate_limited_per_phone(city: Any, web: Any, settings: Any) -> None:
    settings.VERIFY_CODE_RESEND_SECONDS = 0
    for _ in range(5):
        assert web.post("/citizen/verify/", {"action": "send", "phone": "13600136000"}).status_code == 200
    blocked = web.post("/citizen/verify/", {"action": "send", "phone": "13600136000"})
    assert blocked.status_code == 429 and "频繁" in blocked.content.decode()
    assert SmsMessage.objects.filter(purpose="verification").count() == 5


def test_number_fields_bring_up_the_phones_number_pad(city: Any, web: Any) -> None:
    """A citizen types on a phone: the number, the code and the digits open the number pad, the
    phone field offers the phone's own number and the code field the code from the SMS."""
    verify = web.get("/citizen/verify/").content.decode()
    assert re.search(r'<input type="tel" name="phone"[^>]*inputmode="tel"[^>]*autocomplete="tel"', verify)
    web.post("/citizen/verify/", {"action": "send", "phone": "13600136000"})
    code = web.get("/citizen/verify/").content.decode()
    assert re.search(r'name="code"[^>]*inputmode="numeric"[^>]*autocomplete="one-time-code"', code)
    status = web.get("/citizen/status/").content.decode()
    assert re.search(r'name="number"[^>]*inputmode="numeric"', status)
    assert re.search(r'name="last4"[^>]*inputmode="numeric"', status)


def test_the_status_page_needs_the_number_and_the_last_four_digits(city: Any, web: Any) -> None:
    verify_phone(web)
    web.post("/citizen/submit/", FORM)
    ticket = Ticket.objects.get()
    stranger = type(web)()

    found = stranger.post("/citizen/status/", {"number": ticket.number, "last4": "6000"})
    wrong = stranger.post("/citizen/status/", {"number": ticket.number, "last4": "1234"})
    missing = stranger.post("/citizen/status/", {"number": "20990101000001", "last4": "6000"})

    assert found.status_code == 200 and ticket.get_state_display() in found.content.decode()
    assert "诉求已受理" in found.content.decode()
    # Same answer whether the ticket does not exist or the digits are wrong: nothing to enumerate.
    assert wrong.status_code == missing.status_code == 404
    assert _error(wrong) == _error(missing) == "未找到匹配的工单，请核对工单号和手机号后四位"


def test_status_lookups_are_rate_limited(city: Any, web: Any) -> None:
    codes = [web.post("/citizen/status/", {"number": "20250101000001", "last4": "1234"}).status_code for _ in range(6)]
    assert codes[:5] == [404] * 5 and codes[5] == 429


def test_the_code_field_takes_the_focus_and_says_what_was_wrong(city: Any, web: Any) -> None:
    """A keyboard user lands where the code is to be typed; a wrong code is said at that field."""
    sent = web.post("/citizen/verify/", {"action": "send", "phone": "13600136000"}).content.decode()
    assert re.search(r'<input[^>]*name="code"[^>]*autofocus', sent)
    assert not re.search(r'<input[^>]*name="phone"[^>]*autofocus', sent)

    real = code_from_outbox()
    wrong = web.post("/citizen/verify/", {"action": "check", "code": "000000" if real != "000000" else "111111"})
    page = wrong.content.decode()
    field = re.search(r'<input[^>]*name="code"[^>]*>', page).group(0)  # type: ignore[union-attr]
    assert 'aria-invalid="true"' in field and "autofocus" in field and 'aria-describedby="id_code_error"' in field
    assert re.search(r'id="id_code_error"[^>]*>.*验证码错误', page, re.S)

    bad_number = web.post("/citizen/verify/", {"action": "send", "phone": "12345"}).content.decode()
    phone = re.search(r'<input[^>]*name="phone"[^>]*>', bad_number).group(0)  # type: ignore[union-attr]
    assert 'aria-invalid="true"' in phone and "autofocus" in phone


def test_letters_for_the_last_four_digits_are_a_field_error_and_use_up_no_lookup(city: Any, web: Any) -> None:
    answers = [web.post("/citizen/status/", {"number": "20250101000001", "last4": "abcd"}) for _ in range(6)]
    assert {a.status_code for a in answers} == {200}
    assert "请输入手机号的后四位数字" in answers[-1].content.decode()
    assert web.post("/citizen/status/", {"number": "20250101000001", "last4": "1234"}).status_code == 404


def test_a_citizens_error_pages_speak_to_a_citizen_and_lead_back_to_the_citizen_pages(city: Any) -> None:
    from django.test import Client

    missing = Client().get("/citizen/no-such-page/")
    page = missing.content.decode()
    assert missing.status_code == 404 and "查询办理进度" in page and "承办单位" not in page and "工作台" not in page
    assert 'href="/citizen/">回到市民服务首页' in page

    forged = Client(enforce_csrf_checks=True).post("/citizen/status/", {"number": "1", "last4": "1234"})
    page = forged.content.decode()
    assert forged.status_code == 403 and "本次提交没有生效" in page and "登录" not in page
    assert 'href="/citizen/"' in page


def test_the_owner_looking_again_and_again_is_not_locked_out(city: Any, web: Any) -> None:
    """Right answers cost the ticket number nothing, and a stranger's five wrong ones lock out the
    stranger (saying for how long), not the owner at another address."""
    verify_phone(web)
    web.post("/citizen/submit/", FORM)
    number = Ticket.objects.get().number
    owner, stranger = type(web)(REMOTE_ADDR="10.1.0.1"), type(web)(REMOTE_ADDR="10.2.0.2")

    assert [owner.post("/citizen/status/", {"number": number, "last4": "6000"}).status_code for _ in range(8)] == [
        200
    ] * 8
    misses = [stranger.post("/citizen/status/", {"number": number, "last4": "1234"}).status_code for _ in range(6)]
    assert misses == [404] * 5 + [429]
    refused = stranger.post("/citizen/status/", {"number": number, "last4": "6000"})  # right at last, still locked
    assert refused.status_code == 429 and "请 15 分钟后再试" in refused.content.decode()
    assert owner.post("/citizen/status/", {"number": number, "last4": "6000"}).status_code == 200


def test_guesses_from_many_addresses_meet_the_numbers_own_ceiling(city: Any, web: Any, settings: Any) -> None:
    settings.STATUS_LOOKUP_LIMIT_PER_NUMBER = (8, 86400)
    verify_phone(web)
    web.post("/citizen/submit/", FORM)
    number = Ticket.objects.get().number
    guessers = [type(web)(REMOTE_ADDR=f"10.3.0.{i}") for i in range(1, 5)]

    codes = [g.post("/citizen/status/", {"number": number, "last4": f"{i:04d}"}).status_code for i, g in
             enumerate(guessers * 3)]
    assert codes == [404] * 8 + [429] * 4  # two each from four addresses, then the number's ceiling
    locked = type(web)(REMOTE_ADDR="10.9.9.9").post("/citizen/status/", {"number": number, "last4": "6000"})
    assert locked.status_code == 429 and "请 24 小时后再试" in locked.content.decode()


def test_my_matters_after_verifying_and_a_supplement_the_unit_reads(city: Any, web: Any, user: Any) -> None:
    """我的诉求: the verified number's matters; 补充说明 joins an open one's text for the unit."""
    assert web.get("/citizen/mine/")["Location"] == "/citizen/verify/?next=/citizen/mine/"
    web.post("/citizen/verify/", {"action": "send", "phone": "13600136000", "next": "/citizen/mine/"})
    done = web.post("/citizen/verify/", {"action": "check", "code": code_from_outbox(), "next": "/citizen/mine/"})
    assert done.status_code == 302 and done["Location"] == "/citizen/mine/"
    web.post("/citizen/submit/", {**FORM, "privacy": "public"})
    ticket = Ticket.objects.get()

    page = web.get("/citizen/mine/").content.decode()
    assert ticket.number in page and "补充说明" in page

    empty = web.post(f"/citizen/mine/{ticket.number}/supplement/", {"text": "好"})
    assert empty.status_code == 400 and 'aria-invalid="true"' in empty.content.decode()
    added = web.post(f"/citizen/mine/{ticket.number}/supplement/", {"text": "路灯杆上有编号 YD-0231"}, follow=True)
    assert f"已补充到工单 {ticket.number}" in added.content.decode()
    ticket.refresh_from_db()
    assert ticket.text.endswith("路灯杆上有编号 YD-0231") and "【市民补充" in ticket.text

    clerk = user("rsj_staff")
    if not ticket.assignments.exists():  # the classifier was not sure: a dispatcher sends it
        workflow.ticket_dispatch(ticket=ticket, actor=Actor.of(user("dispatcher1")), lead_unit=clerk.unit)
    unit = type(web)()
    unit.force_login(User.objects.filter(unit=ticket.assignments.get(role="lead").unit, role="unit_staff").first())
    assert "路灯杆上有编号 YD-0231" in unit.get(f"/tickets/{ticket.pk}/").content.decode()

    Ticket.objects.filter(pk=ticket.pk).update(state="closed")
    assert "已办结。如有新的情况，请重新提交诉求。" in web.get("/citizen/mine/").content.decode()
    ended = web.post(f"/citizen/mine/{ticket.number}/supplement/", {"text": "还有一件事要说"})
    assert ended.status_code == 409 and "不能再补充" in ended.content.decode()
    assert web.post("/citizen/mine/20990101000001/supplement/", {"text": "别人的"}).status_code == 404


def test_verification_goes_on_only_to_a_citizen_page(city: Any, web: Any) -> None:
    web.post("/citizen/verify/", {"action": "send", "phone": "13600136000"})
    done = web.post("/citizen/verify/", {"action": "check", "code": code_from_outbox(), "next": "https://evil.example/"})
    assert done["Location"] == "/citizen/submit/"


def _error(response: Any) -> str:
    return re.search(r'role="alert">(.*?)<', response.content.decode()).group(1)  # type: ignore[union-attr]


def test_the_rating_page_from_the_sms_link_records_the_rating(city: Any, web: Any, ticket_in_rating: Any) -> None:
    ticket = ticket_in_rating(PHONE)
    link = rating.rating_link(ticket).removeprefix("https://12345.example.cn")

    page = web.get(link)
    assert page.status_code == 200 and "已督促企业于本周发放工资" in page.content.decode()
    done = web.post(
        link, {"satisfaction": "dissatisfied", "solved": "no", "contacted": "yes", "comment": "工资仍未到账"}
    )

    assert done.status_code == 200 and "感谢评价" in done.content.decode()
    saved = Rating.objects.get(ticket=ticket)
    assert (saved.satisfaction, saved.solved, saved.contacted, saved.channel) == ("dissatisfied", False, True, "web")
    ticket.refresh_from_db()
    assert ticket.state == "closed"
    assert "已评价" in web.get(link).content.decode()


def test_a_forged_or_outdated_rating_link_is_refused(city: Any, web: Any, ticket_in_rating: Any) -> None:
    ticket = ticket_in_rating(PHONE)
    link = rating.rating_link(ticket).removeprefix("https://12345.example.cn")
    forged = link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:]

    assert web.get(forged).status_code == 404
    Ticket.objects.filter(pk=ticket.pk).update(reopen_count=1)  # 重办 since: a new round needs a new link
    assert web.get(link).status_code == 404


def test_form_labels_read_as_chinese_without_an_ascii_colon(city: Any, web: Any) -> None:
    """Django's default label suffix is ":": a citizen read "手机号码:" and "工单号:"."""
    pages = [web.get("/citizen/verify/").content.decode(), web.get("/citizen/status/").content.decode()]
    for page in pages:
        labels = re.findall(r"<label[^>]*>([^<]*)</label>", page)
        assert labels and not [label for label in labels if label.rstrip().endswith(":")], labels
    assert re.search(r"<label[^>]*>手机号码</label>", pages[0])
