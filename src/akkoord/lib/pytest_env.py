"""Loaded by pytest (``-p akkoord.lib.pytest_env``) before Django's settings are read.

Tests run tasks in-process unless a test starts real workers, and keep their
local state out of the developer's ./data directory.
"""

import os
import tempfile

os.environ.setdefault("AKKOORD_TASK_BACKEND", "immediate")
os.environ.setdefault("AKKOORD_DATA_DIR", os.path.join(tempfile.gettempdir(), "akkoord-test-data"))
os.environ.setdefault("AKKOORD_BASE_URL", "http://testserver")

# Whitenoise warns on every request handler set-up when STATIC_ROOT (collectstatic's
# target, under the data directory) is missing; tests serve assets from the apps.
os.makedirs(os.path.join(os.environ["AKKOORD_DATA_DIR"], "static"), exist_ok=True)
