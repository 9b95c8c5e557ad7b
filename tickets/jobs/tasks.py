"""Thin Celery task for the long operations started from the jobs page (tickets.jobs.services)."""

from __future__ import annotations

from celery import shared_task

from tickets.jobs import services as jobs


@shared_task(name="tickets.job_run", acks_late=True)
def job_run_task(job_id: int) -> str:
    return jobs.job_run(job_id).state
