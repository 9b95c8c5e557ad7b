"""Live feed HTTP routes (mounted under /api/)."""

from django.urls import path

from channels_app.apis import LiveEventListApi

urlpatterns = [path("events/", LiveEventListApi.as_view(), name="live-events")]
