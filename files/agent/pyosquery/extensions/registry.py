"""The registry of extensions that registered with this manager, keyed by uuid."""

import random
import threading

# osquery hands out uuids from rand(): positive and within 31 bits.
_UUID_LIMIT = 2 ** 31 - 1


class ExtensionRegistry:
    """Registered extensions: uuid -> (info, routes). Safe to use from several server threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries = {}
        self._random = random.SystemRandom()

    def register(self, info, routes):
        """Add an extension; return (uuid, None), or (None, reason) if the name is taken."""
        with self._lock:
            if any(entry[0].name == info.name for entry in self._entries.values()):
                return None, "Duplicate extension registered"
            uuid = self._new_uuid()
            self._entries[uuid] = (info, dict(routes or {}))
            return uuid, None

    def deregister(self, uuid):
        """Remove an extension; return whether it was registered."""
        with self._lock:
            return self._entries.pop(uuid, None) is not None

    def infos(self):
        """uuid -> the info the extension registered with."""
        with self._lock:
            return {uuid: entry[0] for uuid, entry in self._entries.items()}

    def routes(self, uuid):
        """The registry (plugin routes) an extension registered, or None."""
        with self._lock:
            entry = self._entries.get(uuid)
            return None if entry is None else entry[1]

    def _new_uuid(self):
        while True:
            uuid = self._random.randint(1, _UUID_LIMIT)
            if uuid not in self._entries:
                return uuid
