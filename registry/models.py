"""Registry domain: who owns what, what exists, and what may change."""

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from modelkit.formats import UNSAFE_FORMATS as _KIT_UNSAFE

NAME_VALIDATOR = RegexValidator(
    r"^[a-z0-9][a-z0-9._-]{0,99}$",
    "Use 1-100 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit.",
)
ALIAS_VALIDATOR = RegexValidator(
    r"^[a-z][a-z0-9_-]{0,49}$",
    "Use 1-50 lowercase letters, digits, '_' or '-', starting with a letter.",
)


class Role(models.TextChoices):
    VIEWER = "viewer"
    PREDICTOR = "predictor"
    MAINTAINER = "maintainer"
    OWNER = "owner"

    @classmethod
    def rank(cls, role: str) -> int:
        try:  # a dict, not Role(role) and a list per call: every prediction checks a role twice
            return _RANKS[role]
        except KeyError:
            raise ValueError(f"{role!r} is not a valid Role") from None


_RANKS = {role.value: rank for rank, role in enumerate([Role.VIEWER, Role.PREDICTOR, Role.MAINTAINER, Role.OWNER])}


class Team(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    # Bytes of uploaded artifacts the team may keep; None: MODELYARD_TEAM_STORAGE_QUOTA_BYTES applies.
    storage_quota_bytes = models.PositiveBigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="uniq_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} as {self.role}"


def default_protected_aliases() -> list[str]:
    """New models protect production: moving it takes an approved promotion request (four eyes)."""
    return ["production"]


class RegisteredModel(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="models")
    name = models.CharField(max_length=100, unique=True, validators=[NAME_VALIDATOR])
    description = models.TextField(blank=True, default="")
    tags = models.JSONField(default=dict, blank=True)
    # Aliases that move only through an approved promotion request (registry/services/promotions.py).
    protected_aliases = models.JSONField(default=default_protected_aliases, blank=True)
    # Opt-in: identical inputs to one version are answered from Redis for this many seconds (0 = off).
    response_cache_seconds = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ModelFormat(models.TextChoices):
    ONNX = "onnx"
    SKOPS = "skops"
    PICKLE = "pickle"
    JOBLIB = "joblib"
    XGBOOST = "xgboost"
    LIGHTGBM = "lightgbm"
    TORCHSCRIPT = "torchscript"
    SAVEDMODEL = "savedmodel"
    PT2 = "pt2"  # torch.export.save archive: unsafe (see modelkit.formats)


UNSAFE_FORMATS = _KIT_UNSAFE  # one list, the kit's


class VersionStatus(models.TextChoices):
    PENDING = "pending"
    VALIDATING = "validating"
    READY = "ready"
    FAILED = "failed"
    ARCHIVED = "archived"
    # A tombstone: the number is never reused and the history stays; the files go after the retention.
    DELETED = "deleted"


class ModelVersion(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    format = models.CharField(max_length=20, choices=ModelFormat.choices)
    storage_key = models.CharField(max_length=300, unique=True)
    original_filename = models.CharField(max_length=255, blank=True, default="")
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    signature = models.JSONField(default=dict, blank=True)
    input_example = models.JSONField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    params = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    lineage = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True, default="")
    status = models.CharField(max_length=20, choices=VersionStatus.choices, default=VersionStatus.PENDING)
    status_message = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    # Deliveries of the validation task; a model that kills the worker each time stops after a few.
    validation_attempts = models.PositiveSmallIntegerField(default=0)
    # The validation lease: which worker holds the version, since when, and its last sign of life.
    # Live while the heartbeat is recent (MODELYARD_VALIDATION_LEASE_SECONDS); see services/validation.py.
    validation_lease_owner = models.CharField(max_length=200, blank=True, default="")
    validation_started_at = models.DateTimeField(null=True, blank=True)
    validation_heartbeat_at = models.DateTimeField(null=True, blank=True)
    # What actually answers predictions: the original, or an ONNX conversion proven equivalent at
    # validation. The original artifact stays the source of truth; the conversion is derived.
    serving_format = models.CharField(max_length=20, blank=True, default="")
    serving_storage_key = models.CharField(max_length=300, blank=True, default="")
    serving_sha256 = models.CharField(max_length=64, blank=True, default="")
    serving_note = models.TextField(blank=True, default="")
    # The client's Idempotency-Key: a retried upload answers with the version the first one made.
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Set once the retention passed and the artifact files were removed from storage.
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["model", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="uniq_model_version"),
            models.UniqueConstraint(fields=["model", "idempotency_key"], name="uniq_model_idempotency_key",
                                    condition=models.Q(idempotency_key__isnull=False)),
        ]
        permissions = [("publish_pickle", "May upload pickle/joblib artifacts (trusted publisher)")]

    def __str__(self) -> str:
        return f"{self.model.name} v{self.version}"


