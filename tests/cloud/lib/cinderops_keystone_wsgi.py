# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keystone's WSGI application for gunicorn.

oslo.config parses sys.argv; under gunicorn that holds gunicorn's own flags and
every worker would die with "unrecognized arguments", so clear it first.
"""
import sys

sys.argv = sys.argv[:1]

from keystone.server.wsgi import initialize_public_application  # noqa: E402

application = initialize_public_application()
