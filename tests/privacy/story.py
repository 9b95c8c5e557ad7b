"""A citizen's matter told through the real doors (SMS webhook, web pages, app API, the operator's
API), and what a reader then receives from every door: the material of the privacy tests."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.test import Client
from rest_framework.test import APIClient

from tests.intake.conftest import payload, twilio_post
from tests.security.test_authorization_matrix import _routes
from tickets.core.models import Assignment, Ticket
from tickets.messaging.models import SmsMessage
from tickets.org.models import Unit, User

SMS_URL = "/webhooks/twilio/sms/"
RARE = "琰瑾珺璐琮璋玥珩璟瑜"  # characters no page, label or demo datum uses: a name made of them is unmistakable

# Ways a citizen writes their own number into a message.
FORMATS = (
    lambda n: n,
    lambda n: f"+86 {n[:3]} {n[3:7]} {n[7:]}",
    lambda n: f"{n[:3]}-{n[3:7]}-{n[7:]}",
    lambda n: f"+86{n}",
    lambda n: f"0086-{n}",
    lambda n: n.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
)


@dataclass
class Matter:
    """One citizen and their ticket's story."""

    channel: str  # sms / web / app / phone
    national: str  # 13812341234
    privacy: str = "public"  # public / confidential / anonymous
    name: str = "欧阳琰瑾"
    address: str = "翠微路37号璟园"
    quote: int = 0  # how the number is written into the text (index into FORMATS)
    quotes_contact: bool = True  # the text (and the rating comment) names the number, name and address
    unit: str = "rsj"
    append: bool = False  # a second SMS joins the draft
    supervise: bool = False  # a supervisor's notice to the unit quotes the title
    scan: bool = False  # the deadline scanner's notices quote the title too
    rate: bool = True
    ticket_id: int = 0
    number: str = ""
    clients: dict[str, Any] = field(default_factory=dict)

    @property
    def e164(self) -> str:
        return f"+86{self.national}"

    @property
    def hidden(self) -> bool:
        return self.privacy != "public"

    def words(self, lead: str) -> str:
        if not self.quotes_contact:
            return lead
        return f"{lead}我叫{self.name}，住{self.address}，电话{FORMATS[self.quote](self.national)}，请联系我。"


# --- the doors a citizen and the staff use -----------------------------------------------------


def staff(username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.get(username=username))
    return client


def page_client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _sms(matter: Matter, body: str, sid: str) -> None:
    sent = twilio_post(
        Client(), SMS_URL, payload("sms_incoming", MessageSid=sid, SmsSid=sid, Body=body, From=matter.e164)
    )
    assert sent.status_code == 200, sent.content


def _code(matter: Matter) -> str:
    body = SmsMessage.objects.filter(to_phone=matter.e164, purpose="verification").latest("id").body
    found = re.search(r"验证码是(\d{6})", body)
    assert found is not None
    return found.group(1)