class TrafficMode(models.TextChoices):
    SPLIT = "split"  # the candidate answers ``candidate_weight`` percent of callers
    SHADOW = "shadow"  # the candidate gets a copy of every request and never answers


class ModelAlias(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=50, validators=[ALIAS_VALIDATOR])
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="aliases")
    # Where the alias pointed before its last move: traffic falls back here if the current
    # version becomes unservable (its artifact changed on disk).
    previous_version = models.ForeignKey(ModelVersion, on_delete=models.SET_NULL, null=True, blank=True,
                                         related_name="+")
    # The traffic split of a rollout (registry/services/traffic.py): a share of callers, or a shadow copy of
    # every request, goes to the candidate. No candidate: the alias answers from ``version`` alone.
    # Not editable: only the traffic services change them (never a console form).
    candidate_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="+", editable=False)
    candidate_weight = models.PositiveSmallIntegerField(default=0, editable=False)
    traffic_mode = models.CharField(max_length=10, choices=TrafficMode.choices, default=TrafficMode.SPLIT,
                                    editable=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model", "name"]
        constraints = [models.UniqueConstraint(fields=["model", "name"], name="uniq_model_alias")]

    def __str__(self) -> str:
        return f"{self.model.name}@{self.name}"


class AuditEvent(models.Model):
    """Append-only: written by services in the same transaction as the change it records."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=60, db_index=True)
    target = models.CharField(max_length=200)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.target}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValueError("Audit events are append-only")


class TokenState(models.Model):
    """Per-user token generation: bumping it invalidates every access and refresh token the user holds.

    Tokens carry a fingerprint of (password hash, generation); see ``registry.tokens``.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="token_state")
    generation = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)


class PromotionStatus(models.TextChoices):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    STALE = "stale"  # the alias moved while the request was open: the review no longer describes the change


class PromotionPurpose(models.TextChoices):
    MOVE = "move"  # the approval moves the alias, in its own transaction
    ROLLOUT = "rollout"  # the approval lets one rollout start (it consumes it); the rollout moves the alias


class PromotionRequest(models.Model):
    """A request to point a model's alias at a version, decided by a second person (four eyes).

    ``base_version`` and ``base_moved_at`` record where the alias stood when the request was made (its
    version and last move time, both null if it did not exist): a request whose alias has moved since
    describes a change that is no longer the one it would make, and can only become stale.
    At most one request per alias is open at a time (a partial unique constraint backs the service).
    """

    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="promotion_requests")
    alias = models.CharField(max_length=50, validators=[ALIAS_VALIDATOR])
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="promotion_requests")
    purpose = models.CharField(max_length=20, choices=PromotionPurpose.choices, default=PromotionPurpose.MOVE)
    base_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    base_moved_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=PromotionStatus.choices, default=PromotionStatus.OPEN)
    reason = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True, default="")
    # Purpose "rollout" only: when a rollout took this approval, and which (e.g. "rollout:42"). One use each.
    consumed_at = models.DateTimeField(null=True, blank=True)
    consumed_by = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["model", "alias"], condition=models.Q(status="open"),
                                               name="uniq_open_promotion_per_alias")]
        indexes = [models.Index(fields=["model", "alias", "status"], name="promotion_alias_status")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.model.name}@{self.alias} -> v{self.version.version}"


TOKEN_NAME_VALIDATOR = RegexValidator(
    r"^[a-z0-9][a-z0-9._-]{0,49}$",
    "Use 1-50 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit.",
)


class ServiceToken(models.Model):
    """A team's API token for automation (CI): a service account with one membership, and a long-lived JWT.

    The account is a user of its own (no password, member of this team only, with ``role``), so every
    route authorizes it exactly as a member; the token is an access JWT for that account whose id
    (``jti``) is all that is stored. Revoking deactivates the account. See registry/services/service_tokens.py.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="service_tokens")
    account = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_token")
    name = models.CharField(max_length=50, validators=[TOKEN_NAME_VALIDATOR])
    role = models.CharField(max_length=20, choices=Role.choices)
    jti = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], condition=models.Q(revoked_at__isnull=True),
                                               name="uniq_live_service_token_name")]

    def __str__(self) -> str:
        return f"{self.team.slug}/{self.name} ({self.role})"
