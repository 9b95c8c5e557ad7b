"""URL map: the API under /api/, Twilio webhooks, Open311, pages, admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/token/", obtain_auth_token, name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/", include("channels_app.urls")),  # live feed catch-up: /api/events/
    path("api/", include("tickets.urls")),
    path("webhooks/", include("tickets.webhooks.urls")),
    path("open311/", include("tickets.open311.urls")),
    path("", include("tickets.pages.urls")),
]

handler500 = "hotline.error_views.server_error"  # 503 for a database outage, JSON under /api/
