"""The Django project of the 12345 hotline: settings, URLs, ASGI and the Celery app."""

from hotline.celery import app as celery_app

__all__ = ["celery_app"]
