"""``anagen serve``: the production server on one machine, and what ``make run`` starts.

Gunicorn (``WEB_CONCURRENCY`` worker processes, each with ``ANAGEN_WEB_THREADS`` threads)
serves the pages and the API; ``anagen worker`` runs the background jobs and the periodic
work beside it. Ctrl-C (or SIGTERM) stops both cleanly; if one of them dies, the other is
stopped too and the command exits non-zero, so a supervisor (systemd) restarts the pair.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve Anagen with gunicorn and run the background-job worker beside it; Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("ANAGEN_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
        parser.add_argument("--web-processes", type=int, default=settings.WEB_CONCURRENCY,
                            help="gunicorn worker processes (default WEB_CONCURRENCY, 2)")
        parser.add_argument("--threads", type=int, default=settings.ANAGEN_WEB_THREADS,
                            help="threads per web process (default ANAGEN_WEB_THREADS, 4)")
        parser.add_argument("--task-workers", type=int, default=settings.ANAGEN_WORKER_PROCESSES,
                            help="background-job worker processes (default ANAGEN_WORKER_PROCESSES, 1); "
                                 "0 runs no worker here (another machine runs them)")

    def handle(self, *args, **opts):
        web, threads, task_workers = opts["web_processes"], opts["threads"], opts["task_workers"]
        if not 1 <= web <= 64 or not 1 <= threads <= 64:
            raise CommandError("--web-processes and --threads must be between 1 and 64.")
        if not 0 <= task_workers <= 64:
            raise CommandError("--task-workers must be between 0 and 64.")
        if not 1 <= opts["port"] <= 65535:
            raise CommandError("--port must be between 1 and 65535.")
        env = os.environ.copy()
        # The children size their database pools from these (settings.ANAGEN_DB_POOL_PER_PROCESS).
        env.update(WEB_CONCURRENCY=str(web), ANAGEN_WEB_THREADS=str(threads),
                   ANAGEN_WORKER_PROCESSES=str(max(task_workers, 1)))
        env.setdefault("DJANGO_SETTINGS_MODULE", "anagen.settings")
        bind = f"{opts['host']}:{opts['port']}"
        children = {"web": subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "anagen.wsgi:application", "--bind", bind, "--workers", str(web),
             "--threads", str(threads), "--worker-class", "gthread", "--log-level", "warning",
             "--graceful-timeout", "10", "--timeout", "120", "--max-requests", "5000",
             "--max-requests-jitter", "500"],
            env=env, start_new_session=True)}
        if task_workers:
            children["worker"] = subprocess.Popen(
                [sys.executable, "-m", "anagen.cli", "worker", "--workers", str(task_workers)],
                env=env, start_new_session=True)
        self.stdout.write(f"Anagen serving on http://{bind}/ ({web} web process{'es' if web > 1 else ''} x {threads} "
                          f"threads; {task_workers or 'no'} background worker{'s' if task_workers != 1 else ''}). "
                          "Ctrl-C stops.")
        self.stdout.flush()
        stopping = {"signal": None}

        def on_signal(signum, frame):
            stopping["signal"] = signum

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        exit_code = 0
        try:
            while stopping["signal"] is None:
                dead = [name for name, proc in children.items() if proc.poll() is not None]
                if dead:
                    self.stderr.write(f"The {' and '.join(dead)} process stopped (exit {children[dead[0]].returncode}); "
                                      "stopping the rest.")
                    exit_code = 1
                    break
                time.sleep(0.3)
        finally:
            self._stop(children)
            for s, handler in previous.items():
                signal.signal(s, handler)
        if stopping["signal"] is not None:
            self.stdout.write("Stopped.")
        if exit_code:
            sys.exit(exit_code)

    def _stop(self, children: dict) -> None:
        # gunicorn: TERM finishes the requests in hand; the worker: INT finishes the job in hand.
        for name, proc in children.items():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM if name == "web" else signal.SIGINT)
        deadline = time.monotonic() + 30
        for proc in children.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
