"""Background jobs: the one place that knows SIPADU runs its jobs on Huey.

Apps declare jobs with :func:`job` and periodic jobs with :func:`periodic`, and schedule
them after commit with :func:`enqueue_on_commit`, so a rolled-back transaction never leaves a
job behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

__all__ = ["HUEY", "crontab", "enqueue_on_commit", "job", "periodic"]


def job(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Declare a background job (closes DB connections like a request does)."""
    return db_task(**options)


def periodic(schedule: Any, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Declare a periodic job; ``schedule`` is a :func:`crontab`."""
    return db_periodic_task(schedule, **options)


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Schedule ``task(*args, **kwargs)`` once the current transaction commits."""
    transaction.on_commit(lambda: task(*args, **kwargs))
