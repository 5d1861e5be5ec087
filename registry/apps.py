from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Model registry"

    def ready(self) -> None:
        # admin_users replaces the User admin; admin_tokens lists every team's service tokens for staff.
        from registry import admin_tokens, admin_users, signals  # noqa: F401
        from registry.api import openapi  # noqa: F401  (registers the schema extension)

        signals.connect()
