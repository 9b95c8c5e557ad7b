"""Django admin: configuration (units, categories, routing, SLA, calendar, users) and read-only history."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from tickets import models as m


@admin.register(m.User)
class HotlineUserAdmin(UserAdmin):  # type: ignore[type-arg]
    list_display = ["username", "first_name", "role", "unit", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = (*UserAdmin.fieldsets, ("12345", {"fields": ("role", "unit")}))  # type: ignore[operator]
    add_fieldsets = (*UserAdmin.add_fieldsets, ("12345", {"fields": ("role", "unit")}))


@admin.register(m.Unit)
class UnitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "code", "kind", "parent", "liaison_name", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]
    readonly_fields = ["path"]


@admin.register(m.Category)
class CategoryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "code", "parent", "is_functional", "is_active"]
    list_filter = ["is_functional", "is_active"]
    search_fields = ["name", "code"]
    readonly_fields = ["path"]


@admin.register(m.RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["category", "jurisdiction", "lead_unit", "is_active"]
    list_filter = ["is_active", "category"]
    autocomplete_fields = ["category", "jurisdiction", "lead_unit"]
    filter_horizontal = ["assisting_units"]


@admin.register(m.CityProfile)
class CityProfileAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "is_active", "problem_reopen_threshold", "problem_units_threshold", "rating_expiry_days"]


@admin.register(m.SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
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


@admin.register(m.CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["year", "source", "imported_at"]


@admin.register(m.CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["date", "day_type", "name"]
    list_filter = ["day_type"]
    date_hierarchy = "date"


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(m.Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ["number", "channel", "kind", "urgency", "state", "lead_unit", "due_at", "created_at"]
    list_filter = ["state", "channel", "kind", "urgency", "is_problem"]
    search_fields = ["number"]
    show_full_result_count = False


@admin.register(m.TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "ticket", "action", "actor_kind", "actor", "from_state", "to_state", "created_at"]
    list_filter = ["action", "actor_kind"]
    show_full_result_count = False


@admin.register(m.TicketAccessLog)
class TicketAccessLogAdmin(ReadOnlyAdmin):
    list_display = ["id", "ticket", "user", "action", "created_at"]
    list_filter = ["action"]
    show_full_result_count = False


# --- intake (统一接收) ---------------------------------------------------------------------------


@admin.register(m.InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "channel", "sid", "phone", "ticket", "note", "received_at"]
    list_filter = ["channel"]
    search_fields = ["sid", "phone"]
    show_full_result_count = False


@admin.register(m.SmsMessage)
class SmsMessageAdmin(ReadOnlyAdmin):
    """发件箱: with no Twilio credentials every message stays here (state 本地发件箱)."""

    list_display = ["id", "to_phone", "purpose", "state", "attempts", "ticket", "body", "created_at"]
    list_filter = ["state", "purpose"]
    search_fields = ["to_phone", "twilio_sid"]
    show_full_result_count = False


@admin.register(m.Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ["call_sid", "phone", "status", "duration_seconds", "after_hours", "ticket", "started_at"]
    list_filter = ["status", "after_hours"]
    search_fields = ["call_sid", "phone"]


@admin.register(m.CallbackTask)
class CallbackTaskAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["id", "phone", "reason", "state", "created_at", "done_by"]
    list_filter = ["state"]
    readonly_fields = ["call", "phone", "reason", "created_at"]


@admin.register(m.PhoneLine)
class PhoneLineAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["profile", "opens_at", "closes_at", "seats"]


@admin.register(m.SmsOptOut)
class SmsOptOutAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["phone", "source", "created_at"]
    search_fields = ["phone"]


@admin.register(m.PartnerKey)
class PartnerKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Keys are created with `manage.py partner_key_create NAME` (shown once); here: disable them."""

    list_display = ["name", "key_prefix", "is_active", "created_at", "last_used_at"]
    readonly_fields = ["key_prefix", "key_hash", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(m.Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "round", "satisfaction", "solved", "contacted", "channel", "created_at"]
    list_filter = ["satisfaction", "channel"]
