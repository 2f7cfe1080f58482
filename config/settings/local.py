"""make run: SQLite, the filesystem broker and mail written to var/mail unless set."""

from .base import *  # noqa: F403
from .base import MIDDLEWARE, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
for _folder in ("mail", "broker/queue", "broker/processed", "broker/control", "private", "media"):
    (VAR_DIR / _folder).mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# DEBUG keeps tracebacks, but a 404 is the product's page: Django's would list every URL
# pattern to anyone opening another organisation's voucher (core.middleware).
MIDDLEWARE = [*MIDDLEWARE, "core.middleware.ProductNotFoundMiddleware"]
