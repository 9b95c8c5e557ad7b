"""Ticket list filters (django-filter). Every filter maps to an indexed column or path prefix."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from tickets.models import Category, Channel, Kind, Ticket, Unit, Urgency
from tickets.selectors import assigned_under
from tickets.states import TicketState


class TicketFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=TicketState.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    kind = django_filters.ChoiceFilter(choices=Kind.choices)
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)
    unit = django_filters.ModelChoiceFilter(
        queryset=Unit.objects.all(), method="filter_unit", label="承办单位（含下级）"
    )
    lead_unit = django_filters.ModelChoiceFilter(queryset=Unit.objects.all())
    category = django_filters.ModelChoiceFilter(queryset=Category.objects.all(), method="filter_category")
    overdue = django_filters.BooleanFilter(method="filter_overdue")
    is_problem = django_filters.BooleanFilter()
    is_flagged = django_filters.BooleanFilter()
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    q = django_filters.CharFilter(method="filter_text", max_length=100, label="工单号或标题/内容关键词")

    class Meta:
        model = Ticket
        fields: list[str] = []

    @extend_schema_field(OpenApiTypes.INT)
    def filter_unit(self, qs: QuerySet[Ticket], name: str, unit: Unit | None) -> QuerySet[Ticket]:
        if unit is None:
            return qs
        return qs.filter(assigned_under(unit.path))

    def filter_category(self, qs: QuerySet[Ticket], name: str, category: Category | None) -> QuerySet[Ticket]:
        if category is None:
            return qs
        return qs.filter(category__path__startswith=category.path)

    def filter_overdue(self, qs: QuerySet[Ticket], name: str, value: bool | None) -> QuerySet[Ticket]:
        if value is None:
            return qs
        overdue = Q(due_at__lt=timezone.now(), closed_at__isnull=True)
        return qs.filter(overdue) if value else qs.exclude(overdue)

    def filter_text(self, qs: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        value = value.strip()
        if not value:
            return qs
        if value.isdigit() and len(value) == 14:
            return qs.filter(number=value)
        return qs.filter(Q(title__icontains=value) | Q(text__icontains=value))
