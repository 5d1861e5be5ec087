import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Each web worker loads the aliased versions in the background; /readyz reports ready once done.
from serving import warmup  # noqa: E402

warmup.start()
