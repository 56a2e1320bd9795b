from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "server.accounts"

    def ready(self) -> None:
        from server.accounts import schema, signals  # noqa: F401  (deactivation hook, OpenAPI scheme)
