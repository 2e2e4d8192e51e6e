"""Loaded by pytest (``-p akkoord.lib.pytest_env``) before Django's settings are read.

Tests run tasks in-process unless a test starts real workers, and keep their
local state out of the developer's ./data directory.
"""

import os
import tempfile

os.environ.setdefault("AKKOORD_TASK_BACKEND", "immediate")
os.environ.setdefault("AKKOORD_DATA_DIR", os.path.join(tempfile.gettempdir(), "akkoord-test-data"))
os.environ.setdefault("AKKOORD_BASE_URL", "http://testserver")