def file(matter: Matter, seq: int) -> Ticket:
    """受理 through the matter's channel; an SMS draft is completed by an operator."""
    text = matter.words("小区门口的路灯坏了一个多月，晚上出行很不安全。")
    flags = {"confidential": matter.privacy == "confidential", "anonymous": matter.privacy == "anonymous"}
    contact = {"citizen_name": matter.name, "citizen_address": matter.address}
    if matter.channel == "sms":
        _sms(matter, text, f"SMp{seq:030d}")
        if matter.append:
            _sms(matter, matter.words("补充：已经有老人摔倒了。"), f"SMq{seq:030d}")
        ticket = Ticket.objects.filter(citizen_phone=matter.e164, channel="sms").latest("id")
        done = staff("operator1").post(f"/api/tickets/{ticket.pk}/complete/", {**contact, **flags}, format="json")
        assert done.status_code == 200, done.content
    elif matter.channel == "web":
        web = matter.clients.setdefault("web", Client())
        web.post("/citizen/verify/", {"action": "send", "phone": matter.national})
        assert web.post("/citizen/verify/", {"action": "check", "code": _code(matter)}).status_code == 302
        form = {
            "kind": "complaint",
            "text": text,
            "address": matter.address,
            "name": matter.name,
            "privacy": matter.privacy,
        }
        assert web.post("/citizen/submit/", form).status_code == 302
        ticket = Ticket.objects.filter(citizen_phone=matter.e164, channel="web").latest("id")
    elif matter.channel == "app":
        app = matter.clients.setdefault("app", APIClient())
        app.post("/api/app/auth/code/", {"phone": matter.national}, format="json")
        login = app.post("/api/app/auth/login/", {"phone": matter.national, "code": _code(matter)}, format="json")
        app.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['token']}")
        made = app.post("/api/app/tickets/", {"kind": "complaint", "text": text, **contact, **flags}, format="json")
        assert made.status_code == 201, made.content
        ticket = Ticket.objects.get(number=made.json()["number"])
    else:
        body = {"channel": "phone", "text": text, "citizen_phone": matter.national, **contact, **flags}
        made = staff("operator1").post("/api/tickets/", body, format="json")
        assert made.status_code == 201, made.content
        ticket = Ticket.objects.get(pk=made.json()["id"])
    matter.ticket_id, matter.number = ticket.pk, ticket.number
    return ticket


def lead(matter: Matter) -> Assignment:
    return Assignment.objects.filter(ticket_id=matter.ticket_id, parent__isnull=True).latest("id")


def dispatch(matter: Matter) -> None:
    unit = Unit.objects.get(code=matter.unit)
    sent = staff("dispatcher1").post(
        f"/api/tickets/{matter.ticket_id}/dispatch/", {"lead_unit": unit.pk}, format="json"
    )
    assert sent.status_code == 200, sent.content


def handle(matter: Matter) -> None:
    """签收, perhaps 督办, 办复, and the centre accepts: the citizen is asked to rate."""
    unit_staff = staff(f"{matter.unit.replace('-', '_')}_staff")
    asg = lead(matter)
    assert unit_staff.post(f"/api/assignments/{asg.pk}/sign/", {}, format="json").status_code == 200
    if matter.supervise:
        note = {"note": "请尽快与市民联系并办理"}
        assert (
            staff("supervisor1").post(f"/api/tickets/{matter.ticket_id}/supervise/", note, format="json").status_code
            < 300
        )
    reply = {"text": "已安排人员维修路灯，现已恢复照明。"}
    assert unit_staff.post(f"/api/assignments/{asg.pk}/reply/", reply, format="json").status_code == 200
    review = staff("dispatcher1").post(f"/api/tickets/{matter.ticket_id}/review/", {"accept": True}, format="json")
    assert review.status_code == 200, review.content


def rate(matter: Matter, seq: int) -> None:
    """不满意 with a reason that names the citizen again, through the channel they came by."""
    comment = matter.words("路灯修了两天又坏了。")
    if matter.channel in ("sms", "phone"):
        _sms(matter, f"3 {comment}", f"SMr{seq:030d}")
        _sms(matter, f"22 {comment}", f"SMs{seq:030d}")
    elif matter.channel == "app":
        answer = {"satisfaction": "dissatisfied", "solved": False, "contacted": False, "comment": comment}
        rated = matter.clients["app"].post(f"/api/app/tickets/{matter.number}/rating/", answer, format="json")
        assert rated.status_code == 200, rated.content
    else:
        body = SmsMessage.objects.filter(ticket_id=matter.ticket_id, purpose="rating_request").latest("id").body
        link = re.search(r"/citizen/rate/[^/\s]+/", body)
        assert link is not None
        answer = {"satisfaction": "dissatisfied", "solved": "no", "contacted": "no", "comment": comment}
        assert matter.clients["web"].post(link.group(), answer).status_code in (200, 302)


# --- what a reader receives ---------------------------------------------------------------------


