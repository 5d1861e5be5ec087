"""Rollouts: a candidate version taking over an alias step by step, judged by metrics, every decision recorded."""

from django.conf import settings
from django.db import models

from registry.models import ModelVersion, RegisteredModel


class Strategy(models.TextChoices):
    CANARY = "canary"  # weights in steps, one step per step_seconds while the guards hold
    BLUE_GREEN = "blue_green"  # all traffic at once once warmed everywhere, then a bake period
    SHADOW = "shadow"  # a copy of every request, compared with stable's answers; never answers callers


class Status(models.TextChoices):
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"


ACTIVE = (Status.RUNNING, Status.PAUSED)


class Rollout(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="rollouts")
    alias = models.CharField(max_length=50)
    stable = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    candidate = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    strategy = models.CharField(max_length=20, choices=Strategy.choices)
    steps = models.JSONField(default=list, blank=True)  # canary weights, increasing, ending at 100
    step_seconds = models.PositiveIntegerField()
    guards = models.JSONField(default=dict, blank=True)
    allow_breaking = models.BooleanField(default=False)
    reason = models.TextField(blank=True, default="")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING, db_index=True)
    step = models.PositiveSmallIntegerField(default=0)  # index into steps (canary)
    weight = models.PositiveSmallIntegerField(default=0)  # what the alias's split says now
    # When the current step's traffic began; null while waiting for every web worker to load the candidate.
    step_started_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The last line of defence behind the service's lock: one active rollout per alias.
            models.UniqueConstraint(fields=["model", "alias"], condition=models.Q(status__in=ACTIVE),
                                    name="one_active_rollout_per_alias"),
        ]

    def __str__(self) -> str:
        return f"{self.model.name}@{self.alias} -> v{self.candidate.version} ({self.strategy}, {self.status})"


class EventKind(models.TextChoices):
    STARTED = "started"
    WAITING = "waiting"  # the candidate is not loaded by every live web worker yet
    ADVANCED = "advanced"  # a weight applied (first step, next step, the blue-green switch, shadow on)
    HELD = "held"  # guards hold but the window is too thin, or a worker lacks the candidate
    COMPLETED = "completed"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"
    PAUSED = "paused"
    RESUMED = "resumed"


class RolloutEvent(models.Model):
    """Append-only: one per decision, with the evidence it was taken on."""

    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    step = models.PositiveSmallIntegerField(default=0)
    weight_before = models.PositiveSmallIntegerField(default=0)
    weight_after = models.PositiveSmallIntegerField(default=0)
    rule = models.CharField(max_length=60, blank=True, default="")  # the rule that fired
    message = models.TextField(blank=True, default="")
    evidence = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.kind} {self.rule}"


class VersionMetricMinute(models.Model):
    """One version's requests, errors, latency histogram and shadow agreement over one minute (all processes)."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    requests = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    latency_buckets = models.JSONField(default=dict, blank=True)  # bucket index -> count (core.windows.BUCKETS_MS)
    p95_ms = models.FloatField(null=True, blank=True)
    shadow_rows = models.PositiveIntegerField(default=0)
    shadow_agreed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["version", "minute"]
        constraints = [models.UniqueConstraint(fields=["version", "minute"], name="uniq_version_minute")]
