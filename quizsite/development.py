"""The service's settings in development: quizsite.settings with DEBUG on.

The service itself defaults to production (DEBUG off, a SECRET_KEY of your own). The test
run (pytest's DJANGO_SETTINGS_MODULE) and mypy's Django plugin load this module instead,
so they are in development however they are started; processes they start inherit it.
`make run` and `make test` also say DEBUG=true themselves (Makefile, quizsite.devstack).
"""

import os

os.environ["DEBUG"] = "true"

from quizsite.settings import *  # noqa: F403
