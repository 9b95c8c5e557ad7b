from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    verbose_name = "实时推送"

    def ready(self) -> None:
        # Celery discovers tasks lazily (in a worker); the embedded scheduler looks tasks up
        # by name in the web process, so register ours when Django starts.
        from channels_app import tasks  # noqa: F401
