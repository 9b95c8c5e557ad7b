"""Configuration reads (units, categories, routing catalogue) and the current user."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.core.apis.base import STAFF_ROLES, HasRole
from tickets.core.apis.outputs import CategoryOutput, RoutingRuleOutput, UnitOutput, UnitRef
from tickets.org.models import Category, RoutingRule, Unit


class UnitListApi(generics.ListAPIView):  # type: ignore[type-arg]
    permission_classes = [HasRole]
    roles = STAFF_ROLES
    serializer_class = UnitOutput
    queryset = Unit.objects.filter(is_active=True).order_by("path")
    filterset_fields = ["kind", "parent"]


class CategoryListApi(generics.ListAPIView):  # type: ignore[type-arg]
    permission_classes = [HasRole]
    roles = STAFF_ROLES
    serializer_class = CategoryOutput
    queryset = Category.objects.filter(is_active=True).order_by("path")
    filterset_fields = ["parent", "is_functional"]


class RoutingRuleListApi(generics.ListAPIView):  # type: ignore[type-arg]
    permission_classes = [HasRole]
    roles = STAFF_ROLES
    serializer_class = RoutingRuleOutput
    queryset = (
        RoutingRule.objects.select_related("category", "jurisdiction", "lead_unit")
        .prefetch_related("assisting_units")
        .order_by("id")
    )
    filterset_fields = ["category", "jurisdiction", "lead_unit"]


class MeOutput(serializers.Serializer):  # type: ignore[type-arg]
    username = serializers.CharField()
    role = serializers.CharField()
    unit = UnitRef(allow_null=True)


class MeApi(APIView):
    permission_classes = [HasRole]

    @extend_schema(responses={200: MeOutput})
    def get(self, request: Request) -> Response:
        user: Any = request.user
        return Response(MeOutput({"username": user.username, "role": user.role, "unit": user.unit}).data)
