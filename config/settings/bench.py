"""`make bench` only: production-like (DEBUG off, persistent connections) against the
benchmark databases, plus the bench-only constant endpoint (`bench/urls.py`), which no
other settings module mounts. `BENCH_SMALL_DATABASE` names the 1,000-voucher database the
scaling ratios compare with, as a second alias."""

import tempfile

from .base import *  # noqa: F403
from .base import DATABASES, INSTALLED_APPS, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default="bench-only-secret-key-not-for-production")
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "bench.urls"
DATABASES["default"]["CONN_MAX_AGE"] = None
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
if env("BENCH_SMALL_DATABASE", default=""):
    DATABASES["small"] = {**DATABASES["default"], "NAME": env("BENCH_SMALL_DATABASE")}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = False
# Mail handed to the workers after commit goes to a throw-away filesystem queue: the
# benchmark measures writing the outbox, not delivering it.
CELERY_BROKER_URL = "filesystem://"
_QUEUE = env("CELERY_BROKER_DIR", default=tempfile.mkdtemp(prefix="bench-broker-"))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "data_folder_in": _QUEUE,
    "data_folder_out": _QUEUE,
    "processed_folder": _QUEUE,
    "control_folder": _QUEUE,
    "store_processed": False,
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": tempfile.mkdtemp(prefix="bench-private-")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The benchmark app (its `seed_bench` command) exists only where benchmarks run.
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
