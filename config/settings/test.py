"""pytest: fast hashing, in-memory mail, private files in a temporary folder."""

import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# pytest-xdist runs one pytest process per core (gw0, gw1, ...). Each takes its own Redis
# database, counting down from the one REDIS_URL names, so one worker's FLUSHDB never
# empties another's queue. Only the pytest process itself: the Celery workers a test starts
# get the already chosen URL from it.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _WORKER.startswith("gw") and "pytest" in sys.modules and os.environ.get("REDIS_URL"):
    _url = urlsplit(os.environ["REDIS_URL"])
    _db = (int(_url.path.strip("/") or 0) - int(_WORKER[2:])) % 16
    os.environ["REDIS_URL"] = urlunsplit(_url._replace(path=f"/{_db}"))

from .base import *  # noqa: F403, E402
from .base import INSTALLED_APPS, STORAGES, env  # noqa: E402

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
_TMP = tempfile.mkdtemp(prefix="voucher-portal-test-")
MEDIA_ROOT = Path(_TMP) / "media"
STATIC_ROOT = Path(_TMP) / "static"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
if STORAGES["default"]["BACKEND"].endswith("FileSystemStorage"):
    STORAGES["default"]["OPTIONS"]["location"] = _TMP + "/private"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=0)

# The benchmark app (its `seed_bench` command) exists only where benchmarks run.
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
