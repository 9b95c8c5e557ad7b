"""Endpoints of the knowledge base (知识库): search, articles with versions, proposals."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.core import selectors
from tickets.core.actors import Actor
from tickets.core.apis.base import (
    STAFF_ROLES,
    ActionView,
    DayField,
    HasRole,
    ModelOutput,
    StrictSerializer,
    TextField,
    reason_field,
)
from tickets.core.apis.outputs import CategoryRef, UnitRef
from tickets.core.apis.tickets import DISPATCH_ROLES, TicketActionView
from tickets.core.models import Ticket
from tickets.core.services import workflow
from tickets.errors import InvalidInput, NotFound
from tickets.knowledge import selectors as knowledge_selectors
from tickets.knowledge.models import KbArticle, KbProposal
from tickets.knowledge.services import articles
from tickets.org.models import Category, Role, Unit


class TicketAnswerDirectlyApi(TicketActionView):
    summary = "直接答复（知识库答复后办结；投诉、举报须以 confirm_kind 确认）"
    roles = DISPATCH_ROLES

    class InputSerializer(StrictSerializer):
        answer = TextField(max_length=settings.REPLY_MAX)
        article_id = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
        confirm_kind = serializers.BooleanField(
            required=False,
            default=False,
            help_text="投诉、举报类工单必填 true：确认该件确需直接答复而不转办承办单位（记入历史）；"
            "未确认时答复被拒绝（400，rule direct_answer_needs_confirm）。其他类型忽略此字段。",
        )

    def perform(self, request: Request, actor: Actor, data: dict[str, Any], ticket_id: int) -> Ticket:
        if data.get("article_id"):  # 知识库答复: the article must be valid today, and its use is counted
            return articles.ticket_answer_from_article(ticket=self.ticket(request, ticket_id), actor=actor, **data)
        return workflow.ticket_answer_directly(ticket=self.ticket(request, ticket_id), actor=actor, **data)


REVIEW_ROLES = (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)


# --- 知识库 -------------------------------------------------------------------------------


class ArticleOutput(ModelOutput):
    category = CategoryRef(read_only=True, allow_null=True)
    owning_unit = UnitRef(read_only=True, allow_null=True)

    class Meta:
        model = KbArticle
        fields = [
            "id",
            "question",
            "answer",
            "keywords",
            "category",
            "owning_unit",
            "valid_from",
            "valid_until",
            "is_active",
            "version",
            "usage_count",
            "updated_at",
        ]


class SearchHitOutput(serializers.Serializer):  # type: ignore[type-arg]
    article = ArticleOutput()
    score = serializers.FloatField()


class KbSearchApi(APIView):
    """GET ?q=: valid articles for what the caller asks, best first (operators, while on the call)."""

    permission_classes = [HasRole]
    roles = STAFF_ROLES

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True, pattern=r"\S", description="问题（必填）"),
            OpenApiParameter("limit", int),
        ],
        responses={200: SearchHitOutput(many=True)},
    )
    def get(self, request: Request) -> Response:
        query = (request.query_params.get("q") or "").strip()[:200]
        if not query:
            raise InvalidInput("请输入要查询的问题", field="q", rule="required")
        try:
            limit = max(1, min(int(request.query_params.get("limit", 5)), 20))
        except ValueError:
            raise InvalidInput("limit 必须是整数", field="limit", rule="int") from None
        return Response(SearchHitOutput(articles.kb_search(query=query, limit=limit), many=True).data)


class ArticleInput(StrictSerializer):
    question = TextField(max_length=200)
    answer = TextField(max_length=settings.REPLY_MAX)
    keywords = TextField(max_length=200, required=False, allow_blank=True, default="")
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True, default=None
    )
    owning_unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), required=False, allow_null=True, default=None
    )
    valid_from = DayField(required=False, default=None)
    valid_until = DayField(required=False, allow_null=True, default=None)


class KbArticleListCreateApi(APIView):
    permission_classes = [HasRole]
    roles = STAFF_ROLES

    @extend_schema(responses={200: ArticleOutput(many=True)})
    def get(self, request: Request) -> Response:
        qs = knowledge_selectors.kb_articles_for(request.user).order_by("id")[:500]  # type: ignore[arg-type]
        return Response(ArticleOutput(qs, many=True).data)

    @extend_schema(request=ArticleInput, responses={201: ArticleOutput})
    def post(self, request: Request) -> Response:
        data = ArticleInput(data=request.data)
        data.is_valid(raise_exception=True)
        article = articles.kb_article_create(actor=_actor(request), **data.validated_data)
        return Response(ArticleOutput(article).data, status=201)


def _actor(request: Request) -> Any:
    return Actor.of(request.user)  # type: ignore[arg-type]


class ArticleChangeInput(StrictSerializer):
    question = TextField(max_length=200, required=False)
    answer = TextField(max_length=settings.REPLY_MAX, required=False)
    keywords = TextField(max_length=200, required=False, allow_blank=True)
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    owning_unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), required=False, allow_null=True)
    valid_from = DayField(required=False)
    valid_until = DayField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)
    expected_version = serializers.IntegerField(required=False, min_value=1)
    note = TextField(max_length=255, required=False, allow_blank=True, default="")


class VersionOutput(serializers.Serializer):  # type: ignore[type-arg]
    version = serializers.IntegerField()
    question = serializers.CharField()
    answer = serializers.CharField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True)
    is_active = serializers.BooleanField()
    edited_by = serializers.CharField(source="edited_by.username", allow_null=True, default=None)
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class ArticleDetailOutput(ArticleOutput):
    versions = VersionOutput(many=True)

    class Meta(ArticleOutput.Meta):
        fields = [*ArticleOutput.Meta.fields, "versions"]


class KbArticleDetailApi(APIView):
    permission_classes = [HasRole]
    roles = STAFF_ROLES

    def _article(self, request: Request, article_id: int) -> KbArticle:
        article = knowledge_selectors.kb_articles_for(request.user).filter(pk=article_id).first()  # type: ignore[arg-type]
        if article is None:
            raise NotFound("知识库条目不存在")
        return article

    @extend_schema(responses={200: ArticleDetailOutput})
    def get(self, request: Request, article_id: int) -> Response:
        article = self._article(request, article_id)
        return Response(ArticleDetailOutput(article).data)

    @extend_schema(request=ArticleChangeInput, responses={200: ArticleOutput})
    def patch(self, request: Request, article_id: int) -> Response:
        data = ArticleChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        expected, note = changes.pop("expected_version", None), changes.pop("note", "")
        article = articles.kb_article_update(
            article=self._article(request, article_id),
            actor=_actor(request),
            changes=changes,
            expected_version=expected,
            note=note,
        )
        return Response(ArticleOutput(article).data)


class ProposalOutput(ModelOutput):
    ticket = serializers.CharField(source="ticket.number")
    unit = UnitRef(read_only=True)
    proposed_by = serializers.CharField(source="proposed_by.username")
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)

    class Meta:
        model = KbProposal
        fields = [
            "id",
            "ticket",
            "article",
            "question",
            "answer",
            "keywords",
            "valid_until",
            "unit",
            "proposed_by",
            "state",
            "decided_by",
            "decided_at",
            "decision_reason",
            "resulting_version",
            "created_at",
        ]


class ProposalInput(StrictSerializer):
    ticket = serializers.IntegerField(min_value=1)
    article = serializers.PrimaryKeyRelatedField(
        queryset=KbArticle.objects.all(), required=False, allow_null=True, default=None
    )
    question = TextField(max_length=200)
    answer = TextField(max_length=settings.REPLY_MAX)
    keywords = TextField(max_length=200, required=False, allow_blank=True, default="")
    valid_until = DayField(required=False, allow_null=True, default=None)


class KbProposalListCreateApi(APIView):
    """GET: proposals (the centre sees all, a unit its own). POST: a unit proposes after answering a 咨询."""

    permission_classes = [HasRole]
    roles = STAFF_ROLES

    @extend_schema(responses={200: ProposalOutput(many=True)})
    def get(self, request: Request) -> Response:
        qs = knowledge_selectors.kb_proposals_for(request.user)  # type: ignore[arg-type]
        state = request.query_params.get("state")
        if state:
            qs = qs.filter(state=state)
        return Response(ProposalOutput(qs[:200], many=True).data)

    @extend_schema(request=ProposalInput, responses={201: ProposalOutput})
    def post(self, request: Request) -> Response:
        data = ProposalInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        ticket = selectors.ticket_get(request.user, values.pop("ticket"))  # type: ignore[arg-type]
        proposal = articles.kb_proposal_create(actor=_actor(request), ticket=ticket, **values)
        return Response(ProposalOutput(proposal).data, status=201)


class KbProposalDecideApi(ActionView):
    summary = "审核知识库建议：采纳或不采纳"
    roles = REVIEW_ROLES
    output = ProposalOutput

    class InputSerializer(StrictSerializer):
        approve = serializers.BooleanField()
        reason = reason_field()

    def perform(self, request: Request, actor: Any, data: dict[str, Any], proposal_id: int) -> KbProposal:
        proposal = KbProposal.objects.filter(pk=proposal_id).first()
        if proposal is None:
            raise NotFound("知识库建议不存在")
        return articles.kb_proposal_decide(
            proposal=proposal, actor=actor, approve=data["approve"], reason=data["reason"]
        )
