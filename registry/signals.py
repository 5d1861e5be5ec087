from django.dispatch import Signal

# Sent after commit when an alias (or later a rollout) changes which version answers for a model.
routing_changed = Signal()
