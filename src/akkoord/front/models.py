from django.db import models

# How often a worker writes its heartbeat; /healthz allows a few missed beats.
HEARTBEAT_SECONDS = 10.0


class WorkerHeartbeat(models.Model):
    """Written by each task worker every few seconds; read by /healthz and the dashboard."""

    worker_id = models.CharField(max_length=100, unique=True)
    seen_at = models.DateTimeField()
