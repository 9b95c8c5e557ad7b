from django.urls import path

from tickets.pages import views

urlpatterns = [
    path("", views.home, name="home"),
]
