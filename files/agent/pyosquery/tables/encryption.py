"""disk_encryption: which block devices are dm-crypt mappings, from sysfs and the device mapper.

A mapping whose device-mapper UUID starts with CRYPT- (what cryptsetup gives LUKS and plain
dm-crypt devices) is encrypted; its cipher comes from `dmsetup table` (the key is never shown
without --showkeys). Every other block device is listed as not encrypted, as osquery does.
"""

import os
import shutil

from pyosquery.tables import _os

CLASS_BLOCK = "/sys/class/block"
BY_UUID = "/dev/disk/by-uuid"
DMSETUP = "dmsetup"
DMSETUP_TIMEOUT = 10


def _uuids():
    """Device name -> filesystem/LUKS UUID, from udev's /dev/disk/by-uuid links."""
    result = {}
    for uuid in _os.list_dir(BY_UUID):
        target = _os.read_link(os.path.join(BY_UUID, uuid))
        if target:
            result[os.path.basename(target)] = uuid
    return result


def dm_cipher(mapping):
    """The cipher of a dm-crypt mapping ('aes-xts-plain64'), or '' when dmsetup cannot tell."""
    program = shutil.which(DMSETUP)
    if program is None:
        return ""
    for line in _os.command_output([program, "table", mapping], DMSETUP_TIMEOUT).splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[2] == "crypt":
            return fields[3]
    return ""


def _row(name, uuids):
    dm_uuid = (_os.read_text(os.path.join(CLASS_BLOCK, name, "dm", "uuid")) or "").strip()
    row = {"name": "/dev/" + name, "uuid": uuids.get(name, ""), "encrypted": 0, "type": "",
           "encryption_status": "not encrypted"}
    if dm_uuid.startswith("CRYPT-"):
        mapping = (_os.read_text(os.path.join(CLASS_BLOCK, name, "dm", "name")) or "").strip()
        row.update(encrypted=1, type=dm_cipher(mapping) if mapping else "", encryption_status="encrypted")
    return row


def gen_disk_encryption(context):
    names = context.equals("name")
    uuids = _uuids()
    for name in sorted(_os.list_dir(CLASS_BLOCK)):
        if names is None or "/dev/" + name in names:
            yield _row(name, uuids)
