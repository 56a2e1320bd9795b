from django.apps import AppConfig


class ParleyConfig(AppConfig):
    name = "parley"
    label = "parley"
    verbose_name = "Parley chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from parley import checks  # noqa: F401  (registers the system checks)
