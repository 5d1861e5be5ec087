"""Modelyard settings: one module, driven by the environment.

With nothing set, Modelyard runs embedded: SQLite (WAL), artifacts on local disk under
``MODELYARD_DATA_DIR`` and a filesystem Celery broker, so ``make run`` needs no server.
``DATABASE_URL`` switches to PostgreSQL, ``REDIS_URL`` to Redis for the broker and the cache.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_file, env_float, env_int, env_list, env_path, env_str
from config.logs import configure_structlog, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
MODELYARD_ENV = env_choice("MODELYARD_ENV", "development", ("development", "production", "test"))
PRODUCTION = MODELYARD_ENV == "production"
TESTING = MODELYARD_ENV == "test"
DATA_DIR = env_path("MODELYARD_DATA_DIR", BASE_DIR / "data" / ("test" if TESTING else ""))

if PRODUCTION:
    SECRET_KEY = env_str("SECRET_KEY", "")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be set to at least 50 random characters in production")
else:
    SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-modelyard-not-for-production-use-0123456789")

DEBUG = env_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_celery_beat",
    "django_prometheus",
    "axes",
    "registry",
    "serving",
    "batch",
    "rollouts",
    # The console team members use every day (console/); the Django admin stays a staff tool.
    "django_htmx",
    "console",
]

MIDDLEWARE = [
    "config.request_id.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    # Last, so that it sees lockouts flagged by the authentication backend on the way out.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# The prediction routes skip sessions, CSRF, messages and login tracking: they use none of them
# (config/serving_handler.py). Security headers still apply.
SERVING_MIDDLEWARE = [
    "config.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.RejectNulMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
_database_url = env_str("DATABASE_URL", "")
if _database_url:
    DATABASES = {"default": environ.Env.db_url_config(_database_url)}
    DATABASES["default"].setdefault("CONN_MAX_AGE", env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "modelyard.sqlite3",
            # WAL lets the worker write while web reads; IMMEDIATE takes the write lock up front
            # so concurrent uploads queue instead of failing with "database is locked".
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # A file, not :memory:, so a Celery worker process in the tests sees the same data.
            "TEST": {"NAME": str(DATA_DIR / "test-modelyard.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker and cache -----------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # File-based so that throttles and lockouts hold across web and worker processes.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# Each test run gets its own queue so that a stray worker or an earlier run never takes its tasks.
CELERY_TASK_DEFAULT_QUEUE = env_str(
    "MODELYARD_CELERY_QUEUE", f"modelyard-test-{os.getpid()}" if TESTING else "modelyard"
)
# Test runs side by side share Redis: each keeps its own cache keys, and passes the prefix to the
# worker and web processes it starts (conftest.process_env), so they share the keys with it.
CACHES["default"]["KEY_PREFIX"] = env_str("MODELYARD_CACHE_PREFIX", CELERY_TASK_DEFAULT_QUEUE if TESTING else "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes the database connection around every task unless this is set: a new
# PostgreSQL connection per batch chunk cost ~6 ms of a ~20 ms chunk (docs/batch.md). With it, connections
# are kept, and config/celery.py gives each task Django's request-start care instead (closed when broken
# or past CONN_MAX_AGE, health-checked before first use), so a PostgreSQL restart costs one retry.
CELERY_DB_REUSE_MAX = env_int("MODELYARD_CELERY_DB_REUSE_MAX", 1000, minimum=0)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("MODELYARD_TASK_SOFT_TIME_LIMIT", 600, minimum=1)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
# A validating worker renews its lease on the version every quarter of this; a lease not renewed for
# this long is stale (its worker died) and the next delivery of the task takes the version over.
MODELYARD_VALIDATION_LEASE_SECONDS = env_int("MODELYARD_VALIDATION_LEASE_SECONDS", 120, minimum=2)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "sweep-versions": {"task": "registry.versions_sweep", "schedule": 60.0},
    "sweep-orphan-artifacts": {"task": "registry.artifacts_sweep_orphans", "schedule": 3600.0},
    # Batch jobs: chunks a broker lost or a dead worker held are sent again; old jobs' files go (docs/batch.md).
    "batch-jobs-sweep": {"task": "batch.jobs_sweep", "schedule": 60.0},
    "batch-jobs-expire": {"task": "batch.jobs_expire", "schedule": 3600.0},
    # Files of versions deleted longer ago than MODELYARD_DELETED_RETENTION_DAYS are removed.
    "purge-deleted-versions": {"task": "registry.versions_purge_deleted", "schedule": 3600.0},
    # Expired refresh tokens (and their blacklist rows) are deleted once a day.
    "flush-expired-refresh-tokens": {"task": "auth.tokens_flush_expired", "schedule": 24 * 3600.0},
    # Rollouts: each running one is judged and moved on this often; metric windows go to PostgreSQL per minute.
    "rollouts-tick": {"task": "rollouts.tick", "schedule": env_float("MODELYARD_ROLLOUT_TICK_SECONDS", 5.0)},
    "rollouts-metrics-rollup": {"task": "rollouts.metrics_rollup", "schedule": 60.0},
}
# Rollouts (docs/rollouts.md). Web processes report loaded versions and per-version metrics once a second
# (off in the test process itself, which must not look like a web worker); shadow copies queue per process.
MODELYARD_SERVING_REPORTS = env_bool("MODELYARD_SERVING_REPORTS", not TESTING)
MODELYARD_SHADOW_QUEUE = env_int("MODELYARD_SHADOW_QUEUE", 64, minimum=1)
# Project-level tasks: config is not an installed app, so autodiscovery would not find them.
CELERY_IMPORTS = ["config.tasks"]
CELERY_TIMEZONE = "UTC"

# --- Artifacts -------------------------------------------------------------------------------
ARTIFACT_STORAGE = env_choice("MODELYARD_ARTIFACT_STORAGE", "file", ("file", "s3"))
ARTIFACT_CACHE_DIR = env_path("MODELYARD_ARTIFACT_CACHE_DIR", DATA_DIR / "artifact-cache")
# Local copies of artifacts from S3 (or sealed ones), least recently used evicted past this (docs/deployment.md).
MODELYARD_ARTIFACT_CACHE_BYTES = env_int("MODELYARD_ARTIFACT_CACHE_BYTES", 10 * 1024**3, minimum=0)
# Encryption at rest (registry/envelope.py): "key-id:base64-32-bytes" entries, comma- or line-separated,
# the first one active, older ones kept for decrypting until `manage.py rotate_artifact_key` has run.
_artifact_keys_text = env_str("MODELYARD_ARTIFACT_KEYS", "") or env_file("MODELYARD_ARTIFACT_KEYS_FILE")
try:
    from registry.envelope import parse_keys

    MODELYARD_ARTIFACT_KEYS = parse_keys(_artifact_keys_text)
except ValueError as _exc:
    raise ImproperlyConfigured(f"MODELYARD_ARTIFACT_KEYS(_FILE): {_exc}") from None
if ARTIFACT_STORAGE == "s3":
    from registry.s3 import s3_storage_options

    # Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the platform's role (boto3's chain).
    _artifacts = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": s3_storage_options(
        bucket=env_str("MODELYARD_S3_BUCKET", ""), endpoint_url=env_str("MODELYARD_S3_ENDPOINT_URL", ""),
        region=env_str("MODELYARD_S3_REGION", "us-east-1"),
        addressing_style=env_choice("MODELYARD_S3_ADDRESSING_STYLE", "path", ("path", "virtual", "auto")),
        read_timeout=env_float("MODELYARD_S3_READ_TIMEOUT", 60.0))}
else:
    _artifacts = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "artifacts"), "file_permissions_mode": 0o640},
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "artifacts": _artifacts,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = DATA_DIR / "media"
STATIC_URL = "/static/"
STATIC_ROOT = env_path("MODELYARD_STATIC_ROOT", BASE_DIR / "staticfiles")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Outside production the console's assets are served straight from the apps (no collectstatic step for
# `make run` or the tests); production serves the collected, hashed copies (platform/Dockerfile, make stack).
WHITENOISE_USE_FINDERS = not PRODUCTION

# Uploads stream through a hashing handler to a temporary file; nothing is held in memory.
FILE_UPLOAD_HANDLERS = ["registry.uploads.HashingUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
# Next to the artifacts, so that keeping an upload is a rename, not a second copy across disks.
FILE_UPLOAD_TEMP_DIR = str(DATA_DIR / "uploads-tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MODELYARD_MAX_BODY_BYTES", 10 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
DATA_UPLOAD_MAX_NUMBER_FILES = 1

# --- Modelyard ---------------------------------------------------------------------------------
MODELYARD_MAX_UPLOAD_BYTES = env_int("MODELYARD_MAX_UPLOAD_BYTES", 512 * 1024 * 1024, minimum=1)
# Default storage quota of a team (uploaded artifacts); a team's own value, set by staff, wins. 0: none.
MODELYARD_TEAM_STORAGE_QUOTA_BYTES = env_int("MODELYARD_TEAM_STORAGE_QUOTA_BYTES", 50 * 1024**3, minimum=0)
# Deleted versions keep their files this long (an operator can still recover them), then beat removes them.
MODELYARD_DELETED_RETENTION_DAYS = env_int("MODELYARD_DELETED_RETENTION_DAYS", 7, minimum=0)
MODELYARD_ALLOW_PICKLE = env_bool("MODELYARD_ALLOW_PICKLE", False)
MODELYARD_PREDICT_MAX_ROWS = env_int("MODELYARD_PREDICT_MAX_ROWS", 10_000, minimum=1)
# Predict bodies have their own, smaller limit than other JSON routes: a 10,000-row batch of 30 features
# is about 3 MiB of JSON; anything much larger is refused (413) before it is parsed.
MODELYARD_PREDICT_MAX_BODY_BYTES = env_int("MODELYARD_PREDICT_MAX_BODY_BYTES", 4 * 1024 * 1024, minimum=1024)
# Types a skops artifact may contain beyond skops' own defaults. Server-side, never the artifact's.
MODELYARD_SKOPS_TRUSTED_PREFIXES = tuple(
    env_list("MODELYARD_SKOPS_TRUSTED_PREFIXES", ["sklearn.", "numpy.", "scipy.sparse."])
)
# Serve scikit-learn versions through onnxruntime when skl2onnx converts them exactly (checked at validation).
MODELYARD_ONNX_ACCELERATION = env_bool("MODELYARD_ONNX_ACCELERATION", True)
# Per model and process: predictions running at once, and how long a request may wait for a slot
# before it gets 503 + Retry-After. Nothing queues beyond that.
MODELYARD_MAX_IN_FLIGHT = env_int("MODELYARD_MAX_IN_FLIGHT", 8, minimum=1)
MODELYARD_QUEUE_WAIT_SECONDS = env_float("MODELYARD_QUEUE_WAIT_SECONDS", 0.5)
# Every model call past this answers 504 'model_timeout': ONNX runs are stopped there, others are
# abandoned on the model pool (serving/engine.py). 0 means no limit.
MODELYARD_PREDICT_TIMEOUT_SECONDS = env_float("MODELYARD_PREDICT_TIMEOUT_SECONDS", 30.0)
# The pool for runtimes that cannot be stopped (scikit-learn, pickle); one model holds at most this share.
MODELYARD_MODEL_THREADS = env_int("MODELYARD_MODEL_THREADS", 8, minimum=1)
MODELYARD_MODEL_THREAD_SHARE = env_float("MODELYARD_MODEL_THREAD_SHARE", 0.5)
# Request threads of one web process (gunicorn's --threads): one model may occupy at most the share
# above of them, running or waiting, so a slow model cannot take serving away from the others.
MODELYARD_REQUEST_THREADS = env_int("MODELYARD_REQUEST_THREADS", env_int("GUNICORN_THREADS", 4, minimum=1), minimum=1)
# A model with a call running longer than this is "slow": past its share it is refused at once instead
# of waiting for a thread (a fast model's requests wait up to MODELYARD_QUEUE_WAIT_SECONDS).
MODELYARD_SLOW_CALL_SECONDS = env_float("MODELYARD_SLOW_CALL_SECONDS", 0.1)
# Circuit breaker: this many timeouts of one version within the window suspend it for OPEN seconds.
MODELYARD_BREAKER_TIMEOUTS = env_int("MODELYARD_BREAKER_TIMEOUTS", 3, minimum=1)
MODELYARD_BREAKER_WINDOW_SECONDS = env_float("MODELYARD_BREAKER_WINDOW_SECONDS", 60.0)
MODELYARD_BREAKER_OPEN_SECONDS = env_float("MODELYARD_BREAKER_OPEN_SECONDS", 30.0)
# onnxruntime threads inside one model call: one, since a web worker already runs calls side by side.
MODELYARD_MODEL_THREADS_PER_SESSION = env_int("MODELYARD_MODEL_THREADS_PER_SESSION", 1, minimum=1)
# Loaded runtimes per process (LRU). MODELYARD_PREDICTOR_CACHE_BYTES is the name before 2026-12, still read.
MODELYARD_RUNTIME_CACHE_BYTES = env_int(
    "MODELYARD_RUNTIME_CACHE_BYTES", env_int("MODELYARD_PREDICTOR_CACHE_BYTES", 2 * 1024**3, minimum=1), minimum=1)

# --- Batch jobs (batch/, docs/batch.md) -------------------------------------------------------
# Rows read, checked and predicted at once, as planned when an input is registered (Parquet: whole row groups).
MODELYARD_BATCH_CHUNK_ROWS = env_int("MODELYARD_BATCH_CHUNK_ROWS", 65_536, minimum=1)
# Planned chunks one task runs in a row (one claim, one part file, one progress step): a task's fixed cost
# (broker, claim, commit, files) is paid once per this many chunks; fewer spread a job over more workers.
# 8 x 65,536 rows of 30 float64 features is ~128 MB of input per task, Spark's default split size.
MODELYARD_BATCH_CHUNKS_PER_TASK = env_int("MODELYARD_BATCH_CHUNKS_PER_TASK", 8, minimum=1)
# A chunk's worker renews its lease every third of this; a lease not renewed for this long is taken over.
MODELYARD_BATCH_LEASE_SECONDS = env_int("MODELYARD_BATCH_LEASE_SECONDS", 30, minimum=2)
# A chunk sent this long ago and not claimed (or whose lease ran out) is sent again by the sweep.
MODELYARD_BATCH_REQUEUE_SECONDS = env_int("MODELYARD_BATCH_REQUEUE_SECONDS", 120, minimum=1)
# Soft time limit of one chunk (and of assembling the output); the hard limit is a minute later.
MODELYARD_BATCH_TASK_TIME_LIMIT = env_int("MODELYARD_BATCH_TASK_TIME_LIMIT", 900, minimum=10)
# A job still queued or running this long after submit is failed by the sweep: never stuck in running.
MODELYARD_BATCH_MAX_JOB_HOURS = env_int("MODELYARD_BATCH_MAX_JOB_HOURS", 48, minimum=1)
# Inputs, outputs and errors files of jobs that finished longer ago than this are deleted (audited).
MODELYARD_BATCH_RETENTION_DAYS = env_int("MODELYARD_BATCH_RETENTION_DAYS", 30, minimum=1)

# --- Auth ------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

if TESTING:
    # Personas are created by the hundred; a deliberately slow hash would dominate the suite.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username+address before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend behind the per-username slow-down (config/auth_views.py).
    "config.auth_views.SlowDownModelBackend",
]
# Reverse proxies in front of Django that append to X-Forwarded-For (the shipped nginx and the
# Kubernetes ingress are one). core.client_ip derives the client address from it for the audit log,
# the token throttle and the lockout alike; 0 means REMOTE_ADDR, and X-Forwarded-For is ignored.
MODELYARD_TRUSTED_PROXIES = env_int("MODELYARD_TRUSTED_PROXIES", 0, minimum=0)
# Lockout after repeated failures, for the console login and the token endpoint alike: per username
# *and* client address, so nobody can lock a user out from an address they do not own.
AXES_FAILURE_LIMIT = env_int("MODELYARD_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("MODELYARD_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.auth_views.lockout_response"
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"
# Slowed-down attempts check no password and are not failures (config/auth_views.py).
AXES_WHITELIST_CALLABLE = "config.auth_views.axes_not_an_attempt"
# Per username, from any address: past this many failures within the cool-off, one attempt every
# MODELYARD_LOGIN_SLOWDOWN_SECONDS (others: 429 + Retry-After), never a lockout. 0 turns it off.
MODELYARD_LOGIN_SLOWDOWN_AFTER = env_int("MODELYARD_LOGIN_SLOWDOWN_AFTER", 10, minimum=0)
MODELYARD_LOGIN_SLOWDOWN_SECONDS = env_int("MODELYARD_LOGIN_SLOWDOWN_SECONDS", 10, minimum=1)
MODELYARD_TOKEN_THROTTLE = env_str("MODELYARD_TOKEN_THROTTLE", "20/min")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["registry.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "registry.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    # Only for a DRF throttle that does not use core.client_ip (ours all do): never the raw header.
    "NUM_PROXIES": MODELYARD_TRUSTED_PROXIES,
    "EXCEPTION_HANDLER": "core.envelope.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # orjson: bounded nesting depth (a deeply nested body is a 400, not a RecursionError).
    "DEFAULT_PARSER_CLASSES": ["core.codecs.OrjsonParser", "rest_framework.parsers.MultiPartParser"],
}

_jwt_algorithm = env_choice("MODELYARD_JWT_ALGORITHM", "HS256", (
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"))
_jwt_signing_key = env_str("MODELYARD_JWT_SIGNING_KEY", "") or env_file("MODELYARD_JWT_SIGNING_KEY_FILE") or SECRET_KEY
if not _jwt_algorithm.startswith("HS") and _jwt_signing_key == SECRET_KEY:
    raise ImproperlyConfigured(f"MODELYARD_JWT_ALGORITHM={_jwt_algorithm} needs MODELYARD_JWT_SIGNING_KEY(_FILE) "
                               "with a private key")
# Cached callers are reloaded after this long whatever the invalidation bus says (bulk updates, lost messages).
MODELYARD_CALLER_CACHE_SECONDS = env_float("MODELYARD_CALLER_CACHE_SECONDS", 1.0)
# Refresh-token rotation keeps a sign-in alive at most this long; then the user signs in again.
MODELYARD_SESSION_MAX_DAYS = env_int("MODELYARD_SESSION_MAX_DAYS", 30, minimum=1)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("MODELYARD_ACCESS_TOKEN_MINUTES", 15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("MODELYARD_REFRESH_TOKEN_DAYS", 7, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    # HS* sign and verify with one secret; RS*/ES* sign with a private key and verify with the public one
    # (or with keys published at MODELYARD_JWT_JWK_URL). PEM keys may be given as files.
    "ALGORITHM": _jwt_algorithm,
    "SIGNING_KEY": _jwt_signing_key,
    "VERIFYING_KEY": env_str("MODELYARD_JWT_VERIFYING_KEY", "") or env_file("MODELYARD_JWT_VERIFYING_KEY_FILE") or None,
    "JWK_URL": env_str("MODELYARD_JWT_JWK_URL", "") or None,
    "TOKEN_OBTAIN_SERIALIZER": "registry.tokens.TokenObtainSerializer",
    "TOKEN_REFRESH_SERIALIZER": "registry.tokens.TokenRefreshSerializer",
    "AUTH_TOKEN_CLASSES": ("registry.tokens.AccessToken",),
    "ISSUER": "modelyard",
    "AUDIENCE": "modelyard-api",
    "LEEWAY": 5,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Modelyard API",
    "DESCRIPTION": "Model registry and serving: versions, aliases, predictions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI assets come from the installed sidecar package: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status" with its own choices: name the rollout's, so the others keep theirs.
    "ENUM_NAME_OVERRIDES": {"RolloutStatusEnum": "rollouts.models.Status"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "serving.openapi.add_serving_paths",
        "registry.api.openapi.add_error_responses",
    ],
}

# Batch jobs read and write the same three formats: one enum name for their input and output fields.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["BatchFileFormatEnum"] = "batch.models.InputFormat"

# --- Security --------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_HTTPONLY = True
# The console's sign-in (console/views/auth.py): session login through the same lockout as the token endpoint.
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
# Where the redirect sends plain HTTP when HTTPS listens on another port than 443 (make stack: 127.0.0.1:8443).
SECURE_SSL_HOST = env_str("SECURE_SSL_HOST", "") or None
# Probes and scrapes reach a web process directly over the internal network, never through TLS: not redirected.
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|metrics)$"]
if env_bool("MODELYARD_BEHIND_PROXY", PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logs (config/logs.py, docs/deployment.md "Logs") -------------------------------------------
# JSON lines on stdout with the request id (X-Request-ID, carried into Celery tasks); per-request lines
# only when MODELYARD_ACCESS_LOG is on (the edge's access log usually suffices).
MODELYARD_LOG_FORMAT = env_choice("MODELYARD_LOG_FORMAT", "json" if PRODUCTION else "plain",
                                  ("json", "console", "plain"))
MODELYARD_ACCESS_LOG = env_bool("MODELYARD_ACCESS_LOG", False)
LOGGING = logging_config(fmt=MODELYARD_LOG_FORMAT, level=env_str("LOG_LEVEL", "INFO"))
configure_structlog()
# Celery's worker keeps Django's handlers (JSON) instead of installing its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = MODELYARD_LOG_FORMAT == "plain"
