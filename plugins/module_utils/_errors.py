# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every error the collection raises, and how Cinder's HTTP answers are put into words.

Errors are raised deep and turned into one ``fail_json`` by the module base class. Pure: no
Ansible, openstacksdk or keystoneauth imports (the transports translate their own exceptions
into these).
"""
from __future__ import annotations


class CinderopsError(Exception):
    """An error for the user: one line, plus optional result keys."""

    def __init__(self, message, **extra):
        super().__init__(message)
        self.extra = extra


class InputError(CinderopsError, ValueError):
    """Bad input, found before any request; the message names the option."""


class ApiError(CinderopsError):
    """Cinder answered with an HTTP error."""

    def __init__(self, message, status_code=None, request_id=None, cinder_message=None):
        super().__init__(message, status_code=status_code, request_id=request_id)
        self.status_code = status_code
        self.request_id = request_id
        self.cinder_message = cinder_message


class ConnectionLost(CinderopsError):
    """No answer came back. ``sent`` says whether the request may have reached Cinder.

    A request that was never sent (connection refused, connect timeout) may always be sent
    again; one that was sent (reset, read timeout, a response lost on the way) may have
    taken effect, so a write is sent again only after looking for its effect.
    """

    def __init__(self, message, sent):
        super().__init__(message)
        self.sent = sent


class StaleSession(Exception):
    """A resumed session cannot go on (token refused, endpoint gone, discovery needed): connect in full.

    Raised only when nothing was sent, so the request can go out again on the full connection.
    """


class WaitError(CinderopsError):
    """A wait that ended without success; ``status`` is the last status seen."""

    def __init__(self, message, status=None, waited=0.0):
        super().__init__(message, status=status, waited=round(waited, 1))
        self.status = status
        self.waited = waited


class WaitTimeout(WaitError):
    pass


class WaitFailed(WaitError):
    pass


def one_line(exc):
    """One line for any error (a worker's outcome, a report entry)."""
    if isinstance(exc, CinderopsError):
        text = str(exc)
    else:
        text = "unexpected error: %s: %s" % (type(exc).__name__, exc)
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------------- HTTP answers

STATUS_TEXT = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 406: "Not Acceptable",
               409: "Conflict", 413: "Request Entity Too Large", 429: "Too Many Requests", 500: "Internal Server Error",
               502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def cinder_message(resp):
    """Cinder's error text: ``{"badRequest": {"code": 400, "message": "..."}}``."""
    try:
        body = resp.json()
    except ValueError:
        return (resp.text or "").strip()[:500]
    if isinstance(body, dict):
        for fault in body.values():
            if isinstance(fault, dict) and "message" in fault:
                return fault["message"]
        if "message" in body:
            return body["message"]
    return str(body)[:500]


def request_id_of(resp):
    return resp.headers.get("x-openstack-request-id") or resp.headers.get("x-compute-request-id")


def quota_name(message):
    """Which quota a 413 is about, from Cinder's text ("Maximum number of snapshots allowed (10) exceeded")."""
    lowered = message.lower()
    # The gigabytes text names snapshots too ("Requested volume or snapshot exceeds allowed gigabytes quota").
    if "gigabyte" in lowered or "size" in lowered:
        return "gigabytes"
    if "snapshot" in lowered:
        return "snapshots"
    if "volume" in lowered:
        return "volumes"
    return None


def explain_http_error(action, resp, microversion=None):
    """A one-line ApiError for an HTTP error answer, with what to do about it."""
    code = resp.status_code
    message = cinder_message(resp)
    request_id = request_id_of(resp)
    text = "%s: Cinder answered %d %s: %s" % (action, code, STATUS_TEXT.get(code, ""), message)
    if code == 403:
        text += " (the user's role does not allow this; a member or admin role is needed)"
    elif code == 406:
        text += " (microversion %s is not supported by this Cinder)" % microversion
    elif code == 413 and "would overflow" in message.lower():
        # Cinder 2026.2 and later (QuotaUsageOverflow): the usage counter's own limit, not the project's quota.
        text += (" (Cinder's usage counter for the %s quota would pass its largest value; raising the quota does "
                 "not help: ask the cloud's operators)" % (quota_name(message) or "named"))
    elif code == 413:
        quota = quota_name(message)
        text += " (%s quota exceeded; raise the project's quota or remove snapshots)" % quota if quota else \
            " (a quota was exceeded)"
    if request_id:
        text += " [request id %s]" % request_id
    return ApiError(text, status_code=code, request_id=request_id, cinder_message=message)
