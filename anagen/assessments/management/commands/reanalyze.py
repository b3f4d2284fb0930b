"""``anagen reanalyze``: analyse every analysed image again with the installed engine version.

The images are fanned out over the job queue: ``--workers N`` starts N worker processes on
this machine for the run (all its cores with N = their number); ``--workers 0`` only queues,
for workers already running here or on other machines (``ANAGEN_TASKS_URL=redis://...``).
Each old result is kept in the analysis's ``previous`` with its engine version. Run it again
after an interruption: images already analysed with this engine version are skipped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from anagen.assessments.models import AnalysisStatus, TrichogramAnalysis
from anagen.assessments.services import reanalysis_candidates, trichogram_analysis_reanalyse


class Command(BaseCommand):
    help = ("Re-analyse every analysed phototrichogram with the installed engine version, over the job "
            "queue; resumable, old results kept.")

    def add_arguments(self, parser):
        parser.add_argument("--clinic", metavar="CODE", help="only this clinic (its short code, e.g. birmingham)")
        parser.add_argument("--study", type=int, metavar="ID", help="only the patients enrolled in this study")
        parser.add_argument("--engine-version", metavar="VERSION",
                            help="only results made by this (older) engine version")
        parser.add_argument("--workers", type=int, default=1,
                            help="worker processes to start here for the run (default 1; 0: use running workers)")
        parser.add_argument("--no-wait", action="store_true", help="queue the images and return at once")
        parser.add_argument("--timeout", type=float, default=0,
                            help="give up waiting after this many seconds (default: wait for the end)")

    def handle(self, *args, **opts):
        from anagen.accounts.models import Clinic
        from anagen.trichoscopy import ENGINE_VERSION

        if not 0 <= opts["workers"] <= 64:
            raise CommandError("--workers must be between 0 and 64.")
        if opts["clinic"] and not Clinic.objects.filter(slug=opts["clinic"]).exists():
            codes = ", ".join(Clinic.objects.values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"No clinic with code {opts['clinic']!r} (codes: {codes}).")
        if opts["study"]:
            from anagen.studies.models import Study

            if not Study.objects.filter(pk=opts["study"]).exists():
                raise CommandError(f"No study with id {opts['study']}.")
        if opts["engine_version"] == ENGINE_VERSION:
            raise CommandError(f"{ENGINE_VERSION} is the installed engine version: its results need no re-analysis.")
        scope = reanalysis_candidates(clinic_slug=opts["clinic"], study_id=opts["study"],
                                      engine_version=opts["engine_version"])
        current = scope.filter(status=AnalysisStatus.DONE, engine_version=ENGINE_VERSION).count()
        todo = list(scope.filter(status=AnalysisStatus.DONE).exclude(engine_version=ENGINE_VERSION)
                    .order_by("pk").values_list("pk", flat=True))
        # Images an interrupted run queued are still on the queue: wait for them too.
        pending = list(scope.filter(status__in=[AnalysisStatus.QUEUED, AnalysisStatus.RUNNING])
                       .values_list("pk", flat=True))
        self.stdout.write(f"Engine {ENGINE_VERSION}: {len(todo)} image(s) to re-analyse, {len(pending)} already "
                          f"queued, {current} already analysed with this version (skipped).")
        workers = self._start_workers(opts["workers"]) if (todo or pending) and not opts["no_wait"] else None
        try:
            started = time.monotonic()
            queued = sum(trichogram_analysis_reanalyse(analysis_id=pk, engine_version=ENGINE_VERSION)
                         for pk in todo)
            if opts["no_wait"]:
                self.stdout.write(f"{queued} image(s) queued; `anagen jobs` shows how far the workers have got.")
                return
            watched = todo + pending
            finished = self._wait(watched, started, opts["timeout"])
        finally:
            self._stop_workers(workers)
        elapsed = time.monotonic() - started
        rows = TrichogramAnalysis.objects.filter(pk__in=watched)
        done = rows.filter(status=AnalysisStatus.DONE, engine_version=ENGINE_VERSION).count()
        failed = rows.filter(status=AnalysisStatus.FAILED)
        rate = done / elapsed if elapsed > 0 else 0.0
        self.stdout.write(f"Re-analysed {done} image(s) with engine {ENGINE_VERSION} in {elapsed:.1f} s "
                          f"({rate:.2f} images/s), {failed.count()} failed, {current} skipped"
                          f"{'' if finished else ', the rest still queued (run the command again to follow them)'}.")
        for analysis in failed[:10]:
            self.stdout.write(f"  analysis {analysis.pk} (image {analysis.image_id}): {analysis.error[:160]}")
        if failed.exists():
            self.stdout.write("The earlier result of each image is kept in its history; `anagen reanalyze` again "
                              "retries only what is not yet at this engine version.")

    def _wait(self, watched: list[int], started: float, timeout: float) -> bool:
        from tqdm import tqdm

        total = len(watched)
        with tqdm(total=total, unit="image", file=self.stdout, disable=total == 0, dynamic_ncols=True,
                  mininterval=0.5) as bar:
            while True:
                finished = TrichogramAnalysis.objects.filter(
                    pk__in=watched, status__in=[AnalysisStatus.DONE, AnalysisStatus.FAILED]).count()
                bar.update(finished - bar.n)
                if finished >= total:
                    return True
                if timeout and time.monotonic() - started > timeout:
                    return False
                time.sleep(0.5)

    def _start_workers(self, n: int):
        if n == 0:
            return None
        from anagen.jobs.services import _eager

        if _eager():
            return None  # the jobs run inline, as they are queued
        connections.close_all()
        return subprocess.Popen([sys.executable, "-m", "anagen.cli", "worker", "--workers", str(n), "--no-periodic"],
                                env=os.environ.copy(), stdout=subprocess.DEVNULL)

    def _stop_workers(self, proc) -> None:
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)  # graceful: the job in hand finishes
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(10)
