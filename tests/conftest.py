"""Shared test set-up: tests always run against the embedded cluster."""

import os

os.environ.setdefault("COURSE_CLUSTER", "embedded")
