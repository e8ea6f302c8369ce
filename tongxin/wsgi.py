"""The WSGI application, for gunicorn in production and for ``runserver``.

It refuses to start with DEBUG off while the data key sits inside the data directory, unless
``TONGXIN_ACCEPT_KEY_IN_DATA_DIR=1`` accepts the risk (docs/data-key.md). System checks do not
run under WSGI, so the refusal is here rather than only in ``check --deploy``.
"""

import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

from tongxin.lib.crypto import key_location_problem

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongxin.settings")
application = get_wsgi_application()

if problem := key_location_problem():
    raise ImproperlyConfigured(problem)
