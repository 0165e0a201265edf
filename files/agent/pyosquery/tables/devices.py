"""usb_devices and pci_devices, from sysfs (what udev, which osquery asks, reads itself).

Names come from the usb.ids / pci.ids databases when the host has them (osquery's
ID_*_FROM_DATABASE), else from the device's own strings. A host without the bus in sysfs
(containers, some VMs) has no rows.
"""

import os

from pyosquery.tables import _hwids, _os

USB_ROOT = "/sys/bus/usb/devices"
PCI_ROOT = "/sys/bus/pci/devices"


def _attr(device, name):
    text = _os.read_text(os.path.join(device, name))
    return "" if text is None else text.strip()


def _hex4(text):
    """'0x8086' or '8086' -> '8086' (lower case, as osquery shows ids)."""
    text = text.lower()
    return text[2:] if text.startswith("0x") else text


def _int(text, default=0):
    try:
        return int(text)
    except ValueError:
        return default


def gen_usb_devices(context):
    names = _hwids.database("usb.ids") if context.uses("vendor") or context.uses("model") else _hwids.Names()
    for entry in sorted(_os.list_dir(USB_ROOT)):
        if ":" in entry:        # interfaces of a device, not devices
            continue
        device = os.path.join(USB_ROOT, entry)
        vendor_id, model_id = _hex4(_attr(device, "idVendor")), _hex4(_attr(device, "idProduct"))
        if not vendor_id:
            continue
        removable = _attr(device, "removable")
        yield {
            "usb_address": _int(_attr(device, "busnum")),
            "usb_port": _int(_attr(device, "devnum")),
            "vendor": names.vendor(vendor_id) or _attr(device, "manufacturer"),
            "vendor_id": vendor_id,
            "version": _attr(device, "bcdDevice"),
            "model": names.device(vendor_id, model_id) or _attr(device, "product"),
            "model_id": model_id,
            "serial": _attr(device, "serial"),
            "class": _attr(device, "bDeviceClass"),
            "subclass": _attr(device, "bDeviceSubClass"),
            "protocol": _attr(device, "bDeviceProtocol"),
            "removable": 1 if removable == "removable" else 0,
        }


def _pci_row(device, slot, names):
    vendor_id, model_id = _hex4(_attr(device, "vendor")), _hex4(_attr(device, "device"))
    sub_vendor_id, sub_model_id = _hex4(_attr(device, "subsystem_vendor")), _hex4(_attr(device, "subsystem_device"))
    code = _hex4(_attr(device, "class")).rjust(6, "0")
    class_id, subclass_id = code[0:2], code[2:4]
    driver = _os.read_link(os.path.join(device, "driver"))
    return {
        "pci_slot": slot,
        "pci_class": names.klass(class_id),
        "driver": os.path.basename(driver) if driver else "",
        "vendor": names.vendor(vendor_id),
        "vendor_id": vendor_id,
        "model": names.device(vendor_id, model_id),
        "model_id": model_id,
        "pci_class_id": class_id,
        "pci_subclass_id": subclass_id,
        "pci_subclass": names.klass(class_id, subclass_id),
        "subsystem_vendor_id": sub_vendor_id,
        "subsystem_vendor": names.vendor(sub_vendor_id),
        "subsystem_model_id": sub_model_id,
        "subsystem_model": names.subsystem(sub_vendor_id, sub_model_id),
    }


def gen_pci_devices(context):
    wants_names = any(context.uses(c) for c in ("pci_class", "vendor", "model", "pci_subclass",
                                                "subsystem_vendor", "subsystem_model"))
    names = _hwids.database("pci.ids") if wants_names else _hwids.Names()
    for slot in sorted(_os.list_dir(PCI_ROOT)):
        yield _pci_row(os.path.join(PCI_ROOT, slot), slot, names)
