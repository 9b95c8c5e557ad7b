"""Staff credentials: API tokens and the sessions of page logins, both revocable per user."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils import timezone

from tickets.accounts.sessions import SessionStore


class ApiToken(models.Model):
    """One staff login through POST /api/auth/token/. Each login gets its own key, so an
    operator's desk client and a partner system's several workers do not log each other out;
    only the key's SHA-256 is stored (a leaked table grants nothing).

    Valid while the user is active, younger than API_TOKEN_TTL and issued under the user's
    current password (`credential_hash`): a password changed by any path, even a raw UPDATE,
    voids it at the next request.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="令牌的前几个字符，用于区分不同令牌")
    credential_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "接口访问令牌"
        verbose_name_plural = "接口访问令牌"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"


class StaffSession(AbstractBaseSession):
    """Django's database session with the signed-in user's id beside it (tickets/accounts/sessions.py
    fills it on every save), so all sessions of one user can be found and deleted."""

    user_id = models.BigIntegerField(null=True, db_index=True)

    class Meta:
        verbose_name = "登录会话"
        verbose_name_plural = "登录会话"

    @classmethod
    def get_session_store_class(cls) -> type:
        return SessionStore


class LoginLockout(AccessAttempt):
    """django-axes' failure counts, shown in the admin in Chinese; deleting a row unlocks."""

    class Meta:
        proxy = True
        verbose_name = "登录失败记录"
        verbose_name_plural = "登录失败记录（账号锁定）"
