"""Human units for the console: sizes, durations, short hashes, JSON shown as text."""

import json
import re
from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    value = float(value)
    if value < 60:
        return f"{value:.0f} s"
    if value < 3600:
        return f"{value // 60:.0f} min {value % 60:.0f} s"
    return f"{value // 3600:.0f} h {(value % 3600) // 60:.0f} min"


@register.filter
def ago(value: datetime | None) -> str:
    if value is None:
        return "—"
    return "just now" if (timezone.now() - value).total_seconds() < 60 else f"{timesince(value).split(',')[0]} ago"


@register.filter
def short(value: str | None, length: int = 12) -> str:
    return (value or "")[:length]


# An array of plain numbers or strings stays on one line (an input row, a class list), objects are indented.
_FLAT_ARRAY = re.compile(r"\[\s+([^\[\]{}]*?)\s+\]", re.S)


@register.filter
def pretty(value: Any) -> str:
    text = json.dumps(value, indent=2, sort_keys=True, default=str)
    return _FLAT_ARRAY.sub(lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text)


@register.filter
def metric(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


@register.filter
def get(mapping: dict | None, key: Any) -> Any:
    return (mapping or {}).get(key)


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


@register.filter
def progress(job: Any) -> Any:
    """A batch job's progress from the sums its list query already carries (no query per row)."""
    from batch.selectors import job_progress

    return job_progress(job)
