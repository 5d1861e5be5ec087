from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Model registry"

    def ready(self) -> None:
        from registry import admin_users, signals  # noqa: F401  (admin_users replaces the User admin)
        from registry.api import openapi  # noqa: F401  (registers the schema extension)

        signals.connect()
