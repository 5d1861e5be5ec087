"""Re-seal every stored artifact under the active key (the first of MODELYARD_ARTIFACT_KEYS).

Rotation: put the new key first and keep the old ones after it (every process: web, workers, beat),
then run this. It queues the work on a worker and returns; ``--wait`` runs it here and prints counts.
Once it reports no file left under an old key, the old keys may be removed from the configuration.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.errors import ModelyardError
from registry.artifacts import artifact_keys


class Command(BaseCommand):
    help = "Re-encrypt stored artifacts with the active artifact key (in the background)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--wait", action="store_true", help="run here and now instead of on a worker")
        parser.add_argument("--new-key", action="store_true", help="print a fresh base64 key for the configuration")

    def handle(self, *args: Any, wait: bool, new_key: bool, **options: Any) -> None:
        if new_key:
            from registry.envelope import new_key as make

            self.stdout.write(make())
            return
        keys = artifact_keys()
        if not keys:
            raise CommandError("No artifact keys are configured: set MODELYARD_ARTIFACT_KEYS or "
                               "MODELYARD_ARTIFACT_KEYS_FILE (docs/deployment.md, 'Encryption at rest')")
        active = next(iter(keys))
        if wait:
            from registry.services.encryption import artifacts_reencrypt

            try:
                counts = artifacts_reencrypt()
            except ModelyardError as exc:
                raise CommandError(exc.message) from None
            self.stdout.write(f"key {active}: {counts['resealed']} re-sealed, {counts['current']} already current, "
                              f"{counts['tampered']} failed authentication, {counts['unknown_key']} under an "
                              "unknown key id (both left as they are), "
                              f"{counts['missing']} gone meanwhile")
            return
        from registry.tasks import artifacts_reencrypt as task

        result = task.delay()
        self.stdout.write(f"Queued re-encryption under key {active} (task {result.id}); a worker logs "
                          "'artifact key rotation to ...' with the counts when it is done.")
