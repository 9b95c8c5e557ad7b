"""Building blocks shared by the API views: strict input, role permissions, action views."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.models import Role, User
from tickets.services.actors import Actor
from tickets.services.text import has_control_chars


class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Refuses anything but a JSON object, and names every unknown field."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({"non_field_errors": ["请求体必须是 JSON 对象"]})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["未知字段"] for name in unknown})
        return super().to_internal_value(data)


class TextField(serializers.CharField):
    """A CharField that refuses control characters and unpaired surrogates."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError("必须是字符串")
        if has_control_chars(data):
            raise serializers.ValidationError("包含不允许的控制字符")
        return str(super().to_internal_value(data))


def reason_field(*, required: bool = False) -> TextField:
    return TextField(
        max_length=settings.REASON_MAX,
        required=required,
        allow_blank=not required,
        default="" if not required else serializers.empty,
    )


class HasRole(permissions.BasePermission):
    """Allows the roles listed on the view's `roles` attribute (empty: any signed-in staff)."""

    message = "当前角色无权执行此操作"

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        roles: tuple[str, ...] = getattr(view, "roles", ())
        return bool(user.is_superuser or not roles or user.role in roles)  # type: ignore[union-attr]


def staff_user(request: Request) -> User:
    """request.user in a view behind HasRole: a signed-in staff User (the stubs also allow AnonymousUser)."""
    user = request.user
    assert isinstance(user, User), "staff_user() is only for views protected by HasRole"
    return user


CENTRE_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
STAFF_ROLES = (*CENTRE_ROLES, Role.UNIT_STAFF)


class IdCursorPagination(CursorPagination):
    """Keyset pagination on the primary key: a page costs the same at 10M rows as at 1,000."""

    ordering: str | list[str] | tuple[str, ...] = "-id"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class ActionView(APIView):
    """POST one workflow operation: validate the input, call one service, answer the result."""

    permission_classes: ClassVar[list[type[permissions.BasePermission]]] = [HasRole]  # type: ignore[misc]
    roles: tuple[str, ...] = STAFF_ROLES
    InputSerializer: type[serializers.Serializer] = StrictSerializer  # type: ignore[type-arg]
    output: type[serializers.Serializer]  # type: ignore[type-arg]
    # Each operation defines perform(request, actor, data, <url kwargs>) -> the object to answer with.
    perform: Callable[..., Any]
    summary = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "perform" not in cls.__dict__:
            return
        if "InputSerializer" in cls.__dict__:
            # Distinct component names in the OpenAPI schema: TicketDispatchInput, AssignmentSignInput, …
            cls.InputSerializer.__name__ = cls.__name__.removesuffix("Api") + "Input"

        def post(self: ActionView, request: Request, *args: Any, **kw: Any) -> Response:
            return self.handle_action(request, *args, **kw)

        cls.post = extend_schema(  # type: ignore[attr-defined]
            request=cls.InputSerializer,
            responses={200: cls.output},
            summary=cls.summary or None,
        )(post)

    def handle_action(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = request.data if request.data is not None else {}
        serializer = self.InputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        result = self.perform(request, Actor.of(request.user), serializer.validated_data, **kwargs)  # type: ignore[arg-type]
        return Response(self.output(result, context={"request": request}).data)
