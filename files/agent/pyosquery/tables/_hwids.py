"""Vendor, device and class names from the pci.ids / usb.ids databases (hwdata, pciutils, usbutils).

Both files share one format: `vvvv  Vendor`, `<TAB>dddd  Device`, `<TAB><TAB>ssss ssss  Subsystem`,
and `C cc  Class`, `<TAB>ss  Subclass`. A host without the database gets empty names, as
osquery's udev lookups return nothing there.
"""

import functools

from pyosquery.tables import _os

SEARCH = {
    "pci.ids": ("/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids", "/usr/share/pci.ids"),
    "usb.ids": ("/usr/share/misc/usb.ids", "/usr/share/hwdata/usb.ids", "/var/lib/usbutils/usb.ids"),
}


class Names:
    """Lookups in one ids database; ids are lower-case hex without 0x."""

    def __init__(self, text=""):
        self.vendors, self.devices, self.subsystems, self.classes = {}, {}, {}, {}
        self._parse(text)

    def _parse(self, text):
        vendor = klass = None
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            depth = len(line) - len(line.lstrip("\t"))
            key, _, name = line.strip().partition("  ")
            key = key.lower()
            if depth == 0:
                vendor = klass = None
                if key.startswith("c "):
                    klass = key[2:]
                    self.classes[klass] = name
                elif len(key) == 4:
                    vendor = key
                    self.vendors[key] = name
            elif depth == 1 and klass is not None:
                self.classes[klass + key] = name
            elif depth == 1 and vendor is not None:
                self.devices[vendor + key] = name
            elif depth == 2 and vendor is not None:
                self.subsystems[key.replace(" ", "")] = name

    def vendor(self, vendor_id):
        return self.vendors.get(vendor_id, "")

    def device(self, vendor_id, device_id):
        return self.devices.get(vendor_id + device_id, "")

    def subsystem(self, vendor_id, device_id):
        return self.subsystems.get(vendor_id + device_id, "")

    def klass(self, class_id, subclass_id=""):
        return self.classes.get(class_id + subclass_id, "")


@functools.lru_cache(maxsize=None)
def database(name):
    """The parsed database (read once per process), empty when the host has none."""
    for path in SEARCH[name]:
        text = _os.read_text(path)
        if text:
            return Names(text)
    return Names()
