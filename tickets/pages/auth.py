"""Login (Django's auth views, Chinese template) and the role-aware home page."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from tickets.org.models import Role

login_view = auth_views.LoginView.as_view(
    template_name="tickets/login.html", redirect_authenticated_user=True, next_page="/"
)
logout_view = auth_views.LogoutView.as_view(next_page="/login/")

HOME_BY_ROLE: dict[str, str] = {
    Role.OPERATOR: "/console/",
    Role.DISPATCHER: "/console/",
    Role.UNIT_STAFF: "/unit/",
    Role.SUPERVISOR: "/board/",
}


def home_redirect(request: HttpRequest) -> HttpResponse | None:
    """Signed-in staff go straight to their workspace; None keeps the public home page."""
    user = request.user
    if not user.is_authenticated:
        return None
    target = HOME_BY_ROLE.get(str(getattr(user, "role", "")))
    return redirect(target) if target else None