async def subscribe(sock: Any, ticket_id: int) -> list[dict[str, Any]]:
    """Watch a ticket; returns the frames that arrived before the answer (the answer included)."""
    await sock.send_json_to({"type": "subscribe", "ticket": ticket_id})
    frames = [await sock.receive_json_from(timeout=10)]
    while frames[-1]["type"] not in ("subscribed", "error"):
        frames.append(await sock.receive_json_from(timeout=10))
    return frames


def _fill(route: str, values: dict[str, str]) -> str:
    route = route.replace("^", "").replace("$", "").replace("\\.", ".")
    route = re.sub(r"\(\?P<fmt>[^)]*\)", "json", route)
    route = re.sub(r"\(\?P<request_id>[^)]*\)", values["number"], route)
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "1"), route)


STATIC_ROUTES = {"schema", "api-docs"}  # the OpenAPI document: the same for everyone, and slow to build


def sweep_urls(matters: list[Matter]) -> list[str]:
    """Every GET route of the project (from the URL resolver, so a new one is swept too), once per
    ticket of the story, and the list filters that find a ticket by its number or caller."""
    urls: set[str] = set()
    for matter in matters:
        values = {
            "ticket_id": str(matter.ticket_id),
            "assignment_id": str(lead(matter).pk),
            "number": matter.number,
            "code": matter.unit,
            "kind": "calendar",
            "panel": "queue",
            "token": "x",
        }
        urls |= {_fill(route, values) for name, route in _routes().items() if name not in STATIC_ROUTES}
        urls |= {
            f"/api/tickets/?q={matter.number}",
            f"/api/tickets/?q={matter.national}",
            f"/api/events/?ticket={matter.ticket_id}",
            f"/api/exports/tickets.csv?q={matter.number}",
        }
    return sorted(
        urls | {"/api/events/?after=0&limit=500", "/api/metrics/units/?period=day", "/api/exports/tickets.xlsx"}
    )


def body_text(response: Any) -> str:
    """A response as text: JSON re-dumped without escapes, an XLSX's sheets unzipped, CSV and HTML as sent."""
    raw = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    kind = response.get("Content-Type", "")
    if "spreadsheetml" in kind:
        with zipfile.ZipFile(io.BytesIO(raw)) as book:
            return "\n".join(book.read(name).decode("utf-8") for name in book.namelist() if name.endswith(".xml"))
    text = raw.decode("utf-8-sig", errors="replace")
    if "json" in kind:
        return json.dumps(json.loads(text), ensure_ascii=False)
    return text


NO_GET: set[str] = set()  # routes that answered GET with 405: no data behind them, not asked again


def read_everything(username: str, matters: list[Matter]) -> dict[str, str]:
    """url → what this user receives there (API authenticated as the user, pages signed in)."""
    api, pages = staff(username), page_client(username)
    got: dict[str, str] = {}
    for url in sweep_urls(matters):
        route = re.sub(r"\d+", "N", url)
        if route in NO_GET:
            continue
        client = api if url.startswith("/api/") else pages
        response = client.get(url)
        if response.status_code == 405:
            NO_GET.add(route)
        got[url] = body_text(response) if response.status_code < 500 else f"HTTP {response.status_code}"
    return got


# --- what counts as a leak ----------------------------------------------------------------------

_NUMBER_RUN = re.compile(r"[0-9０-９](?:[\s\-–—.()（）·+＋]*[0-9０-９])*")
_HALF = str.maketrans("０１２３４５６７８９", "0123456789")


def shows_number(text: str, national: str) -> bool:
    """The full number appears, however written (+86, spaces, hyphens, brackets, full-width digits)."""
    return any(national in re.sub(r"\D", "", run.translate(_HALF)) for run in _NUMBER_RUN.findall(text))


def leaks(text: str, matter: Matter) -> list[str]:
    """What of this citizen the text shows that a unit must not see."""
    found = ["number"] if shows_number(text, matter.national) else []
    if matter.hidden:
        found += [what for what, value in (("name", matter.name), ("address", matter.address)) if value in text]
    return found
