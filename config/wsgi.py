import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from config.serving_handler import ServingHandler, dispatch  # noqa: E402  (needs Django set up)

# Prediction routes take a lean handler; everything else the full middleware stack.
application = dispatch(django_application, ServingHandler())

# Each web worker loads the aliased versions in the background; /readyz reports ready once done.
from serving import warmup  # noqa: E402

warmup.start()
