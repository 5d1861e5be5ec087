"""The deployment's loading rules for the model kit, read from settings in one place."""

from django.conf import settings

from modelkit import LoadPolicy


def load_policy() -> LoadPolicy:
    return LoadPolicy(allow_pickle=settings.MODELYARD_ALLOW_PICKLE,
                      skops_trusted_prefixes=tuple(settings.MODELYARD_SKOPS_TRUSTED_PREFIXES),
                      threads=settings.MODELYARD_MODEL_THREADS_PER_SESSION)
