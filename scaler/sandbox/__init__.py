"""Running untrusted programs: one runner (``runner.py``), several hosts (the backends)."""

from __future__ import annotations

from scaler.sandbox.jobs import STATUSES, Job, JobResult, Sandbox

__all__ = ["STATUSES", "Job", "JobResult", "Sandbox"]
