"""Storage tables: mounts (/proc/mounts + statfs) and block_devices (/sys/class/block)."""

import os
import re
import struct

from pyosquery.tables import _os

STATFS_COLUMNS = ("blocks_size", "blocks", "blocks_free", "blocks_available", "inodes", "inodes_free")
_ESCAPE = re.compile(r"\\([0-7]{3})")


def _unescape(field):
    """getmntent's decoding of /proc/mounts: spaces, tabs, newlines and backslashes as \\ooo."""
    return _ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), field)


def _statfs(path):
    try:
        info = os.statvfs(path)
    except OSError:
        return None
    return (info.f_bsize, info.f_blocks, info.f_bfree, info.f_bavail, info.f_files, info.f_ffree)


def gen_mounts(context):
    wants_statfs = any(context.uses(column) for column in STATFS_COLUMNS)
    rows = []
    for line in _os.read_lines("/proc/mounts"):
        fields = line.split()
        if len(fields) < 4:
            continue
        device, path, fs_type, flags = (_unescape(field) for field in fields[:4])
        row = {"device": device, "path": path, "type": fs_type, "flags": flags,
               "device_alias": os.path.realpath(device) if device.startswith("/") else device}
        # autofs is not asked: statfs on it would trigger the automount
        values = _statfs(path) if wants_statfs and fs_type != "autofs" else None
        row.update(zip(STATFS_COLUMNS, values or (0,) * len(STATFS_COLUMNS)))
        rows.append(row)
    return rows


# --- block_devices -----------------------------------------------------------------------

SYS_BLOCK = "/sys/class/block"
UDEV_DATA = "/run/udev/data"


def _attr(path):
    value = _os.read_text(path)
    return None if value is None else value.strip()


def _uevent(sys_path):
    return _os.key_values(os.path.join(sys_path, "uevent"), "=")


def _udev_properties(major_minor):
    """udev's database entry for a block device (E:KEY=value lines), if udev runs."""
    props = {}
    for line in _os.read_lines("%s/b%s" % (UDEV_DATA, major_minor)):
        if line.startswith("E:"):
            key, _, value = line[2:].partition("=")
            props[key] = value
    return props


def _scsi_parent(sys_path):
    """The SCSI device above a disk or partition (its vendor/model describe the drive)."""
    path = os.path.realpath(sys_path)
    while path not in ("/", "/sys", "/sys/devices"):
        subsystem = _os.read_link(os.path.join(path, "subsystem")) or ""
        if os.path.basename(subsystem) == "scsi" and os.path.exists(os.path.join(path, "model")):
            return path
        path = os.path.dirname(path)
    return None


def _parent(name, sys_path):
    """The disk of a partition; for device-mapper volumes, the device below them."""
    real = os.path.realpath(sys_path)
    parent = os.path.dirname(real)
    if os.path.basename(_os.read_link(os.path.join(parent, "subsystem")) or "") == "block":
        return "/dev/" + (_uevent(parent).get("DEVNAME") or os.path.basename(parent))
    slaves = sorted(_os.list_dir(os.path.join(sys_path, "slaves")))
    if name.startswith("dm-") and slaves:
        return "/dev/" + slaves[0]
    return None


def _probe_superblock(devnode):
    """Filesystem type, UUID and label for the common Linux filesystems, like blkid's probe."""
    try:
        with open(devnode, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return {}
    if len(head) >= 0x88 and head[0x438:0x43a] == b"\x53\xef":
        compat, incompat, ro_compat = struct.unpack_from("<III", head, 0x45c)
        # features ext3 lacks make it ext4; a journal alone makes it ext3
        kind = "ext4" if incompat & ~0x16 or ro_compat & ~0x7 else "ext3" if compat & 0x4 else "ext2"
        return {"type": kind, "uuid": _uuid(head[0x468:0x478]), "label": _label(head[0x478:0x488])}
    if head[:4] == b"XFSB":
        return {"type": "xfs", "uuid": _uuid(head[32:48]), "label": _label(head[108:120])}
    if head[4086:4096] in (b"SWAPSPACE2", b"SWAP-SPACE"):
        return {"type": "swap", "uuid": _uuid(head[1036:1052]), "label": _label(head[1052:1068])}
    return {}


def _uuid(raw):
    text = raw.hex()
    return "%s-%s-%s-%s-%s" % (text[:8], text[8:12], text[12:16], text[16:20], text[20:])


def _label(raw):
    label = raw.split(b"\0", 1)[0].decode("utf-8", "replace")
    return label or None


def _filesystem(devnode, props):
    if props:
        found = {"type": props.get("ID_FS_TYPE"), "uuid": props.get("ID_FS_UUID"),
                 "label": props.get("ID_FS_LABEL")}
        return {key: value for key, value in found.items() if value}
    return _probe_superblock(devnode)


def _block_device(name, context):
    sys_path = os.path.join(SYS_BLOCK, name)
    uevent = _uevent(sys_path)
    if not uevent:
        return None
    devnode = "/dev/" + uevent.get("DEVNAME", name)
    row = {"name": devnode, "parent": _parent(name, sys_path)}
    size = _attr(os.path.join(sys_path, "size"))
    row["size"] = int(size) if size and size.isdigit() else None
    block_size = _attr(os.path.join(sys_path, "queue", "logical_block_size"))
    row["block_size"] = int(block_size) if block_size and block_size.isdigit() else None
    scsi = _scsi_parent(sys_path)
    if scsi:
        row["model"] = _attr(os.path.join(scsi, "model"))
        row["vendor"] = _attr(os.path.join(scsi, "vendor"))
    props = _udev_properties(uevent.get("MAJOR", "") + ":" + uevent.get("MINOR", ""))
    disk = sys_path if uevent.get("DEVTYPE") != "partition" else os.path.dirname(os.path.realpath(sys_path))
    row["serial"] = props.get("ID_SERIAL_SHORT") or _attr(os.path.join(disk, "serial")) \
        or _attr(os.path.join(disk, "device", "serial"))
    if context.uses("type") or context.uses("uuid") or context.uses("label"):
        row.update(_filesystem(devnode, props))
    return row


def gen_block_devices(context):
    names = context.equals("name")
    if names is None:
        candidates = sorted(_os.list_dir(SYS_BLOCK))
    else:
        # name is indexed: look at the named devices only ("/dev/sda1" -> sda1)
        candidates = sorted({os.path.basename(n) for n in names if isinstance(n, str) and n})
    rows = []
    for name in candidates:
        row = _block_device(name, context)
        if row is not None:
            rows.append(row)
    return rows
