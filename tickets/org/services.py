"""Writes of the org package: a staff member's saved list views (常用筛选)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from tickets.errors import InvalidInput, NotFound, TransitionNotAllowed
from tickets.org.models import SavedView, User

MAX_VIEWS_PER_USER = 30


def saved_view_create(*, user: User, name: str, query: str) -> SavedView:
    """保存常用筛选: a name of 1–40 characters, unique for this user; the query is the list's filter."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("请填写筛选名称", field="name", rule="required")
    if len(name) > 40:
        raise InvalidInput("筛选名称不能超过40个字", field="name", rule="max_length")
    if len(query) > 1000:
        raise InvalidInput("筛选条件太长", field="query", rule="max_length")
    if SavedView.objects.filter(user=user).count() >= MAX_VIEWS_PER_USER:
        raise TransitionNotAllowed("常用筛选最多保存30个，请先删除不用的", rule="saved_view_limit")
    try:
        with transaction.atomic():
            return SavedView.objects.create(user=user, name=name, query=query)
    except IntegrityError:
        raise TransitionNotAllowed("已有同名的常用筛选", rule="saved_view_name_taken") from None


def saved_view_delete(*, user: User, view_id: int) -> None:
    """Only the owner deletes a saved view; another user's id is "not found"."""
    deleted, _ = SavedView.objects.filter(user=user, pk=view_id).delete()
    if not deleted:
        raise NotFound("常用筛选不存在")
