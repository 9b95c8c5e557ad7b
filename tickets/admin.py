"""Django admin: configuration (units, categories, routing, SLA, calendar, users) and read-only history."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import JSONField
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import Context, Template, TemplateSyntaxError
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html

from tickets import models as m
from tickets.accounts.services import api_token_revoke
from tickets.core import privacy
from tickets.core.services.access import citizen_record_view_record, ticket_view_record
from tickets.core.states import AssignmentState, TicketState
from tickets.core.text import normalise_phone
from tickets.errors import DomainError, InvalidInput
from tickets.pages import history
from tickets.sla.calendar_source import YearFileError
from tickets.sla.services import policy as sla_policy
from tickets.sla.services.calendar import calendar_import_file
from tickets.supervision.services.notice_texts import notice_templates_ensure


def _boolean_icon(value: bool | None) -> str:
    """Django's yes/no icon, with a Chinese alt text (its own says "True"/"False" to screen readers)."""
    icon = static("admin/img/icon-%s.svg" % {True: "yes", False: "no", None: "unknown"}[value])  # noqa: UP031
    return format_html('<img src="{}" alt="{}">', icon, {True: "是", False: "否", None: "未知"}[value])


# Django reads this module attribute each time it draws a boolean cell (admin_list and utils).
admin_list._boolean_icon = _boolean_icon  # type: ignore[attr-defined]

RATING_CHANNELS = {"sms": "短信", "web": "网站", "app": "移动端", "phone": "电话回访"}
SUPERVISION_CLOCKS = {"sign": "签收", "reply": "办结"}  # as notice_texts names them in the notice
NOTICE_EXAMPLE = {
    "ticket_number": "20261202000001",
    "ticket_title": "小区门口道路破损",
    "unit_name": "示例街道办事处",
    "level_label": "督办",
    "clock_label": "办结",
    "due_at": "2026年12月5日 23:59",
    "overdue_days": 2,
    "note": "请加快办理",
    "round": 1,
    "issued_by": "市热线督办科",
}

admin.site.site_header = "12345 工单系统 · 后台管理"
admin.site.site_title = "12345 后台管理"
admin.site.index_title = "系统配置与记录"


def readable_json(value: Any) -> str:
    """A JSON value as an indented block a person can read (Chinese kept as Chinese)."""
    if value in (None, "", [], {}):
        return "—"
    return format_html('<pre class="readable-json">{}</pre>', json.dumps(value, ensure_ascii=False, indent=2))


class ReadableJsonWidget(forms.Textarea):
    """An editable JSON field, indented and with Chinese kept as Chinese (not \\u escapes)."""

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return value
        return json.dumps(value, ensure_ascii=False, indent=2)


class HotlineModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Every admin page here: JSON fields shown readably, edited as indented text."""

    formfield_overrides = {JSONField: {"widget": ReadableJsonWidget(attrs={"rows": 8, "cols": 80})}}

    def __init__(self, model: Any, admin_site: Any) -> None:
        super().__init__(model, admin_site)
        self.json_fields = {f.name for f in model._meta.fields if isinstance(f, JSONField)}
        for name in self.json_fields:
            field = model._meta.get_field(name)

            def show(obj: Any, _name: str = name) -> str:
                return readable_json(getattr(obj, _name))

            setattr(self, f"{name}_readable", admin.display(description=field.verbose_name)(show))

    def _readable_names(self, request: HttpRequest, obj: Any) -> set[str]:
        """JSON fields this page shows rather than edits: declared read-only, or a view-only page."""
        declared = {n for n in super().get_readonly_fields(request, obj) if isinstance(n, str)}
        view_only = obj is not None and not self.has_change_permission(request, obj)
        excluded = set(self.exclude or ())
        return {n for n in self.json_fields if (n in declared or view_only) and n not in excluded}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The raw name stays read-only too, so the form never offers it; get_fields shows the
        # readable one in its place.
        shown = self._readable_names(request, obj)
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, *(n for n in shown if n not in readonly), *(f"{n}_readable" for n in shown)]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        shown = self._readable_names(request, obj)
        fields = [f"{n}_readable" if n in shown else n for n in super().get_fields(request, obj)]
        return list(dict.fromkeys(fields))

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        # Forms check what they can in clean(); a service may still refuse at save time (a policy
        # superseded by another admin a moment ago). Django saves inside one transaction, so the
        # refusal leaves nothing behind, not even the admin log row: say why instead of a 500.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as refused:
            if request.method != "POST":
                raise  # a page that cannot be shown: redirecting to itself would loop
            messages.error(request, refused.message)
            return redirect(request.get_full_path())


def add_domain_error(form: forms.BaseForm, refused: DomainError) -> None:
    """A service's refusal shown on the form: on its field when the form has one, else above the form."""
    field = refused.field if refused.field in form.fields else None
    form.add_error(field, refused.message)


