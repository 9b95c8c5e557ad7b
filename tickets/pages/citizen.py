"""Citizen pages (no login): file a matter, follow it, rate it. Mounted under /citizen/.

Filing needs a phone verified by SMS code (kept in the session for 30 minutes). The status page
asks for the ticket number and the phone's last 4 digits; the rating page is reached from the
signed link in the rating SMS.
"""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.validators import RegexValidator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tickets.core.actors import Actor
from tickets.core.models import Channel, Kind, Ticket
from tickets.core.privacy import mask_phone
from tickets.core.public import public_history, public_reply
from tickets.core.states import ENDED_TICKET_STATES, citizen_state_label
from tickets.core.text import normalise_phone
from tickets.errors import DomainError, InvalidInput, RateLimited
from tickets.feedback.models import Satisfaction
from tickets.feedback.selectors import dissatisfaction_under_review
from tickets.feedback.services import rating
from tickets.intake.services import citizen_auth, intake, photos
from tickets.request_meta import client_ip

T = "tickets/citizen/"
VERIFIED_FOR_SECONDS = 30 * 60
KIND_CHOICES = [(k, Kind(k).label) for k in (Kind.CONSULT, Kind.HELP, Kind.COMPLAINT, Kind.REPORT, Kind.SUGGESTION)]
PRIVACY_CHOICES = [
    ("public", gettext_lazy("普通：承办单位可联系我")),
    # domain.md §7: on a 保密/匿名 ticket units see no name, number or address; the choice says so.
    ("confidential", gettext_lazy("保密：姓名、电话和地址只由热线中心掌握")),
    ("anonymous", gettext_lazy("匿名：不向承办单位透露我的姓名、电话和地址")),
]


def _verified_phone(request: HttpRequest) -> str:
    phone = request.session.get("citizen_phone", "")
    at = request.session.get("citizen_verified_at", 0)
    return phone if phone and time.time() - at < VERIFIED_FOR_SECONDS else ""


def home(request: HttpRequest) -> HttpResponse:
    return render(request, T + "home.html", {"phone": mask_phone(_verified_phone(request))})


class CitizenForm(forms.Form):
    """A citizen page's form: labels as on every other page, without Django's ASCII colon."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


# --- phone verification ------------------------------------------------------------------------


class PhoneForm(CitizenForm):
    # A phone brings up its number pad and offers the number it knows (the citizen is on a phone).
    phone = forms.CharField(
        label=gettext_lazy("手机号码"),
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )


class CodeForm(CitizenForm):
    code = forms.CharField(
        label=gettext_lazy("短信验证码"),
        max_length=8,
        min_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Step 1: send a code to the phone. Step 2: type the code; the session then holds the phone."""
    pending = request.session.get("citizen_pending_phone", "")
    phone_form, code_form, error, limited = PhoneForm(), CodeForm(), "", False
    if request.method == "POST" and request.POST.get("action") == "send":
        phone_form = PhoneForm(request.POST)
        if phone_form.is_valid():
            try:
                pending = citizen_auth.code_send(phone=phone_form.cleaned_data["phone"], client_ip=client_ip(request))
                request.session["citizen_pending_phone"] = pending
            except RateLimited as exc:
                if exc.rule == "code_resend":
                    # A code went to this number less than a minute ago (maybe from another tab or
                    # session): it is still valid, so offer the field to type it instead of a dead end.
                    pending = normalise_phone(phone_form.cleaned_data["phone"], field="phone")
                    request.session["citizen_pending_phone"] = pending
                    error = exc.message + _("；请输入已收到的验证码")
                else:
                    error, limited = exc.message, True
            except DomainError as exc:  # the number itself: said at the field, which takes the focus
                phone_form.add_error("phone", exc.message)
    elif request.method == "POST" and request.POST.get("action") == "check" and pending:
        code_form = CodeForm(request.POST)
        if code_form.is_valid():
            try:
                phone = citizen_auth.code_verify(phone=pending, code=code_form.cleaned_data["code"])
            except RateLimited as exc:
                error, limited = exc.message, True
            except DomainError as exc:  # a wrong or expired code: said at the field, typed again there
                code_form.add_error("code", exc.message)
            else:
                request.session.cycle_key()
                request.session["citizen_phone"] = phone
                request.session["citizen_verified_at"] = time.time()
                request.session.pop("citizen_pending_phone", None)
                return HttpResponseRedirect(_next(request) or reverse("citizen-submit"))
    # The keyboard starts where the next thing is to be typed: the code once one was sent, else the number.
    focus = phone_form if phone_form.errors or not pending else code_form
    focus.fields[next(iter(focus.fields))].widget.attrs["autofocus"] = True
    context = {
        "phone_form": phone_form,
        "code_form": code_form,
        "pending": mask_phone(pending),
        "error": error,
        "next": _next(request),
    }
    return render(request, T + "verify.html", context, status=429 if limited else 200)


