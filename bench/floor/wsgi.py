import os

from django.core.wsgi import get_wsgi_application

# Forced, not setdefault: an inherited DJANGO_SETTINGS_MODULE=config.settings must not turn the floor into Modelyard.
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.floor.settings"
application = get_wsgi_application()
