from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "server.accounts"

    def ready(self) -> None:
        from server.accounts import schema  # noqa: F401  (OpenAPI scheme)
