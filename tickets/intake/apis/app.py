"""The citizen app's API (mounted under /api/app/): phone + SMS-code login, then a bearer token.

A citizen sees only the tickets filed from their own number, and only the public part of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.core.actors import Actor
from tickets.core.apis.base import StrictCursorPagination, StrictSerializer, TextField
from tickets.core.models import Channel, Kind, Ticket
from tickets.core.privacy import mask_phone
from tickets.core.public import public_history, public_reply
from tickets.core.states import ENDED_TICKET_STATES
from tickets.errors import NotFound
from tickets.feedback.models import Rating, Satisfaction
from tickets.feedback.services import rating
from tickets.intake.models import CitizenSession
from tickets.intake.services import citizen_auth, idempotency, intake
from tickets.request_meta import client_ip
from tickets.throttles import CitizenThrottle


@dataclass(frozen=True)
class Citizen:
    """request.user for the app: a verified phone number, not a staff account."""

    phone: str
    is_authenticated: bool = True
    is_superuser: bool = False
    is_centre: bool = False
    role: str = "citizen"


class CitizenTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` issued by the login endpoint."""

    def authenticate(self, request: Request) -> tuple[Citizen, CitizenSession] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("令牌格式不正确")
        session = citizen_auth.session_for_key(parts[1].decode("ascii", "replace"))
        if session is None:
            raise AuthenticationFailed("登录已失效，请重新登录")
        return Citizen(session.phone), session

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="12345-app"'


class CitizenTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Documents the app's bearer token in the OpenAPI schema."""

    target_class = "tickets.intake.apis.app.CitizenTokenAuthentication"
    name = "citizenBearer"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "手机号 + 短信验证码登录后获得的令牌"}


class IsCitizen(BasePermission):
    message = "请先登录"

    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.user, Citizen)


class CitizenView(APIView):
    authentication_classes = [CitizenTokenAuthentication]
    permission_classes = [IsCitizen]
    throttle_classes = [CitizenThrottle]

    def citizen(self, request: Request) -> Citizen:
        return request.user  # type: ignore[return-value]

    def my_tickets(self, request: Request) -> QuerySet[Ticket]:
        return Ticket.objects.filter(citizen_phone=self.citizen(request).phone).select_related("lead_unit")

    def my_ticket(self, request: Request, number: str) -> Ticket:
        ticket = self.my_tickets(request).filter(number=number).first()
        if ticket is None:
            raise NotFound("工单不存在")
        return ticket


# --- login ---------------------------------------------------------------------------------------


class CodeInput(StrictSerializer):
    phone = TextField(max_length=32)


class LoginInput(StrictSerializer):
    phone = TextField(max_length=32)
    code = TextField(max_length=8)


class AppCodeApi(APIView):
    """Send a login code by SMS (rate-limited per number and address)."""

    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]
    throttle_classes = [CitizenThrottle]

    @extend_schema(request=CodeInput, responses={200: None})
    def post(self, request: Request) -> Response:
        data = CodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        phone = citizen_auth.code_send(phone=data.validated_data["phone"], client_ip=client_ip(request))
        return Response({"sent": True, "phone": mask_phone(phone), "ttl_seconds": settings.VERIFY_CODE_TTL_SECONDS})


class AppLoginApi(APIView):
    """Phone + SMS code → a bearer token (shown once)."""

    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]
    throttle_classes = [CitizenThrottle]

    @extend_schema(request=LoginInput, responses={200: None})
    def post(self, request: Request) -> Response:
        data = LoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        phone = citizen_auth.code_verify(phone=data.validated_data["phone"], code=data.validated_data["code"])
        key, session = citizen_auth.session_create(phone=phone)
        return Response({"token": key, "expires_at": session.expires_at.isoformat(), "phone": mask_phone(phone)})


# --- tickets -------------------------------------------------------------------------------------

CITIZEN_KINDS = [(k, label) for k, label in Kind.choices]


class SubmitInput(StrictSerializer):
    kind = serializers.ChoiceField(choices=CITIZEN_KINDS, default=Kind.HELP)
    title = TextField(max_length=settings.TICKET_TITLE_MAX, required=False, allow_blank=True, default="")
    text = TextField(max_length=settings.TICKET_TEXT_MAX, min_length=5)
    citizen_name = TextField(max_length=settings.TICKET_NAME_MAX, required=False, allow_blank=True, default="")
    citizen_address = TextField(max_length=settings.TICKET_ADDRESS_MAX, required=False, allow_blank=True, default="")
    confidential = serializers.BooleanField(default=False)
    anonymous = serializers.BooleanField(default=False)


