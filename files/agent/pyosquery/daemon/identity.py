"""host_identifier: the name a host's result lines carry (osquery's five choices)."""

import socket
import uuid

from pyosquery.tables import _os

DMI_UUID = "/sys/class/dmi/id/product_uuid"
# firmware placeholders that many machines share, so they identify nothing
PLACEHOLDERS = {"03000200-0400-0500-0006-000700080009", "00000000-0000-0000-0000-000000000000",
                "ffffffff-ffff-ffff-ffff-ffffffffffff"}


def hostname():
    return socket.gethostname().strip()


def hardware_uuid(store):
    """The DMI product UUID, else a random one kept in the store."""
    value = (_os.read_text(DMI_UUID) or "").strip().lower()
    if value and value not in PLACEHOLDERS:
        return value
    return stored_uuid(store, "host_uuid_v3")


def stored_uuid(store, key):
    value = store.get(key)
    if not value:
        value = str(uuid.uuid4())
        store.put(key, value)
    return value


class Identity:
    """Resolves --host_identifier once (hostname is re-read each time, as osquery does)."""

    def __init__(self, values, store):
        self.kind = values.host_identifier
        self.specified = values.specified_identifier
        self.store = store
        self.ephemeral = str(uuid.uuid4())
        self.cached = None

    def __call__(self):
        if self.kind == "hostname" or (self.kind == "specified" and not self.specified):
            return hostname()
        if self.cached is None:
            try:
                self.cached = self._resolve()
            except Exception:   # pylint: disable=broad-except  # any failure falls back to the hostname
                return hostname()
        return self.cached

    def _resolve(self):
        if self.kind == "uuid":
            return hardware_uuid(self.store)
        if self.kind == "instance":
            return stored_uuid(self.store, "instance_uuid_v1")
        if self.kind == "ephemeral":
            return self.ephemeral
        return self.specified
