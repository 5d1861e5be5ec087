"""Celery tasks: one service call each, imported inside the body (services may queue tasks without a circle)."""

from celery import shared_task


@shared_task(name="rollouts.tick", ignore_result=True)
def tick() -> list[str]:
    """Beat, every MODELYARD_ROLLOUT_TICK_SECONDS: decide every running rollout once."""
    from rollouts.services import rollouts_tick

    return rollouts_tick()


@shared_task(name="rollouts.metrics_rollup", ignore_result=True)
def metrics_rollup() -> int:
    """Beat, every minute: the shared metrics windows of the last minutes into PostgreSQL."""
    from rollouts.services import metrics_rollup as rollup

    return rollup()
