"""Django settings for Akkoord.

Configuration comes only from environment variables, each with an embedded
default that gives a working single-machine install (SQLite in the data
directory, the database task worker, the local mail catcher). Every variable is
documented in docs/configuration.md.
"""

import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from akkoord.lib.env import env, env_bool, env_int, env_list, env_networks

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env("AKKOORD_DATA_DIR", "data")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _local_secret(name: str) -> str:
    """A random secret kept in the data directory, made on first use.

    Only for the embedded defaults: production sets the variables instead.
    """
    path = DATA_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


DEBUG = env_bool("AKKOORD_DEBUG", False)
SECRET_KEY = env("AKKOORD_SECRET_KEY") or _local_secret("secret.key")
# A separate key for the keyed hashes of the suppression list: rotating the
# session/signing key must never make an erased person mailable again.
AKKOORD_HASH_KEY = env("AKKOORD_HASH_KEY") or _local_secret("hash.key")

AKKOORD_BASE_URL = env("AKKOORD_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
ALLOWED_HOSTS = env_list("AKKOORD_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("AKKOORD_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # Our apps first: akkoord.lib overrides the `flush` command so that test
    # database resets can pass the ledger's append-only guard.
    "akkoord.lib",
    "akkoord.accounts",
    "akkoord.organisation",
    "akkoord.contacts",
    "akkoord.consent",
    "akkoord.mail",
    "akkoord.notices",
    "akkoord.signup",
    "akkoord.centre",
    "akkoord.campaigns",
    "akkoord.segments",
    "akkoord.accountability",
    "akkoord.api",
    "akkoord.transfer",
    "akkoord.deliverability",
    "akkoord.front",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "akkoord.accounts.middleware.StaffSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "akkoord.lib.middleware.PrivacyHeadersMiddleware",
    "akkoord.lib.middleware.NoStoreMiddleware",
]

ROOT_URLCONF = "akkoord.urls"
WSGI_APPLICATION = "akkoord.wsgi.application"

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
                "django.template.context_processors.i18n",
                "akkoord.accounts.context_processors.staff",
            ],
        },
    },
]

# Database: SQLite in the data directory unless DATABASE_URL says otherwise.
_sqlite_url = f"sqlite:///{DATA_DIR / 'akkoord.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(env("DATABASE_URL", _sqlite_url), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE makes every transaction take the write lock at its start:
        # the ledger's hash chain is extended by one writer at a time, and
        # writers wait (timeout) instead of failing with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "front:dashboard"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Staff sessions end after this many minutes without a request (an unattended staff session must not stay open).
