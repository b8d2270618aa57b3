"""Settings for Preference Workbench.

With no environment set, the app runs on SQLite and an embedded (filesystem) Celery
broker under ./var, so a newcomer needs no server. DATABASE_URL and CELERY_BROKER_URL
switch to PostgreSQL and Redis.
"""
from pathlib import Path

import dj_database_url

from webapp.core.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("WB_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if env_bool("WB_PRODUCTION", False):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("SECRET_KEY must be set when WB_PRODUCTION=1")
    SECRET_KEY = "dev-only-insecure-key-set-SECRET_KEY-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "webapp.core",
    "webapp.accounts",
    "webapp.projects",
    "webapp.audit",
    "webapp.guidelines",
    "webapp.runs",
    "webapp.comparisons",
    "webapp.exports",
    "webapp.training",
    "webapp.raters",
    "webapp.labelstudio",
    "webapp.lead",
    "webapp.demo",
    "webapp.diagnostics",
    "webapp.model_diagnostics",
]

MIDDLEWARE = [
    "webapp.core.middleware.RequestContextMiddleware",
    "webapp.core.middleware.MethodNotAllowedMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = "webapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "webapp" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _sqlite_config(name: str) -> dict:
    """SQLite as the workbench needs it, whether the default file or one named by DATABASE_URL."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        # IMMEDIATE transactions take the write lock up front: SQLite has no row locks,
        # so this is what serializes concurrent claims and submits.
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        # A file, not shared-cache memory: concurrency tests need real locking and busy timeouts.
        "TEST": {"NAME": env_str("WB_SQLITE_TEST_PATH", "") or str(VAR_DIR / "test.sqlite3")},
    }


def _database_config() -> dict:
    url = env_str("DATABASE_URL")
    if not url:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        return _sqlite_config(env_str("WB_SQLITE_PATH", str(VAR_DIR / "workbench.sqlite3")))
    config = dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 600),
                                   conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True))
    if config["ENGINE"].endswith("sqlite3"):
        # sqlite:///relative/path or sqlite:////absolute/path: the same tuning as the default file
        # (without it, racing raters got thousands of "database is locked" errors).
        if not config["NAME"].startswith((":", "file:")):  # a file, not :memory: or a URI
            Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        return _sqlite_config(config["NAME"])
    if config["ENGINE"].endswith("postgresql"):
        # Each test run gets its own database so concurrent runs never collide.
        config["TEST"] = {"NAME": env_str("WB_TEST_DB_NAME", "") or None}
        # Server-side binding lets psycopg prepare the hot queries after a few runs: PostgreSQL
        # then skips planning (bench/: ~13 → ~5 ms of database CPU per judgment). Behind
        # PgBouncer in transaction mode this needs max_prepared_statements (PgBouncer ≥ 1.21).
        config["OPTIONS"] = {"server_side_binding": env_bool("DB_SERVER_SIDE_BINDING", True),
                             "prepare_threshold": env_int("DB_PREPARE_THRESHOLD", 5)}
    return config


DATABASES = {"default": _database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's four: applied by the admin's forms and by user_create (manage.py create_user).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "webapp" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Workbench settings ---------------------------------------------------
# Key of the pseudonym rule (prefkit.pseudonyms): keep it secret, and keep it: pseudonyms of
# people not stored here (external raters in imports) are recomputed from it.
WB_PSEUDONYM_KEY = env_str("WB_PSEUDONYM_KEY", "") or SECRET_KEY
WB_MAX_TEXT_CHARS = env_int("WB_MAX_TEXT_CHARS", 100_000)
WB_MAX_IMPORT_BYTES = env_int("WB_MAX_IMPORT_BYTES", 200 * 1024 * 1024)
# Only to measure what auditing costs (bench/): never set it where the trail matters.
WB_AUDIT_DISABLED_FOR_BENCHMARK = env_bool("WB_AUDIT_DISABLED_FOR_BENCHMARK", False)
# How long an API token stays trusted per process without asking the database (0: ask every time).
WB_TOKEN_CACHE_SECONDS = env_int("WB_TOKEN_CACHE_SECONDS", 10)
WB_LOGIN_MAX_FAILURES = env_int("WB_LOGIN_MAX_FAILURES", 5)
WB_LOGIN_WINDOW_SECONDS = env_int("WB_LOGIN_WINDOW_SECONDS", 900)
# Request bodies: JSON API calls (a judgment needs a few kB), page forms (a guideline of up to
# 200,000 characters, URL-encoded), and only the import upload gets WB_MAX_IMPORT_BYTES, streamed
# to a temporary file. Over a limit: 413 (JSON on the API, a page in the browser).
WB_MAX_JSON_BODY_BYTES = env_int("WB_MAX_JSON_BODY_BYTES", 64 * 1024)
WB_MAX_FORM_BYTES = env_int("WB_MAX_FORM_BYTES", 4 * 1024 * 1024)
# How much of a refused body is read and thrown away, so the client sees the 413 (not a reset).
WB_MAX_DRAIN_BYTES = env_int("WB_MAX_DRAIN_BYTES", 2 * WB_MAX_IMPORT_BYTES)
DATA_UPLOAD_MAX_MEMORY_SIZE = WB_MAX_FORM_BYTES
FILE_UPLOAD_HANDLERS = ["webapp.core.uploads.NoFileUploadHandler"]  # the import views choose their own

# Jobs (webapp/runs): a running job's worker writes a heartbeat every WB_JOB_HEARTBEAT_SECONDS; the
# sweeper (every WB_JOB_SWEEP_SECONDS) re-queues a job silent for WB_JOB_STALE_SECONDS (its worker
# died), at most WB_JOB_MAX_ATTEMPTS tries in all, then fails it with the reason.
WB_JOB_HEARTBEAT_SECONDS = env_int("WB_JOB_HEARTBEAT_SECONDS", 5)
WB_JOB_STALE_SECONDS = env_int("WB_JOB_STALE_SECONDS", 45)
WB_JOB_SWEEP_SECONDS = env_int("WB_JOB_SWEEP_SECONDS", 15)
WB_JOB_RESEND_SECONDS = env_int("WB_JOB_RESEND_SECONDS", 120)
WB_JOB_MAX_ATTEMPTS = env_int("WB_JOB_MAX_ATTEMPTS", 3)
# Export files: one folder per job under here.
WB_EXPORT_DIR = Path(env_str("WB_EXPORT_DIR", str(VAR_DIR / "exports")))
# Reward models (one folder per training job) and scoring outputs (one folder per scoring job).
WB_MODEL_DIR = Path(env_str("WB_MODEL_DIR", str(VAR_DIR / "models")))
WB_SCORE_DIR = Path(env_str("WB_SCORE_DIR", str(VAR_DIR / "scores")))

# --- Celery ---------------------------------------------------------------
# The host part means nothing to the filesystem transport, but without one kombu warns at every connection.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost//")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _control_dir = VAR_DIR / "celery" / "control"
    for _d in (_queue_dir, _processed_dir, _control_dir):
        _d.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
        "polling_interval": 0.2,
    }
CELERY_TASK_DEFAULT_QUEUE = env_str("WB_CELERY_QUEUE", "celery")
# Training and scoring run on their own queue, so an import or export never waits behind a training run.
# A worker started without -Q consumes both queues below (the demo's, the tests'); a deployment can give
# training its own machine: `celery -A webapp worker -Q training` there, `-Q celery` elsewhere.
# (Tests name both queues after their run, so helpers sharing one Redis never take each other's jobs.)
WB_TRAINING_QUEUE = env_str("WB_TRAINING_QUEUE", "training" if CELERY_TASK_DEFAULT_QUEUE == "celery"
                            else f"{CELERY_TASK_DEFAULT_QUEUE}_training")
from kombu import Queue  # noqa: E402 - Celery settings only

CELERY_TASK_QUEUES = (Queue(CELERY_TASK_DEFAULT_QUEUE), Queue(WB_TRAINING_QUEUE))
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# Celery 6's defaults, set now (Celery 5 warns about each when it is left unset):
# retry the broker connection at start-up, and on a lost connection cancel running late-ack tasks,
# which the broker redelivers (tasks are idempotent).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_SOFT_TIME_LIMIT = env_int("WB_TASK_SOFT_TIME_LIMIT", 1800)
CELERY_TASK_TIME_LIMIT = env_int("WB_TASK_TIME_LIMIT", 1900)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE = {
    "expire-leases": {"task": "webapp.comparisons.tasks.leases_expire", "schedule": 30.0},
    "sweep-jobs": {"task": "webapp.runs.tasks.jobs_sweep", "schedule": float(WB_JOB_SWEEP_SECONDS)},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
