from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Model registry"

    def ready(self) -> None:
        from registry import signals
        from registry.api import openapi  # noqa: F401  (registers the schema extension)

        signals.connect()
