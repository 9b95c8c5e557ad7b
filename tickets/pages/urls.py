from django.urls import path

from tickets.pages import citizen, outbox, views

urlpatterns = [
    path("", views.home, name="home"),
    # --- intake: citizen pages (no login) and the staff SMS outbox ---
    path("citizen/", citizen.home, name="citizen-home"),
    path("citizen/verify/", citizen.verify, name="citizen-verify"),
    path("citizen/submit/", citizen.submit, name="citizen-submit"),
    path("citizen/submitted/", citizen.submitted, name="citizen-submitted"),
    path("citizen/status/", citizen.status, name="citizen-status"),
    path("citizen/rate/<str:token>/", citizen.rate, name="citizen-rate"),
    path("sms-outbox/", outbox.sms_outbox, name="sms-outbox"),
]
