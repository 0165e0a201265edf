"""The publishers the agent knows, by osquery's publisher names, imported only when used.

A host without audit support never imports the audit code; a publisher module that is not there
(yet) is skipped with a debug line. PYOSQUERY_EVENT_PUBLISHERS ("name=module:Class,...") adds or
replaces entries: a publisher shipped outside the agent, and the tests' own publisher.
"""

import importlib
import logging
import os

LOG = logging.getLogger("pyosquery.events")

PUBLISHERS = {
    "inotify": "pyosquery.events.inotify:InotifyPublisher",
    "auditeventpublisher": "pyosquery.events.audit.publisher:AuditPublisher",
}
ENVIRONMENT = "PYOSQUERY_EVENT_PUBLISHERS"


def entries(environ=None):
    """{publisher name: "module:Class"}: the built-in ones, then the environment's."""
    result = dict(PUBLISHERS)
    extra = (os.environ if environ is None else environ).get(ENVIRONMENT, "")
    for item in filter(None, (part.strip() for part in extra.split(","))):
        name, sep, target = item.partition("=")
        if not sep or ":" not in target:
            LOG.warning("%s: %r is not name=module:Class; ignored", ENVIRONMENT, item)
            continue
        result[name.strip()] = target.strip()
    return result


def load(name, target):
    """The publisher class `target` names, or None (logged) when its module is not there."""
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if module_name != missing and not module_name.startswith(missing + "."):
            raise       # the module is there but imports something missing: a real fault
        LOG.debug("Event publisher %s: no module %s; skipped", name, module_name)
        return None
    return getattr(module, class_name)


def publisher_classes(environ=None):
    """[(name, class)] of every publisher whose module is there."""
    found = []
    for name, target in entries(environ).items():
        cls = load(name, target)
        if cls is not None:
            found.append((name, cls))
    return found
