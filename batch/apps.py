from django.apps import AppConfig


class BatchConfig(AppConfig):
    name = "batch"
    verbose_name = "Batch jobs"

    def ready(self) -> None:
        from batch.selectors import version_batch_uses
        from registry.services.usage import version_use_register

        # A version a queued or running job will read must not be archived or deleted under it.
        version_use_register(version_batch_uses)
