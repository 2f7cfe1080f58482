"""Settings shared by every environment; each value comes from the environment.

Every variable read here is documented in README.md ("Settings").
"""

import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab

from accounts.ttl import DEFAULT_TTL, parse_ttl

# pyHanko imports cryptography's DSA support, which cryptography deprecates on import; no
# signature the portal reads or makes uses DSA.
warnings.filterwarnings("ignore", message="DSA is deprecated", module="pyhanko")

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-key-change-me")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Links in mail and PDFs: `make run` serves on PORTAL_PORT, and so do its links, in the web
# process and in the worker that sends the mail, unless SITE_URL says otherwise.
SITE_URL = env("SITE_URL", default=f"http://127.0.0.1:{env.int('PORTAL_PORT', default=8000)}")

INSTALLED_APPS = [
    "core.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "django_countries",
    "axes",
    "core.apps.CoreConfig",
    "accounts",
    "programs",
    "customers",
    "partners",
    "nominations",
    "vouchers",
    "redemptions",
    "payments",
    "notifications",
    "reports",
    "imports",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.guard.InputGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.ApiNotFoundMiddleware",
    "core.middleware.KeptFormMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # make run: web, worker and beat share one SQLite file; WAL and immediate
    # transactions keep them from tripping over each other's locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Hot reads prepare their statement on the server (vouchers/detail_sql.py); turn off behind a
# PgBouncer in transaction mode, where a prepared statement does not follow the session.
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
if DATABASE_PREPARED_STATEMENTS and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Django's own cursors bind client-side and never prepare; this only lets psycopg
    # honour core.db's explicit prepare=True (a threshold of None disables preparing).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# django-axes locks an account on one address out after repeated failures, with a cool-off.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "core.ratelimit.axes_client_ip"  # behind proxies too
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=8 * 3600)
# API tokens (accounts.ApiToken): whole seconds or a duration (PT10H); more than 30 days is
# refused here, at start-up, rather than clamped (accounts/ttl.py).
API_TOKEN_TTL = parse_ttl(env("API_TOKEN_TTL", default=str(int(DEFAULT_TTL.total_seconds()))))
CSRF_COOKIE_HTTPONLY = True
# No inline or third-party scripts anywhere (htmx and Swagger UI are our static files).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# Files: uploaded documents are private. The default is a local folder outside the
# web root; S3 or Azure Blob are chosen with STORAGE_BACKEND (README: "Settings").
STORAGE_BACKEND = env("STORAGE_BACKEND", default="local")
_private_storage: dict[str, Any] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(Path(env("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private"))))},
}
if STORAGE_BACKEND == "s3":
    _private_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME", default="voucher-portal"),
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env("AWS_S3_REGION_NAME", default=None),
            "addressing_style": env("AWS_S3_ADDRESSING_STYLE", default="auto"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
elif STORAGE_BACKEND == "azure":
    _private_storage = {
        "BACKEND": "storages.backends.azure_storage.AzureStorage",
        "OPTIONS": {
            "connection_string": env("AZURE_CONNECTION_STRING", default=None),
            "azure_container": env("AZURE_CONTAINER", default="voucher-portal"),
            "overwrite_files": False,
        },
    }
STORAGES = {
    "default": _private_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Claim attempts per user and per address: (attempts, seconds). Codes cannot be guessed.
# Claims: per partner user, with a coarse bound per address (R-VOU-5 codes stay unguessable).
RATE_LIMITS = {
    "claim": (env.int("CLAIM_RATE_LIMIT", default=10), 60),
    "claim_address": (env.int("CLAIM_ADDRESS_RATE_LIMIT", default=300), 60),
}
# Failed sign-ins per client address across usernames, before it must wait (spraying).
LOGIN_ADDRESS_FAILURES = (env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20), 15 * 60)
# Who the client is behind proxies (core.ratelimit.client_address): how many proxies are
# in front of the portal, or their networks. Unset: X-Forwarded-For is not believed.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
# R-DOC-1 round 2: a PEM file of the certificate authorities whose signers are "trusted" on
# a digitally signed SOW/POE. Empty: no signature is from a trusted authority (still accepted).
DOCUMENT_TRUST_ROOTS = env.str("DOCUMENT_TRUST_ROOTS", default="")

# Mail: every message goes through the outbox (notifications.OutboundMail) and is
# handed to this backend by a Celery task after commit.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="FastTrack Vouchers <vouchers@example.com>")

# Vouchers per transaction in the reminder and expiry jobs (the benchmark: big batches keep the
# jobs near the speed of the database; tests make them small to stop a worker mid-run).
REMINDER_BATCH = env.int("REMINDER_BATCH", default=50_000)

# The program dashboard's figures are cached this long per filter (0: computed on every
# request); a beat task recomputes the unfiltered view before it goes stale.
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=300)
# R-PAY-2: Payment Central pays an exported batch within this many business days of the
# approval (the daily export, then its payment run); the partner is shown the date.
PAYMENT_RUN_BUSINESS_DAYS = env.int("PAYMENT_RUN_BUSINESS_DAYS", default=10)

