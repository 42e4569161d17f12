"""Shared pytest set-up. Fixtures that start real components live in their own modules."""

from __future__ import annotations

import os

# Tests never read the operator's secrets directory by accident.
os.environ.pop("NMS_SECRETS_DIR", None)
os.environ.pop("CREDENTIALS_DIRECTORY", None)

from tests.lab_fixtures import lab_agents, lab_district, lab_run_dir  # noqa: F401