def _next(request: HttpRequest) -> str:
    """Where a verified citizen goes on: one of the citizen pages, nothing else (no open redirect)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if target in (reverse("citizen-mine"), reverse("citizen-submit")) else ""


# --- filing --------------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several photos in one control (Django's documented recipe); each is checked by the service."""

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return single(data, initial)


class SubmitForm(CitizenForm):
    kind = forms.ChoiceField(label=gettext_lazy("诉求类型"), choices=KIND_CHOICES, initial=Kind.HELP)
    text = forms.CharField(
        label=gettext_lazy("诉求内容"),
        min_length=5,
        max_length=settings.TICKET_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    address = forms.CharField(label=gettext_lazy("事发地址"), max_length=settings.TICKET_ADDRESS_MAX, required=False)
    name = forms.CharField(label=gettext_lazy("称呼（选填）"), max_length=settings.TICKET_NAME_MAX, required=False)
    privacy = forms.ChoiceField(
        label=gettext_lazy("信息保护"), choices=PRIVACY_CHOICES, initial="public", widget=forms.RadioSelect
    )
    photos = MultipleFileField(
        required=False, widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The limit is a setting: the label is formatted per request, in the request's language.
        self.fields["photos"].label = _("照片（选填，最多 %(count)s 张）") % {"count": settings.CITIZEN_PHOTO_MAX}


@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest) -> HttpResponse:
    phone = _verified_phone(request)
    if not phone:
        return HttpResponseRedirect(reverse("citizen-verify"))
    form = SubmitForm(request.POST or None, request.FILES or None)
    error, limited = "", False
    if request.method == "POST" and form.is_valid():
        files = request.FILES.getlist("photos")
        try:
            if len(files) > settings.CITIZEN_PHOTO_MAX:
                raise InvalidInput(
                    _("最多上传 %(count)s 张照片") % {"count": settings.CITIZEN_PHOTO_MAX},
                    field="photos",
                    rule="photo_count",
                )
            cleaned = photos.photos_clean(files=files)
            ticket = _file(request, phone, form.cleaned_data, cleaned)
        except DomainError as exc:
            error, limited = exc.message, isinstance(exc, RateLimited)
        else:
            request.session["citizen_last_ticket"] = ticket.number
            return HttpResponseRedirect(reverse("citizen-submitted"))
    status = 429 if limited else (400 if request.method == "POST" else 200)
    return render(request, T + "submit.html", {"form": form, "phone": mask_phone(phone), "error": error}, status=status)


@transaction.atomic
def _file(request: HttpRequest, phone: str, data: dict[str, Any], cleaned: list[photos.CleanPhoto]) -> Ticket:
    ticket = intake.ticket_create(
        actor=Actor.citizen(),
        channel=Channel.WEB,
        kind=data["kind"],
        text=data["text"],
        citizen_name=data["name"],
        citizen_phone=phone,
        citizen_address=data["address"],
        confidential=data["privacy"] == "confidential",
        anonymous=data["privacy"] == "anonymous",
        client_ip=client_ip(request),
        raw={"web": {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}, "photos": len(cleaned)},
    )
    for photo in cleaned:
        photos.photo_attach(ticket=ticket, photo=photo)
    return ticket


def submitted(request: HttpRequest) -> HttpResponse:
    number = request.session.get("citizen_last_ticket", "")
    if not number:
        return HttpResponseRedirect(reverse("citizen-home"))
    return render(request, T + "submitted.html", {"number": number})


# --- 我的诉求: a verified citizen's own matters, and 补充 to an open one -------------------------------


class SupplementForm(CitizenForm):
    text = forms.CharField(
        label=gettext_lazy("补充说明"),
        min_length=2,
        max_length=settings.SUPPLEMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


MINE_SHOWN = 20


@require_http_methods(["GET", "POST"])
def mine(request: HttpRequest, number: str = "") -> HttpResponse:
    """The matters filed from the verified number, newest first; POST …/<number>/supplement/ adds
    to an open one (the words join its text, marked with the time: intake.ticket_supplement)."""
    phone = _verified_phone(request)
    if not phone:
        return HttpResponseRedirect(reverse("citizen-verify") + "?next=" + reverse("citizen-mine"))
    tickets = list(Ticket.objects.filter(citizen_phone=phone).select_related("lead_unit").order_by("-id")[:MINE_SHOWN])
    refused: dict[str, Any] = {}
    status = 200
    if request.method == "POST" and number:
        ticket = Ticket.objects.filter(citizen_phone=phone, number=number).first()
        if ticket is None:
            raise Http404(_("未找到该诉求"))
        form = SupplementForm(request.POST, auto_id=f"id_{number}_%s")
        status = 400
        if form.is_valid():
            try:
                intake.ticket_supplement(ticket=ticket, text=form.cleaned_data["text"], channel=Channel.WEB)
            except DomainError as exc:  # ended meanwhile, no room left, too often: said at the field
                form.add_error("text" if exc.field == "text" else None, exc.message)
                status = exc.status_code
            else:
                messages.success(request, _("已补充到工单 %(number)s，承办单位将一并办理。") % {"number": number})
                return HttpResponseRedirect(reverse("citizen-mine") + f"#t-{number}")
        refused = {"number": number, "form": form}
    rows = []
    for ticket in tickets:
        open_one = ticket.state not in ENDED_TICKET_STATES
        kept: SupplementForm | None = refused.get("form") if refused.get("number") == ticket.number else None
        shown = kept or (SupplementForm(auto_id=f"id_{ticket.number}_%s") if open_one else None)
        rows.append({"ticket": ticket, "state_label": citizen_state_label(ticket.state), "form": shown})
    context = {"rows": rows, "phone": mask_phone(phone), "refused": refused.get("number", "")}
    return render(request, T + "mine.html", context, status=status)


# --- status and rating ------------------------------------------------------------------------


class StatusForm(CitizenForm):
    number = forms.CharField(
        label=gettext_lazy("工单号"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    last4 = forms.CharField(
        label=gettext_lazy("手机号后四位"),
        min_length=4,
        max_length=4,
        validators=[RegexValidator(r"^[0-9]{4}$", gettext_lazy("请输入手机号的后四位数字"))],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


@require_http_methods(["GET", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    form = StatusForm(request.POST or None)
    context: dict[str, Any] = {"form": form}
    code = 200
    if request.method == "POST" and form.is_valid():
        try:
            ticket = citizen_auth.ticket_lookup(
                number=form.cleaned_data["number"], last4=form.cleaned_data["last4"], client_ip=client_ip(request)
            )
        except DomainError as exc:
            context["error"], code = exc.message, exc.status_code
        else:
            under_review = dissatisfaction_under_review(ticket)
            context.update(
                ticket=ticket,
                # Not 已办结 while the citizen's 不满意 is being reviewed: the page says what happens next.
                state_label=_("不满意意见审核中") if under_review else citizen_state_label(ticket.state),
                under_review=under_review,
                history=public_history(ticket),
                reply=public_reply(ticket),
                can_rate=rating.can_rate(ticket),
            )
    return render(request, T + "status.html", context, status=code)


class RateForm(CitizenForm):
    satisfaction = forms.ChoiceField(
        label=gettext_lazy("您对办理结果是否满意"), choices=Satisfaction.choices, widget=forms.RadioSelect
    )
    solved = forms.TypedChoiceField(
        label=gettext_lazy("问题是否已解决"),
        choices=[("yes", gettext_lazy("已解决")), ("no", gettext_lazy("未解决"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    contacted = forms.TypedChoiceField(
        label=gettext_lazy("承办单位是否与您联系"),
        choices=[("yes", gettext_lazy("已联系")), ("no", gettext_lazy("未联系"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=gettext_lazy("意见建议（不满意时请写明原因）"),
        required=False,
        max_length=settings.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("satisfaction") == Satisfaction.DISSATISFIED and not (data.get("comment") or "").strip():
            self.add_error("comment", _("请写明不满意的原因，我们将转交督办人员核查"))
        return data


@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, token: str) -> HttpResponse:
    try:
        ticket = rating.rating_token_read(token)
    except DomainError as exc:
        return render(request, T + "message.html", {"title": _("无法评价"), "message": exc.message}, status=404)
    if not rating.can_rate(ticket):
        return render(
            request,
            T + "message.html",
            {"title": _("已评价"), "message": _("该工单已评价或已办结，感谢您的反馈。")},
        )
    form = RateForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            rating.rating_record(ticket=ticket, actor=Actor.citizen(), channel="web", **form.cleaned_data)
        except DomainError as exc:
            error = exc.message
        else:
            message = _("工单%(number)s的评价已记录。") % {"number": ticket.number}
            if form.cleaned_data["satisfaction"] == "dissatisfied":
                message += _("您的不满意意见已转交督办人员审核。")
            return render(request, T + "message.html", {"title": _("感谢评价"), "message": message})
    context = {"form": form, "ticket": ticket, "reply": public_reply(ticket), "error": error}
    return render(request, T + "rate.html", context, status=400 if request.method == "POST" else 200)
