"""Open311 GeoReport v2 routes (mounted under /open311/)."""

from django.urls import re_path

from tickets.intake.open311 import views

FMT = r"(?P<fmt>json|xml)"

urlpatterns = [
    re_path(rf"^discovery\.{FMT}$", views.discovery, name="open311-discovery"),
    re_path(rf"^v2/services\.{FMT}$", views.services, name="open311-services"),
    re_path(rf"^v2/requests\.{FMT}$", views.requests, name="open311-requests"),
    re_path(
        rf"^v2/requests/(?P<request_id>[0-9A-Za-z_-]{{1,32}})\.{FMT}$", views.request_detail, name="open311-request"
    ),
]