def ticket_summary(ticket: Ticket) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "kind": ticket.kind,
        "kind_label": ticket.get_kind_display(),
        "title": ticket.title,
        "state": ticket.state,
        "state_label": ticket.get_state_display(),
        "created_at": ticket.created_at.isoformat(),
    }


def ticket_detail(ticket: Ticket) -> dict[str, Any]:
    return {
        **ticket_summary(ticket),
        "text": ticket.text,
        "citizen_address": ticket.citizen_address,
        "lead_unit": ticket.lead_unit.name if ticket.lead_unit else None,
        "reply": public_reply(ticket),
        "history": [{"at": e["at"].isoformat(), "text": e["text"]} for e in public_history(ticket)],
        "can_rate": rating.can_rate(ticket),
        "can_supplement": ticket.state not in ENDED_TICKET_STATES,
        "ratings": [
            {"round": r.round, "satisfaction": r.satisfaction, "label": r.get_satisfaction_display()}
            for r in Rating.objects.filter(ticket=ticket).order_by("round")
        ],
    }


class NumberPagination(StrictCursorPagination):
    ordering = "-id"
    page_size = 20


class AppTicketListCreateApi(CitizenView):
    """GET: my tickets, newest first. POST: submit one; `Idempotency-Key` makes a retry safe."""

    @extend_schema(operation_id="app_tickets_list", responses={200: None})
    def get(self, request: Request) -> Response:
        paginator = NumberPagination()
        page = paginator.paginate_queryset(self.my_tickets(request), request, view=self)
        return paginator.get_paginated_response([ticket_summary(t) for t in page or []])

    @extend_schema(request=SubmitInput, responses={201: None})
    def post(self, request: Request) -> Response:
        data = SubmitInput(data=request.data)
        data.is_valid(raise_exception=True)
        phone = self.citizen(request).phone
        ip = client_ip(request)

        def submit() -> tuple[int, dict[str, Any]]:
            ticket = intake.ticket_create(
                actor=Actor.citizen(),
                channel=Channel.APP,
                citizen_phone=phone,
                client_ip=ip,
                raw={"app": dict(request.data)},
                **data.validated_data,
            )
            return status.HTTP_201_CREATED, ticket_detail(ticket)

        key = request.headers.get("Idempotency-Key")
        if key is None:
            code, body = submit()
            return Response(body, status=code)
        code, body, replayed = idempotency.run_once(scope=phone, key=key, payload=request.data, run=submit)
        return Response(body, status=code, headers={"Idempotent-Replayed": "true"} if replayed else None)


class AppTicketDetailApi(CitizenView):
    @extend_schema(responses={200: None})
    def get(self, request: Request, number: str) -> Response:
        return Response(ticket_detail(self.my_ticket(request, number)))


class RateInput(StrictSerializer):
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices)
    solved = serializers.BooleanField(required=False, allow_null=True, default=None)
    contacted = serializers.BooleanField(required=False, allow_null=True, default=None)
    comment = TextField(max_length=settings.REASON_MAX, required=False, allow_blank=True, default="")


class AppRateApi(CitizenView):
    """评价: 满意 / 基本满意 / 不满意 for the current round; the ticket is then closed."""

    @extend_schema(request=RateInput, responses={200: None})
    def post(self, request: Request, number: str) -> Response:
        data = RateInput(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = self.my_ticket(request, number)
        rating.rating_record(ticket=ticket, actor=Actor.citizen(), channel="app", **data.validated_data)
        ticket.refresh_from_db()
        return Response(ticket_detail(ticket))


class SupplementInput(StrictSerializer):
    text = TextField(max_length=settings.SUPPLEMENT_MAX, min_length=2)


class AppSupplementApi(CitizenView):
    """市民补充: add to my open matter; the words join its text, marked with the time (409 once it ended)."""

    @extend_schema(request=SupplementInput, responses={200: None})
    def post(self, request: Request, number: str) -> Response:
        data = SupplementInput(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = self.my_ticket(request, number)
        ticket = intake.ticket_supplement(ticket=ticket, text=data.validated_data["text"], channel=Channel.APP)
        return Response(ticket_detail(ticket))
