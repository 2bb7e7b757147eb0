"""Short status texts and secret redaction.

Juju shows a unit's status message in one line, so messages are kept short;
`redact` is applied to anything that could echo a secret (command lines,
stderr, exception text) before it reaches a log, a status or an action result.
"""

import re

MAX_LEN = 120
MASK = "***"


def redact(text, secrets):
    """Replace every occurrence of each secret (case-insensitive) by ``***``."""
    if text is None:
        return text
    text = str(text)
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = re.sub(re.escape(str(secret)), MASK, text, flags=re.IGNORECASE)
    return text


def short(text, limit=MAX_LEN):
    """One line, at most ``limit`` characters."""
    line = " ".join(str(text).split())
    if len(line) <= limit:
        return line
    return line[:limit - 3].rstrip() + "..."


def error_message(error, secrets=(), limit=MAX_LEN):
    """The status/action text for an exception: redacted and at most ``limit`` long."""
    return short(redact(str(error), secrets), limit)


def ready(component, detail=None):
    return short("{} ready{}".format(component, ": " + detail if detail else ""))


def waiting_for(what):
    return short("waiting for {}".format(what))


def blocked(what):
    return short(what)


def not_configured(action="configure"):
    return "run the '{}' action".format(action)
