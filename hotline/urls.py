"""URL map: the API under /api/, Twilio webhooks, Open311, pages, admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from hotline.health import healthz, readyz
from tickets.accounts.apis import LogoutApi, TokenLoginApi

urlpatterns = [
    path("healthz", healthz, name="healthz"),  # probes: docs/operations.md
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/auth/token/", TokenLoginApi.as_view(), name="api-token"),
    path("api/auth/logout/", LogoutApi.as_view(), name="api-logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # the split view serves its start-up script as a file: no inline script for the CSP to refuse
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/", include("channels_app.urls")),  # live feed catch-up: /api/events/
    path("api/", include("tickets.urls")),
    path("webhooks/twilio/callcentre/", include("tickets.callcentre.urls")),
    path("webhooks/", include("tickets.intake.webhooks.urls")),
    path("open311/", include("tickets.intake.open311.urls")),
    path("", include("tickets.pages.urls")),
]

# Unmatched URLs under /api/ (e.g. /api/tickets/abc/) answer in the API's JSON error shape.
handler400 = "hotline.errors.bad_request"  # e.g. more files than DATA_UPLOAD_MAX_NUMBER_FILES
handler403 = "hotline.errors.permission_denied"
handler404 = "hotline.errors.not_found"
handler500 = "hotline.errors.server_error"  # 503 for a database outage, JSON under /api/
