"""Ticket list filters (django-filter). Every filter maps to an indexed column or path prefix."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from tickets.core import search
from tickets.core.dates import moment_checked
from tickets.core.models import Channel, Kind, Ticket, Urgency
from tickets.core.selectors import IdAmong, assigned_under, holds_id_among
from tickets.core.states import TicketState
from tickets.errors import InvalidInput
from tickets.org.models import Category, Unit


class StrictBooleanField(forms.NullBooleanField):
    """true/false (or 1/0); anything else is a 400 naming the parameter. django-filter's default
    reads "null" or "abc" as "no filter" and answers every ticket (found by fuzzing)."""

    widget = forms.TextInput  # the default select widget maps unknown values to None before clean()

    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]
        if value is None:
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError("必须是 true 或 false", code="invalid")

    def validate(self, value: Any) -> None:
        return None


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class BoundedIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 within the supported years: created_after=0001-01-01T00:00:00 is a 400 naming the
    parameter; it overflowed converting to UTC for the query (HTTP 500)."""

    def clean(self, value: Any) -> Any:
        moment = super().clean(value)
        if moment is None:
            return None
        try:
            return moment_checked(moment, field="datetime")
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message, code=exc.rule) from None


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class StrictFilterSet(django_filters.FilterSet):
    """Typed filters refuse what they cannot read: ?parent= or ?is_flagged=maybe is a 400 naming the
    parameter, not a silently unfiltered list (django-filter treats empty values as "no filter")."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": StrictBooleanFilter},
    }

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, field in self.form.fields.items():
            typed = not isinstance(field, forms.CharField)  # ids, booleans, dates, choices
            if typed and self.data.get(name, None) == "" and name not in self.form.errors:
                self.form.add_error(name, "不能为空")
                valid = False
        return valid


class StrictFilterBackend(DjangoFilterBackend):
    filterset_base = StrictFilterSet


class TicketFilter(StrictFilterSet):
    # distinct=False: a column of the ticket row cannot repeat a row, and DISTINCT over every column
    # made PostgreSQL sort the whole filtered set for one page.
    state = django_filters.MultipleChoiceFilter(choices=TicketState.choices, distinct=False)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)
    unit = django_filters.ModelChoiceFilter(
        queryset=Unit.objects.all(), method="filter_unit", label="承办单位（含下级）"
    )
    lead_unit = django_filters.ModelChoiceFilter(queryset=Unit.objects.all(), label="主办单位")
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(), method="filter_category", label="事项分类（含下级）"
    )
    overdue = StrictBooleanFilter(method="filter_overdue", label="只看已超期")
    is_problem = StrictBooleanFilter(label="问题工单")
    is_flagged = StrictBooleanFilter(label="挂牌督办")
    created_after = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="gte", label="受理时间起")
    created_before = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="lt", label="受理时间止")
    q = django_filters.CharFilter(method="filter_text", max_length=100, label="工单号、来电号码或标题/内容/地址关键词")

    class Meta:
        model = Ticket
        fields: list[str] = []

    @extend_schema_field(OpenApiTypes.INT)
    def filter_unit(self, qs: QuerySet[Ticket], name: str, unit: Unit | None) -> QuerySet[Ticket]:
        if unit is None:
            return qs
        return qs.filter(assigned_under(unit.path, among=not holds_id_among(qs)))

    def filter_category(self, qs: QuerySet[Ticket], name: str, category: Category | None) -> QuerySet[Ticket]:
        if category is None:
            return qs
        return qs.filter(category__in=self._category_ids(category))

    def _category_ids(self, category: Category) -> list[int]:
        """The category and its descendants as a list of ids: a filter on the ticket row itself, no join
        (a join lets the planner sort the whole IdAmong set instead of walking it newest first)."""
        ids: list[int] = self.__dict__.setdefault("_categories", {}).get(category.pk)
        if ids is None:
            ids = list(Category.objects.filter(path__startswith=category.path).order_by().values_list("id", flat=True))
            self.__dict__["_categories"][category.pk] = ids
        return ids

    def filter_overdue(self, qs: QuerySet[Ticket], name: str, value: bool | None) -> QuerySet[Ticket]:
        if value is None:
            return qs
        overdue = Q(due_at__lt=timezone.now(), closed_at__isnull=True)
        if not value:
            return qs.exclude(overdue)
        if holds_id_among(qs):
            return qs.filter(overdue)
        # The overdue set (of the category, when one is asked for) grows with itself, not with the
        # table: its ids come from ticket_due_open_id / ticket_category_due_open_id (index only),
        # newest first, and the unit scope is probed on those rows alone.
        overdue_ids = Ticket.objects.filter(overdue)
        category: Category | None = self.form.cleaned_data.get("category")
        if category is not None:
            overdue_ids = overdue_ids.filter(category__in=self._category_ids(category))
        return qs.filter(IdAmong("pk", overdue_ids.order_by().values("pk")))

    def filter_text(self, qs: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        """工单号 (anyone), caller's number (the centre), or words in the title, text and address
        (`tickets.core.search`, within `privacy.text_search_scope`)."""
        reader = getattr(self.request, "user", None)
        term = search.search_term_read(value, reader)
        if term is None:
            return qs
        self.search_term = term
        return search.ticket_search(qs, term, reader)