def unit_interval(value: float | None, *, label: str) -> float | None:
    """A probability threshold: empty stays empty, anything outside 0–1 is refused."""
    if value is not None and not 0 <= value <= 1:
        raise forms.ValidationError(f"{label}须在 0 与 1 之间（例如 0.6 表示可信度达到 60% 才自动派单）")
    return value


class _Named:
    """An object as an admin page names it, where the model's own name is an internal code
    ("1:created"). Everything else is the object's: the page still reads its pk and fields."""

    def __init__(self, obj: Any, name: str) -> None:
        self._obj = obj
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._obj, attr)

    def __str__(self) -> str:
        return self._name


@admin.register(m.User)
class HotlineUserAdmin(UserAdmin):  # type: ignore[type-arg]
    list_display = ["username", "full_name", "role", "unit", "is_active"]

    @admin.display(description="姓名", ordering="last_name")
    def full_name(self, user: m.User) -> str:
        return f"{user.last_name}{user.first_name}" or "—"

    list_filter = ["role", "is_active"]
    fieldsets = (*(UserAdmin.fieldsets or ()), ("岗位与单位", {"fields": ("role", "unit")}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("岗位与单位", {"fields": ("role", "unit")}))


class UnitForm(forms.ModelForm):  # type: ignore[type-arg]
    def clean_liaison_phone(self) -> str:
        try:
            return normalise_phone(self.cleaned_data["liaison_phone"], field="liaison_phone")
        except InvalidInput as bad:
            raise forms.ValidationError(f"{bad.message}：联络电话须为手机号码或带区号的固定电话") from None


@admin.register(m.Unit)
class UnitAdmin(HotlineModelAdmin):
    form = UnitForm
    list_display = ["name", "code", "kind", "parent", "liaison_name", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]
    readonly_fields = ["path"]


class CategoryForm(forms.ModelForm):  # type: ignore[type-arg]
    def clean_auto_dispatch_threshold(self) -> float | None:
        return unit_interval(self.cleaned_data["auto_dispatch_threshold"], label="自动派单置信度阈值")


@admin.register(m.Category)
class CategoryAdmin(HotlineModelAdmin):
    form = CategoryForm
    list_display = ["name", "code", "parent", "is_functional", "is_active"]
    list_filter = ["is_functional", "is_active"]
    search_fields = ["name", "code"]
    readonly_fields = ["path"]


@admin.register(m.RoutingRule)
class RoutingRuleAdmin(HotlineModelAdmin):
    list_display = ["category", "jurisdiction", "lead_unit", "is_active"]
    list_filter = ["is_active", "category"]
    autocomplete_fields = ["category", "jurisdiction", "lead_unit"]
    filter_horizontal = ["assisting_units"]


class CityProfileForm(forms.ModelForm):  # type: ignore[type-arg]
    def clean_auto_dispatch_threshold(self) -> float | None:
        return unit_interval(self.cleaned_data["auto_dispatch_threshold"], label="自动派单置信度阈值")


@admin.register(m.CityProfile)
class CityProfileAdmin(HotlineModelAdmin):
    form = CityProfileForm
    list_display = ["name", "is_active", "problem_reopen_threshold", "problem_units_threshold", "rating_expiry_days"]


class SlaPolicyForm(forms.ModelForm):  # type: ignore[type-arg]
    def clean(self) -> dict[str, Any]:
        """The policy as it would be saved, checked by the service's own rule (`policy_revise` runs
        the same check at save time), so a bad value is a message on its field, not a 500."""
        cleaned = super().clean() or {}
        if any(name in self.errors for name in sla_policy.POLICY_EDITABLE):
            return cleaned  # the field already says what is wrong with it
        values: dict[str, object] = {name: getattr(self.instance, name) for name in sla_policy.POLICY_EDITABLE}
        values.update({name: v for name, v in cleaned.items() if name in sla_policy.POLICY_EDITABLE})
        try:
            sla_policy.policy_check(values)
        except InvalidInput as refused:
            add_domain_error(self, refused)
        return cleaned


@admin.register(m.SlaPolicy)
class SlaPolicyAdmin(HotlineModelAdmin):
    form = SlaPolicyForm
    list_display = [
        "profile",
        "kind",
        "urgency",
        "sign_amount",
        "sign_unit",
        "reply_amount",
        "reply_unit",
        "is_current",
    ]
    list_filter = ["profile", "kind", "urgency", "is_current"]
    readonly_fields = ["is_current", "supersedes", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and not obj.is_current:  # an old version is history: assignments point at it
            return [f.name for f in obj._meta.fields]
        if obj is not None:
            return [*self.readonly_fields, "profile", "kind", "urgency"]
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """An edit makes a new version row (applies to assignments created from now on)."""
        if not change:
            current = m.SlaPolicy.objects.filter(
                profile=obj.profile, kind=obj.kind, urgency=obj.urgency, is_current=True
            ).first()
            if current is None:
                super().save_model(request, obj, form, change)
                return
            changes = {f: form.cleaned_data[f] for f in sla_policy.POLICY_EDITABLE if f in form.cleaned_data}
        else:
            current = m.SlaPolicy.objects.get(pk=obj.pk)
            changes = {f: form.cleaned_data[f] for f in form.changed_data if f in sla_policy.POLICY_EDITABLE}
        revised = sla_policy.policy_revise(policy=current, changes=changes)
        obj.pk, obj.is_current, obj.supersedes_id = revised.pk, True, revised.supersedes_id

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # assignments keep the version they were created under


class CalendarUploadForm(forms.Form):
    file = forms.FileField(label="年度节假日安排文件（TOML 或 JSON 格式）")


@admin.register(m.CalendarYear)
class CalendarYearAdmin(HotlineModelAdmin):
    list_display = ["year", "source", "imported_at"]
    change_list_template = "admin/tickets/calendaryear/change_list.html"

    def get_urls(self) -> list[Any]:
        extra = [path("import/", self.admin_site.admin_view(self.import_view), name="tickets_calendaryear_import")]
        return extra + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """导入新年度: the State Council's notice typed into a small year file; fills flagged deadlines."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = CalendarUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            suffix = Path(upload.name).suffix.lower()
            with tempfile.TemporaryDirectory() as folder:
                target = Path(folder) / f"upload{suffix}"
                target.write_bytes(upload.read())
                try:
                    stored = calendar_import_file(path=target)
                except YearFileError as exc:
                    form.add_error("file", "；".join(exc.problems))
                else:
                    self.message_user(
                        request,
                        f"已导入{stored.year}年工作日历，补算{stored.filled}件派单时限"
                        + (f"，另有{stored.still_missing}件仍需后续年份" if stored.still_missing else ""),
                        messages.SUCCESS,
                    )
                    return redirect("admin:tickets_calendaryear_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.model._meta,
            "title": "导入工作日历",
        }
        return render(request, "admin/tickets/calendaryear/import.html", context)


@admin.register(m.CalendarDay)
class CalendarDayAdmin(HotlineModelAdmin):
    list_display = ["date", "day_type", "name"]
    list_filter = ["day_type"]
    date_hierarchy = "date"


class ReadOnlyAdmin(HotlineModelAdmin):
    def object_name(self, obj: Any) -> str | None:
        """The heading of the object's page, when the model's own name is an internal code."""
        return None

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        name = self.object_name(obj) if obj is not None else None
        if name is not None:  # the heading, the window title and the breadcrumb
            extra_context = {**(extra_context or {}), "subtitle": name, "original": _Named(obj, name)}
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        name = self.object_name(obj) if obj is not None else None
        if name is not None:
            extra_context = {
                **(extra_context or {}),
                "title": f"变更历史：{name}",
                "object": _Named(obj, name),
            }
        return super().history_view(request, object_id, extra_context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def masked_phone_column(field: str, label: str) -> Any:
    """A list's column of a citizen's number, masked (138 **** 1234): a list shows many records and logs
    no reading; the number in full is on the record's own page, whose reading is logged."""

    @admin.display(description=label, ordering=field)
    def column(self: Any, obj: Any) -> str:
        shown = privacy.phone_display(privacy.mask_phone(getattr(obj, field)))
        return shown.replace(" ", "\u00a0") or "—"  # one line: 138 **** 1234 wrapped into three in a narrow column

    return column


class CitizenRecordViewLogged:
    """An admin page showing a citizen's number (来件原文, 发件箱, 来电, 未接来电回拨, 退订): each reading is logged,
    with the ticket the record belongs to (domain.md §7), as the ticket's own page is."""

    def record_ticket(self, obj: Any) -> m.Ticket | None:
        return getattr(obj, "ticket", None)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        shown = (getattr(response, "context_data", None) or {}).get("original")
        if request.method == "GET" and response.status_code == 200 and shown is not None:
            citizen_record_view_record(
                ticket=self.record_ticket(shown),
                user=request.user,  # type: ignore[arg-type]
                via=f"admin.{shown._meta.model_name}",
                record=shown.pk,
            )
        return response  # type: ignore[no-any-return]


@admin.register(m.Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ["number", "channel", "kind", "urgency", "state", "lead_unit", "due_at", "created_at"]
    list_filter = ["state", "channel", "kind", "urgency", "is_problem"]
    search_fields = ["number"]
    show_full_result_count = False

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """The page shows the citizen's name, number and address: each reading is logged (domain.md §7)."""
        response = super().change_view(request, object_id, form_url, extra_context)
        shown = (getattr(response, "context_data", None) or {}).get("original")
        if request.method == "GET" and response.status_code == 200 and shown is not None:
            ticket_view_record(ticket=shown, user=request.user, via="admin.ticket")  # type: ignore[arg-type]
        return response


class EventActionFilter(admin.SimpleListFilter):
    """办理记录 filtered by what happened, named as the ticket page names it."""

    title = "操作"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        actions = m.TicketEvent.objects.order_by().values_list("action", flat=True).distinct()
        return sorted(((a, history.event_label(a)) for a in actions), key=lambda pair: pair[1])

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(action=self.value()) if self.value() else queryset


_STATE_LABELS = {**dict(AssignmentState.choices), **dict(TicketState.choices)}


@admin.register(m.TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "ticket", "action_label", "actor_kind", "actor_label", "from_label", "to_label", "created_at"]
    list_filter = [EventActionFilter, "actor_kind"]
    list_select_related = ["actor__unit", "ticket"]
    show_full_result_count = False
    # The page shows what the list shows: labels, not the stored codes.
    fields = [
        "ticket",
        "assignment",
        "action_label",
        "actor_kind",
        "actor_label",
        "from_label",
        "to_label",
        "reason",
        "data",
        "created_at",
    ]
    readonly_fields = ["action_label", "actor_label", "from_label", "to_label"]

    def object_name(self, event: m.TicketEvent) -> str:
        return f"{event.ticket.number} {history.event_label(event.action, event.data)}"

    @admin.display(description="操作", ordering="action")
    def action_label(self, event: m.TicketEvent) -> str:
        return history.event_label(event.action, event.data)

    @admin.display(description="操作人")
    def actor_label(self, event: m.TicketEvent) -> str:
        return history.actor_label(event)

    @admin.display(description="原状态")
    def from_label(self, event: m.TicketEvent) -> str:
        return str(_STATE_LABELS.get(event.from_state, "")) or "—"

    @admin.display(description="新状态")
    def to_label(self, event: m.TicketEvent) -> str:
        return str(_STATE_LABELS.get(event.to_state, "")) or "—"


def _person(user: Any) -> str:
    return history.person_label(user) or "—"


@admin.register(m.TicketAccessLog)
class TicketAccessLogAdmin(ReadOnlyAdmin):
    list_display = ["id", "ticket", "reader", "action", "created_at"]
    list_select_related = ["user__unit", "ticket"]
    fields = ["ticket", "reader", "action", "detail", "created_at"]
    readonly_fields = ["reader"]

    def object_name(self, log: m.TicketAccessLog) -> str:
        number = log.ticket.number if log.ticket is not None else "—"
        return f"{_person(log.user)} {log.get_action_display()} {number}"

    @admin.display(description="查看人", ordering="user")
    def reader(self, log: m.TicketAccessLog) -> str:
        return _person(log.user)

    list_filter = ["action"]
    show_full_result_count = False


# --- intake (统一接收) ---------------------------------------------------------------------------


@admin.register(m.InboundMessage)
class InboundMessageAdmin(CitizenRecordViewLogged, ReadOnlyAdmin):
    list_display = ["id", "channel", "sid", "masked_phone", "ticket", "note", "received_at"]
    masked_phone = masked_phone_column("phone", "号码")
    list_filter = ["channel"]
    search_fields = ["sid", "phone"]
    show_full_result_count = False


@admin.register(m.SmsMessage)
class SmsMessageAdmin(CitizenRecordViewLogged, ReadOnlyAdmin):
    """发件箱: with no Twilio credentials every message stays here (state 本地发件箱).

    The body is shown through `privacy.sms_body_for_staff` (codes and rating links masked), in the
    list and on the message's page; the stored body itself is never a field here.
    """

    list_display = ["id", "masked_phone", "purpose", "state", "attempts", "ticket", "shown_body", "created_at"]
    masked_phone = masked_phone_column("to_phone", "收信号码")
    list_filter = ["state", "purpose"]
    search_fields = ["to_phone", "twilio_sid"]
    show_full_result_count = False
    exclude = ["body"]
    readonly_fields = ["shown_body"]

    @admin.display(description="内容")
    def shown_body(self, message: m.SmsMessage) -> str:
        return privacy.sms_body_for_staff(message)


@admin.register(m.Call)
class CallAdmin(CitizenRecordViewLogged, ReadOnlyAdmin):
    list_display = ["call_sid", "masked_phone", "status", "duration_seconds", "after_hours", "ticket", "started_at"]
    masked_phone = masked_phone_column("phone", "来电号码")
    list_filter = ["status", "after_hours"]
    search_fields = ["call_sid", "phone"]


@admin.register(m.CallbackTask)
class CallbackTaskAdmin(CitizenRecordViewLogged, HotlineModelAdmin):
    list_display = ["id", "masked_phone", "reason", "state", "created_at", "done_by_label"]
    masked_phone = masked_phone_column("phone", "回拨号码")

    def record_ticket(self, obj: Any) -> m.Ticket | None:
        return obj.call.ticket if obj.call_id else None

    @admin.display(description="完成人")
    def done_by_label(self, task: m.CallbackTask) -> str:
        return _person(task.done_by) if task.done_by_id else "—"

    list_filter = ["state"]
    readonly_fields = ["call", "phone", "reason", "created_at"]


@admin.register(m.Desk)
class DeskAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """专席: one named Twilio queue each; chosen by the number called or a key in the menu."""

    list_display = ["name", "code", "digit", "called_number", "is_default", "sort"]


@admin.register(m.Seat)
class SeatAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """座席: skills (desks) and how to ring the operator; the state is set by the console and calls."""

    list_display = ["user", "state", "state_since", "device", "phone"]
    list_filter = ["state", "device", "skills"]
    filter_horizontal = ["skills"]
    readonly_fields = ["state", "state_since", "wrap_up_until", "leg_call_sid"]


@admin.register(m.QueuedCall)
class QueuedCallAdmin(ReadOnlyAdmin):
    list_display = ["call", "desk", "outcome", "enqueued_at", "wait_seconds", "operator", "handle_seconds"]
    list_filter = ["outcome", "desk"]


@admin.register(m.CallRecording)
class CallRecordingAdmin(ReadOnlyAdmin):
    list_display = ["recording_sid", "call", "ticket", "duration_seconds", "created_at", "purged_at"]
    exclude = ["url"]  # listened to through the audited proxy on the console, never by its Twilio URL


@admin.register(m.CallTransfer)
class CallTransferAdmin(ReadOnlyAdmin):
    """转接与三方通话: who moved which call where, and when."""

    list_display = ["call", "kind", "operator", "from_desk", "to_desk", "unit", "created_at", "ended_at"]
    list_filter = ["kind"]


@admin.register(m.PhoneLine)
class PhoneLineAdmin(HotlineModelAdmin):
    list_display = ["profile", "opens_at", "closes_at", "seats"]


@admin.register(m.SmsOptOut)
class SmsOptOutAdmin(CitizenRecordViewLogged, HotlineModelAdmin):
    list_display = ["masked_phone", "source", "created_at"]
    masked_phone = masked_phone_column("phone", "号码")
    search_fields = ["phone"]


@admin.register(m.PartnerKey)
class PartnerKeyAdmin(HotlineModelAdmin):
    """Keys are created with `manage.py partner_key_create NAME` (shown once); here: disable them."""

    list_display = ["name", "key_prefix", "is_active", "created_at", "last_used_at"]
    readonly_fields = ["key_prefix", "key_hash", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(m.Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "round", "satisfaction", "solved", "contacted", "channel_label", "created_at"]
    list_filter = ["satisfaction"]

    @admin.display(description="评价渠道", ordering="channel")
    def channel_label(self, rating: m.Rating) -> str:
        return RATING_CHANNELS.get(rating.channel, rating.channel)


# --- 统一督办 ---------------------------------------------------------------------------------


@admin.register(m.Supervision)
class SupervisionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "ticket",
        "level",
        "unit",
        "due_at",
        "sms_status",
        "issuer",
        "created_at",
    ]
    list_select_related = ["issued_by__unit", "unit", "ticket"]
    fields = [
        "ticket",
        "assignment",
        "unit",
        "level",
        "clock_label",
        "due_at",
        "text",
        "note",
        "recipients",
        "issuer",
        "sms_status",
        "notified_at",
        "created_at",
    ]
    readonly_fields = ["clock_label", "issuer"]

    def object_name(self, notice: m.Supervision) -> str:
        return f"{notice.ticket.number} {notice.get_level_display()}"

    @admin.display(description="发出人")
    def issuer(self, notice: m.Supervision) -> str:
        return _person(notice.issued_by) if notice.issued_by_id else "系统定时督办"

    @admin.display(description="所涉时限")
    def clock_label(self, notice: m.Supervision) -> str:
        return SUPERVISION_CLOCKS.get(notice.clock, notice.clock) or "—"

    list_filter = ["level", "sms_status"]
    show_full_result_count = False


class NoticeTemplateForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = m.NoticeTemplate
        fields = ["level", "body"]
        help_texts = {
            "body": "模板语法：用 {{ 变量名 }} 插入内容。可用变量：ticket_number（工单号）、ticket_title（标题）、"
            "unit_name（单位名称）、level_label（督办级别）、clock_label（所涉时限）、due_at（时限）、"
            "overdue_days（超期天数）、note（督办意见）、round（办理轮次）",
        }

    def clean_body(self) -> str:
        body = str(self.cleaned_data["body"])
        try:
            Template(body)
        except TemplateSyntaxError as exc:
            raise forms.ValidationError(f"模板语法错误：{exc}") from exc
        return body


@admin.register(m.NoticeTemplate)
class NoticeTemplateAdmin(HotlineModelAdmin):
    form = NoticeTemplateForm
    list_display = ["level", "preview", "updated_at"]

    @admin.display(description="示例效果")
    def preview(self, template: m.NoticeTemplate) -> str:
        """The notice as a unit would read it, filled with an example ticket (the source is on the edit page)."""
        try:
            return Template(template.body).render(Context(NOTICE_EXAMPLE))
        except TemplateSyntaxError:
            return "（模板有语法错误，请打开修改）"

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        notice_templates_ensure()  # the defaults are there to be edited
        return super().changelist_view(request, extra_context)


@admin.register(m.AdminAlert)
class AdminAlertAdmin(HotlineModelAdmin):
    list_display = ["title", "kind", "occurrences", "created_at", "last_seen_at", "resolved_at"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["kind", "key", "title", "message", "data", "occurrences", "created_at", "last_seen_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# --- staff logins: lockouts and API tokens (tickets/accounts/lockout.py, tickets/accounts/services.py) ---


@admin.register(m.LoginLockout)
class LoginLockoutAdmin(HotlineModelAdmin):
    list_display = ["username", "ip_address", "failures", "last_failure", "path_info"]
    search_fields = ["username", "ip_address"]
    actions = ["unlock"]
    readonly_fields = ["username", "ip_address", "user_agent", "path_info", "failures_since_start", "attempt_time"]
    exclude = ["get_data", "post_data", "http_accept"]

    @admin.display(description="失败次数", ordering="failures_since_start")
    def failures(self, obj: m.LoginLockout) -> int:
        return int(obj.failures_since_start)

    @admin.display(description="最近一次失败", ordering="attempt_time")
    def last_failure(self, obj: m.LoginLockout) -> Any:
        return obj.attempt_time

    @admin.action(description="解除锁定（清除所选账号的失败记录）")
    def unlock(self, request: HttpRequest, queryset: Any) -> None:
        count, _ = queryset.delete()
        self.message_user(request, f"已解除锁定，清除 {count} 条失败记录")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(m.ApiToken)
class ApiTokenAdmin(HotlineModelAdmin):
    list_display = ["prefix", "holder", "created_at"]

    @admin.display(description="工作人员", ordering="user")
    def holder(self, token: m.ApiToken) -> str:
        return _person(token.user)

    search_fields = ["user__username", "prefix"]
    readonly_fields = ["user", "prefix", "created_at"]
    exclude = ["digest", "credential_hash"]
    actions = ["revoke"]

    @admin.action(description="注销所选令牌（已连接的实时推送随即断开）")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        tokens = list(queryset)
        for token in tokens:
            api_token_revoke(token=token)
        self.message_user(request, f"已注销 {len(tokens)} 个令牌")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deleting rows would leave their sockets open
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- notes and reply templates (tickets/notes/) ----------------------------------------------------


@admin.register(m.ReplyTemplate)
class ReplyTemplateAdmin(HotlineModelAdmin):
    """答复模板: offered in each unit's reply form (its own, its ancestors', and the shared ones)."""

    list_display = ["title", "unit", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["title", "body"]
    autocomplete_fields = ["unit"]


@admin.register(m.TicketNote)
class TicketNoteAdmin(ReadOnlyAdmin):
    list_display = ["id", "ticket", "author", "author_unit", "created_at"]
    list_select_related = ["ticket", "author", "author_unit"]
    show_full_result_count = False


@admin.register(m.TicketAttachment)
class TicketAttachmentAdmin(ReadOnlyAdmin):
    """附件: listed here, opened only through the logged page view (never the stored file's URL)."""

    list_display = ["id", "ticket", "source", "content_type", "size", "created_at", "open_link"]
    list_filter = ["source"]
    list_select_related = ["ticket"]
    exclude = ["file"]
    show_full_result_count = False

    @admin.display(description="查看")
    def open_link(self, attachment: m.TicketAttachment) -> str:
        url = reverse("attachment-file", args=[attachment.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">查看（将被记录）</a>', url)