# Celery: Redis when REDIS_URL is set; otherwise kombu's filesystem transport, a
# broker that needs no server (make run on a fresh machine).
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_DIR = Path(env("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # Short socket timeouts: with Redis unreachable, a publish from a request gives up in
    # seconds (core.tasks.enqueue leaves the work to a sweep) instead of hanging the worker.
    # BRPOP answers within 1 s, well inside socket_timeout.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# One beat runs these; every task is idempotent and can also be called synchronously.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "dispatch-pending-mail": {
        "task": "notifications.tasks.dispatch_pending_mail",
        "schedule": 60.0,
    },
    # Work whose enqueue failed because the broker was down (core.tasks.enqueue).
    "send-missing-voucher-mail": {
        "task": "vouchers.tasks.send_missing_voucher_mail",
        "schedule": 300.0,
    },
    "resume-queued-imports": {
        "task": "imports.tasks.resume_queued_imports",
        "schedule": 300.0,
    },
    "expire-vouchers": {
        "task": "vouchers.tasks.expire_vouchers",
        "schedule": crontab(hour=0, minute=15),
    },
    "send-expiry-reminders": {
        "task": "vouchers.tasks.send_expiry_reminders",
        "schedule": crontab(hour=6, minute=0),
    },
    "send-poe-reminders": {
        "task": "redemptions.tasks.send_poe_reminders",
        "schedule": crontab(hour=6, minute=10),
    },
    "flag-overdue-reviews": {
        "task": "redemptions.tasks.flag_overdue_reviews",
        "schedule": crontab(hour=7, minute=0),
    },
    "warm-dashboard": {
        "task": "reports.tasks.warm_dashboard",
        "schedule": timedelta(seconds=max(DASHBOARD_CACHE_SECONDS // 2, 60)),
    },
    "export-payment-batch": {
        "task": "payments.tasks.export_payment_batch",
        "schedule": crontab(hour=8, minute=0),
    },
    "send-monthly-statements": {
        "task": "payments.tasks.send_monthly_statements",
        "schedule": crontab(hour=9, minute=0, day_of_month=1),
    },
}

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous call answers 401 with `WWW-Authenticate: Token`.
        "accounts.authentication.PortalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.PortalAutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "core.api_lists.StrictFilterBackend",
        "core.api_lists.StrictSearchFilter",
        "core.api_lists.StrictOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api_lists.StrictLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only, except the upload endpoints (multipart, declared on their actions): one
    # encoding per operation, so a form field's type is never a guess.
    "DEFAULT_PARSER_CLASSES": ["core.parsers.SafeJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_THROTTLE_RATES": {"claim": "10/min", "login": "20/min"},
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SPECTACULAR_SETTINGS = {
    "TITLE": "Deployment Voucher Portal API",
    "DESCRIPTION": "REST contract v1 (shared/docs/api.md). Refusals carry the program rule ID.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI is served from our own static files (drf-spectacular-sidecar): no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "NominationStatusEnum": "nominations.models.Nomination.Status",
        "VoucherStatusEnum": "vouchers.models.Voucher.Status",
        "CapRowStatusEnum": "programs.models.RowStatus",
        "PaymentRequestKindEnum": "redemptions.models.PaymentRequest.Kind",
        "PaymentRequestStatusEnum": "redemptions.models.PaymentRequest.Status",
        "PaymentKindEnum": "payments.models.Payment.Kind",
        "PaymentStatusEnum": "payments.models.Payment.Status",
        "PaymentBatchStatusEnum": "payments.models.PaymentBatch.Status",
        "DisputeStatusEnum": "payments.models.Dispute.Status",
        "ExtensionStatusEnum": "vouchers.models.Extension.Status",
        "CurrencyEnum": "core.validators.CURRENCY_CHOICES",
    },
}

_cache: dict[str, Any] = (
    env.cache("CACHE_URL", default=REDIS_URL)
    if (env("CACHE_URL", default="") or REDIS_URL)
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
)
if _cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Everything cached can be recomputed or skipped: with Redis down, reads miss and writes
    # are skipped (core.cache), and a request loses at most a second here, never answers 500.
    _cache["BACKEND"] = "core.cache.FailOpenRedisCache"
    _cache["OPTIONS"] = {
        "socket_connect_timeout": 1,
        "socket_timeout": 1,
        **_cache.get("OPTIONS", {}),
    }
CACHES = {"default": _cache}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
