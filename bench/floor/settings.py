"""Settings for the floor project: only what Django needs to route one view."""

SECRET_KEY = "bench-floor-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
# No middleware at all: the floor is the cheapest a Django view can be.
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.floor.urls"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
# Same body limit as Modelyard (MODELYARD_MAX_BODY_BYTES default), so 1,000-row bodies pass both.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
