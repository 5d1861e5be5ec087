"""Every change to a rollout goes through one of these functions; weights move through registry.services.traffic."""

from rollouts.services.manual import rollout_abort, rollout_pause, rollout_promote, rollout_resume, rollout_rollback
from rollouts.services.rollup import metrics_rollup
from rollouts.services.start import rollout_create
from rollouts.services.tick import rollout_tick, rollouts_tick

__all__ = ["metrics_rollup", "rollout_abort", "rollout_create", "rollout_pause", "rollout_promote",
           "rollout_resume", "rollout_rollback", "rollout_tick", "rollouts_tick"]