AKKOORD_IDLE_TIMEOUT_MINUTES = env_int("AKKOORD_IDLE_TIMEOUT_MINUTES", 15)
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HTTPS = AKKOORD_BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a reverse proxy the peer of every request is the proxy. Only then, and
# only from the proxies listed, are its X-Forwarded-* headers believed: the
# client address (lib.ratelimit.client_ip) for limits and consent proofs, the
# scheme and the host. Without the setting those headers are ignored, since
# any client can send them.
AKKOORD_BEHIND_PROXY = env_bool("AKKOORD_BEHIND_PROXY", False)
AKKOORD_TRUSTED_PROXIES = (
    env_networks("AKKOORD_TRUSTED_PROXIES", ["127.0.0.1/8", "::1/128"])
    if AKKOORD_BEHIND_PROXY
    else []
)
if AKKOORD_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# With an https:// base URL the site is HTTPS only: browsers are told so
# (Strict-Transport-Security, on HTTPS responses) and plain-HTTP requests are
# redirected. The redirect needs the proxy's X-Forwarded-Proto to see which
# requests came in over HTTPS, so it is on by default only behind a proxy
# (without it every request would look like plain HTTP and redirect forever).
# /healthz stays reachable over plain HTTP for load balancers.
SECURE_HSTS_SECONDS = env_int("AKKOORD_HSTS_SECONDS", 365 * 24 * 3600) if SECURE_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("AKKOORD_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("AKKOORD_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("AKKOORD_SSL_REDIRECT", SECURE_HTTPS and AKKOORD_BEHIND_PROXY)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Asking browsers to preload HSTS is a decision for the owner of the whole
# domain (hstspreload.org), not for one application on it: off unless set.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("AKKOORD_TIME_ZONE", "Europe/Amsterdam")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Background work (Django Tasks API). "database" needs no broker; "rq" uses
# Redis so that workers on many machines share the queue.
AKKOORD_TASK_BACKEND = env("AKKOORD_TASK_BACKEND", "database")
if AKKOORD_TASK_BACKEND == "rq":
    # django_rq brings the `akkoord rqworker` command; django_tasks_rq the backend.
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": env("REDIS_URL", "redis://127.0.0.1:6379/0")}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
elif AKKOORD_TASK_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# Sending tasks started per campaign; unset or 0: 2 on PostgreSQL, 1 on SQLite
# (campaigns.tasks.worker_count).
AKKOORD_CAMPAIGN_WORKERS = env_int("AKKOORD_CAMPAIGN_WORKERS", 0) or None
# Seconds a sending worker may stay silent before its claims and its campaign
# are taken over by another worker (or the restarted one); /healthz calls a
# sending campaign "stalled" after that long without a live worker.
AKKOORD_SENDING_LEASE_SECONDS = env_int("AKKOORD_SENDING_LEASE_SECONDS", 120)
# API: calls per key per window (seconds); over it the API answers 429 (docs/configuration.md).
AKKOORD_API_RATE_LIMIT = env_int("AKKOORD_API_RATE_LIMIT", 600)
AKKOORD_API_RATE_WINDOW = env_int("AKKOORD_API_RATE_WINDOW", 60)

# Outgoing mail. By default everything goes to the local mail catcher that
# `akkoord serve` runs; AKKOORD_SMTP_URL points at a real server
# (smtp+starttls:// or smtps://; plain smtp:// only to localhost).
AKKOORD_SMTP_URL = env("AKKOORD_SMTP_URL", "smtp://127.0.0.1:1025")
AKKOORD_MAILCATCHER_PORT = env_int("AKKOORD_MAILCATCHER_PORT", 1025)

# The web server of `akkoord serve` (waitress): connections held open at once,
# and the seconds an idle or slow connection may hold one (docs/deploy.md).
# Bounces and complaints (docs/deliverability.md). The envelope sender of a
# campaign message is bounces+<signed delivery token>@AKKOORD_BOUNCE_DOMAIN
# ("sending": the campaign's sending domain; empty: the From address, no VERP).
AKKOORD_BOUNCE_DOMAIN = env("AKKOORD_BOUNCE_DOMAIN", "").strip().lower()
AKKOORD_BOUNCE_LOCAL_PART = env("AKKOORD_BOUNCE_LOCAL_PART", "bounces")
# host:port of the built-in bounce receiver (SMTP, or LMTP with the flag);
# empty: not started by `akkoord serve`.
AKKOORD_BOUNCE_RECEIVER = env("AKKOORD_BOUNCE_RECEIVER", "")
AKKOORD_BOUNCE_RECEIVER_LMTP = env_bool("AKKOORD_BOUNCE_RECEIVER_LMTP", False)
# Days the raw report (personal data) is kept for inspection before erasure.
AKKOORD_BOUNCE_RAW_DAYS = env_int("AKKOORD_BOUNCE_RAW_DAYS", 14)
# Soft bounces (distinct messages) within so many days that exclude an address.
AKKOORD_SOFT_BOUNCE_LIMIT = env_int("AKKOORD_SOFT_BOUNCE_LIMIT", 3)
AKKOORD_SOFT_BOUNCE_DAYS = env_int("AKKOORD_SOFT_BOUNCE_DAYS", 30)
# An IMAP mailbox that receives bounces (imaps://user:password@host/INBOX), read
# by `akkoord read_bounce_mailbox`; recognised mail is moved to the done folder.
AKKOORD_BOUNCE_IMAP_URL = env("AKKOORD_BOUNCE_IMAP_URL", "")
AKKOORD_BOUNCE_IMAP_DONE_FOLDER = env("AKKOORD_BOUNCE_IMAP_DONE_FOLDER", "Akkoord/Processed")
# Key of the purpose "measure my reading": only recipients who consented to it
# get a tracking pixel and tracked links. Empty: no tracking at all (default).
AKKOORD_TRACKING_PURPOSE = env("AKKOORD_TRACKING_PURPOSE", "")
# Webhook secrets per sending service; a service without one is refused.
AKKOORD_WEBHOOK_POSTMARK_SECRET = env("AKKOORD_WEBHOOK_POSTMARK_SECRET", "")
AKKOORD_WEBHOOK_MAILGUN_SIGNING_KEY = env("AKKOORD_WEBHOOK_MAILGUN_SIGNING_KEY", "")
AKKOORD_WEBHOOK_SENDGRID_PUBLIC_KEY = env("AKKOORD_WEBHOOK_SENDGRID_PUBLIC_KEY", "")
AKKOORD_WEBHOOK_BREVO_SECRET = env("AKKOORD_WEBHOOK_BREVO_SECRET", "")
# Amazon SES through SNS: the topic ARNs accepted (comma-separated); empty: off.
AKKOORD_WEBHOOK_SES_TOPICS = env_list("AKKOORD_WEBHOOK_SES_TOPICS", [])

AKKOORD_WEB_CONNECTION_LIMIT = env_int("AKKOORD_WEB_CONNECTION_LIMIT", 1000)
AKKOORD_WEB_CHANNEL_TIMEOUT = env_int("AKKOORD_WEB_CHANNEL_TIMEOUT", 30)
EMAIL_BACKEND = "akkoord.mail.backends.SmtpUrlBackend"
DEFAULT_FROM_EMAIL = env("AKKOORD_FROM_EMAIL", "Akkoord <noreply@localhost>")
EMAIL_TIMEOUT = 30

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "akkoord_cache",
    }
}
if env("REDIS_URL"):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("REDIS_URL"),
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("AKKOORD_LOG_LEVEL", "INFO")},
    "loggers": {
        # Request logs would carry e-mail addresses in query strings; keep
        # personal data out of logs (privacy by design).
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}
