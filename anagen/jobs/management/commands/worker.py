"""``anagen worker [--workers N]``: run queued jobs and the periodic work (a Huey consumer)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections


def close_database_connections() -> None:
    """Before forking workers: no process may share a connection (or a pool) with another."""
    for connection in connections.all(initialized_only=True):
        connection.close()
        close_pool = getattr(connection, "close_pool", None)
        if callable(close_pool):
            close_pool()


class Command(BaseCommand):
    help = ("Run the background jobs (image analyses, exports, re-analysis) and the periodic work "
            "(appointment reminders, recovery of jobs a stopped worker left behind).")

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=None,
                            help="worker processes (default ANAGEN_WORKER_PROCESSES, 1); with 2 or more each "
                                 "job runs in its own process, so CPU-heavy analyses use every core")
        parser.add_argument("--no-periodic", action="store_true",
                            help="do not run the periodic work here (another worker of the group runs it)")

    def handle(self, *args, **opts):
        from anagen.jobs.queue import huey
        from anagen.jobs.services import recover_stale

        workers = opts["workers"] if opts["workers"] is not None else settings.ANAGEN_WORKER_PROCESSES
        if not 1 <= workers <= 64:
            raise CommandError("--workers must be between 1 and 64.")
        if opts["verbosity"] < 2:
            logging.getLogger("huey").setLevel(logging.WARNING)
        # What a worker stopped before us left running goes back on the queue first.
        summary = recover_stale()
        close_database_connections()
        where = settings.ANAGEN_TASKS_URL.split("@")[-1] if settings.ANAGEN_TASKS_URL else huey.storage.filename
        self.stdout.write(f"Task worker: {workers} {'process' if workers > 1 else 'thread'}"
                          f"{'es' if workers > 1 else ''} on {where} ({summary}).")
        self.stdout.flush()
        consumer = huey.create_consumer(workers=workers, worker_type="process" if workers > 1 else "thread",
                                        periodic=not opts["no_periodic"], initial_delay=0.1, max_delay=1.0,
                                        backoff=1.15, check_worker_health=True)
        consumer.run()
