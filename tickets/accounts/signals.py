"""Receivers that revoke credentials: thin adapters to tickets/accounts/services.py.

Connected in TicketsConfig.ready(). On the User model, not in a view, so every path that saves a
user (admin, `changepassword`, a shell, a future API) revokes.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete, post_save, pre_save

from tickets.accounts import services as accounts_services
from tickets.accounts.token_rows import token_rows_drop
from tickets.org.models import Unit, User

WATCHED = frozenset({"password", "is_active"})


def _remember_credentials(sender: Any, instance: User, update_fields: Any = None, **kwargs: Any) -> None:
    if instance.pk is None or (update_fields is not None and not WATCHED & set(update_fields)):
        instance._credentials_before = None  # type: ignore[attr-defined]  # a new user, or e.g. last_login
        return
    instance._credentials_before = (  # type: ignore[attr-defined]
        User.objects.filter(pk=instance.pk).values_list("password", "is_active").first()
    )


def _revoke_if_changed(sender: Any, instance: User, created: bool = False, **kwargs: Any) -> None:
    before = getattr(instance, "_credentials_before", None)
    instance._credentials_before = None  # type: ignore[attr-defined]
    if before is None:
        return
    password, was_active = before
    if password != instance.password:
        accounts_services.user_credentials_revoke(user_id=instance.pk, reason="password changed")
    elif was_active and not instance.is_active:
        accounts_services.user_credentials_revoke(user_id=instance.pk, reason="deactivated")


def _revoke_deleted(sender: Any, instance: User, **kwargs: Any) -> None:
    accounts_services.user_credentials_revoke(user_id=instance.pk, reason="deleted")


def _revoke_logged_out_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # Sent before Django flushes the session, so its key is still known here.
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if user is not None and key:
        accounts_services.session_revoked(user_id=user.pk, session_key=key)


def _token_rows_drop(sender: Any, **kwargs: Any) -> None:
    """A user or a unit saved in this process: the token rows it kept (a token's row carries its
    user and unit) are dropped now, before the database's notification reaches the listener."""
    token_rows_drop()


def connect() -> None:
    pre_save.connect(_remember_credentials, sender=User, dispatch_uid="tickets.auth.remember")
    post_save.connect(_revoke_if_changed, sender=User, dispatch_uid="tickets.auth.revoke")
    post_delete.connect(_revoke_deleted, sender=User, dispatch_uid="tickets.auth.deleted")
    user_logged_out.connect(_revoke_logged_out_session, dispatch_uid="tickets.auth.logout")
    for model in (User, Unit):
        post_save.connect(_token_rows_drop, sender=model, dispatch_uid=f"tickets.auth.rows.{model.__name__}.save")
        post_delete.connect(_token_rows_drop, sender=model, dispatch_uid=f"tickets.auth.rows.{model.__name__}.delete")
