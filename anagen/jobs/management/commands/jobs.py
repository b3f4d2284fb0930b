"""``anagen jobs``: the latest background jobs, their state, progress and errors."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from anagen.jobs.models import Job, JobStatus


class Command(BaseCommand):
    help = "List the latest background jobs (status, progress, attempts, who asked, error)."

    def add_arguments(self, parser):
        parser.add_argument("--status", choices=JobStatus.values, help="only jobs in this state")
        parser.add_argument("--limit", type=int, default=30)

    def handle(self, *args, **opts):
        if opts["limit"] < 1:
            raise CommandError("--limit must be 1 or more.")
        jobs = Job.objects.select_related("actor")
        if opts["status"]:
            jobs = jobs.filter(status=opts["status"])
        counts = {s: Job.objects.filter(status=s).count() for s in JobStatus.values}
        self.stdout.write("  ".join(f"{s}: {n}" for s, n in counts.items()))
        for job in jobs[:opts["limit"]]:
            when = job.created_at.strftime("%Y-%m-%d %H:%M:%S")
            who = job.actor.email if job.actor else "-"
            self.stdout.write(f"{job.pk:>7} {when} {job.status:<8} {job.progress:>3}% "
                              f"try {job.attempts}/{job.max_attempts} {job.short_name} {job.args} by {who}")
            if job.error or job.result:
                self.stdout.write(f"        {(job.error or job.result).splitlines()[0][:160]}")
