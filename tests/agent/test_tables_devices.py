"""usb_devices and pci_devices: sysfs trees as the kernel lays them out, and this host's PCI bus."""

import os

from tablecheck import assert_contract, generate
from fakehost import sysfs_device
from pyosquery.tables import _hwids, devices

PCI_IDS = """# a pci.ids excerpt
8086  Intel Corporation
\t1237  440FX - 82441FX PMC [Natoma]
\t\t1af4 1100  Qemu virtual machine
1af4  Red Hat, Inc.
C 06  Bridge
\t00  Host bridge
"""


def test_usb_devices_from_sysfs(fake_host):
    fake_host.make("usb_devices")         # a SanDisk stick, 1-1
    bus = fake_host.root / "sys/bus/usb/devices"
    sysfs_device(bus, "1-1:1.0", bInterfaceClass="08")           # an interface, not a device
    sysfs_device(bus, "usb1", idVendor="1d6b", idProduct="0002", product="EHCI Host Controller",
                 busnum="1", devnum="1", removable="unknown")
    rows = assert_contract("usb_devices", generate("usb_devices"))
    assert [r["model"] for r in rows] == ["Ultra", "EHCI Host Controller"]
    assert rows[0] == {"usb_address": 1, "usb_port": 3, "vendor": "SanDisk", "vendor_id": "0781", "version": "0100",
                       "model": "Ultra", "model_id": "5581", "serial": "4C53", "class": "00", "subclass": "00",
                       "protocol": "00", "removable": 1}
    assert rows[1]["removable"] == 0


def test_pci_devices_with_names_from_pci_ids(monkeypatch, tmp_path):
    device = sysfs_device(tmp_path / "bus", "0000:00:00.0", vendor="0x8086", device="0x1237",
                          subsystem_vendor="0x1af4", subsystem_device="0x1100", **{"class": "0x060000"})
    (tmp_path / "drivers" / "piix").mkdir(parents=True)
    os.symlink(str(tmp_path / "drivers" / "piix"), str(device / "driver"))
    monkeypatch.setattr(devices, "PCI_ROOT", str(tmp_path / "bus"))
    monkeypatch.setattr(_hwids, "database", lambda name: _hwids.Names(PCI_IDS))
    rows = assert_contract("pci_devices", generate("pci_devices"))
    assert rows == [{"pci_slot": "0000:00:00.0", "pci_class": "Bridge", "driver": "piix", "vendor": "Intel Corporation",
                     "vendor_id": "8086", "model": "440FX - 82441FX PMC [Natoma]", "model_id": "1237",
                     "pci_class_id": "06", "pci_subclass_id": "00", "pci_subclass": "Host bridge",
                     "subsystem_vendor_id": "1af4", "subsystem_vendor": "Red Hat, Inc.", "subsystem_model_id": "1100",
                     "subsystem_model": "Qemu virtual machine"}]


def test_this_hosts_buses(query):
    pci = query("SELECT pci_slot, vendor_id FROM pci_devices")
    slots = sorted(os.listdir(devices.PCI_ROOT)) if os.path.isdir(devices.PCI_ROOT) else []
    assert [r["pci_slot"] for r in pci] == slots
    usb = query("SELECT vendor_id FROM usb_devices")
    if not os.path.isdir(devices.USB_ROOT):
        assert usb == []        # no USB bus on this host: no rows, no error
