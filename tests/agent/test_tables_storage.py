"""mounts and block_devices."""

import os
import subprocess

import pytest

from tablecheck import assert_contract, generate, visible_columns
from pyosquery.tables import storage


def _proc_mounts():
    with open("/proc/mounts", encoding="utf-8") as handle:
        return [line.split()[:4] for line in handle]


def test_mounts_keep_the_contract(query):
    assert_contract("mounts")
    assert list(query("SELECT * FROM mounts")[0]) == visible_columns("mounts")


def test_mounts_are_proc_mounts(query):
    rows = query("SELECT device, path, type, flags FROM mounts")
    assert [[r["device"], r["path"], r["type"], r["flags"]] for r in rows] == _proc_mounts()


def test_mounts_agree_with_findmnt(query):
    found = subprocess.run(["findmnt", "-rn", "--kernel", "-o", "TARGET,FSTYPE"], check=True,
                           capture_output=True, text=True).stdout.split("\n")
    targets = {line.split(" ")[0].encode().decode("unicode_escape") for line in found if line}
    assert {r["path"] for r in query("SELECT path FROM mounts")} == targets


def test_root_statfs_columns(query):
    row = query("SELECT * FROM mounts WHERE path = '/'")[-1]
    info = os.statvfs("/")
    assert row["blocks_size"] == info.f_bsize
    assert row["blocks"] == info.f_blocks
    assert row["inodes"] == info.f_files
    # free counts move with the system: same order of magnitude is all that can be asserted
    assert abs(row["blocks_free"] - info.f_bfree) < max(info.f_blocks // 100, 1000)
    assert row["blocks_available"] <= row["blocks_free"]
    assert row["device_alias"] == os.path.realpath(row["device"])


def test_mounts_skip_statfs_when_unused(monkeypatch):
    monkeypatch.setattr(storage, "_statfs", lambda path: (_ for _ in ()).throw(AssertionError(path)))
    rows = generate("mounts", used={"path", "type"})
    assert rows and rows[0]["blocks"] == 0


def test_mount_escapes_are_decoded(monkeypatch):
    monkeypatch.setattr(storage._os, "read_lines",
                        lambda path: ["/dev/sdb1 /media/my\\040disk vfat rw,relatime 0 0",
                                      "auto /net autofs rw 0 0"])
    monkeypatch.setattr(storage, "_statfs", lambda path: (4096, 10, 5, 4, 100, 50))
    rows = assert_contract("mounts", generate("mounts"))
    assert rows[0]["path"] == "/media/my disk" and rows[0]["blocks"] == 10
    assert rows[1]["blocks"] == 0        # autofs is never statfs'ed (that would mount it)


def _lsblk():
    out = subprocess.run(["lsblk", "-b", "-P", "-o", "NAME,SIZE,PKNAME,TYPE"], check=True,
                         capture_output=True, text=True).stdout
    devices = {}
    for line in out.splitlines():
        fields = dict(part.split("=", 1) for part in line.split(" "))
        devices["/dev/" + fields["NAME"].strip('"')] = {k: v.strip('"') for k, v in fields.items()}
    return devices


def test_block_devices_keep_the_contract(query):
    assert_contract("block_devices")
    assert list(query("SELECT * FROM block_devices")[0]) == visible_columns("block_devices")


def test_block_devices_agree_with_lsblk(query):
    rows = {r["name"]: r for r in query("SELECT * FROM block_devices")}
    for name, info in _lsblk().items():
        assert name in rows
        assert rows[name]["size"] * 512 == int(info["SIZE"])
        parent = info["PKNAME"]
        if info["TYPE"] == "part":
            assert rows[name]["parent"] == "/dev/" + parent


@pytest.fixture()
def ext4_device(tmp_path):
    """A real block device holding a filesystem: an ext4 image attached to a loop device."""
    image = tmp_path / "disk.img"
    with open(image, "wb") as handle:
        handle.truncate(8 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-L", "fixture", str(image)], check=True)
    device = subprocess.run(["losetup", "--find", "--show", str(image)], check=True, capture_output=True,
                            text=True).stdout.strip()
    yield device
    subprocess.run(["losetup", "--detach", device], check=True)


def test_block_devices_fs_type_agrees_with_blkid(query, ext4_device):
    rows = query("SELECT name, type, uuid, label FROM block_devices WHERE type IS NOT NULL")
    assert (ext4_device, "ext4", "fixture") in [(r["name"], r["type"], r["label"]) for r in rows]
    for row in rows:
        probe = subprocess.run(["blkid", "-o", "export", row["name"]], check=False, capture_output=True,
                               text=True).stdout
        values = dict(line.split("=", 1) for line in probe.splitlines() if "=" in line)
        assert row["type"] == values.get("TYPE")
        assert row["uuid"] == values.get("UUID")


def test_block_devices_name_is_indexed(query, monkeypatch):
    name = sorted(_lsblk())[0]
    assert [r["name"] for r in query("SELECT name FROM block_devices WHERE name = '%s'" % name)] == [name]
    listed = []
    real = storage._os.list_dir
    monkeypatch.setattr(storage._os, "list_dir", lambda path: listed.append(path) or real(path))
    rows = generate("block_devices", {"name": [("=", name)]})
    assert [r["name"] for r in rows] == [name]
    assert storage.SYS_BLOCK not in listed


def test_ext4_superblock_probe(tmp_path):
    image = bytearray(4096)
    image[0x438:0x43a] = b"\x53\xef"
    image[0x45c:0x468] = (0x4).to_bytes(4, "little") + (0x2c2).to_bytes(4, "little") + (1).to_bytes(4, "little")
    image[0x468:0x478] = bytes(range(16))
    image[0x478:0x47d] = b"data\0"
    path = tmp_path / "disk.img"
    path.write_bytes(bytes(image))
    assert storage._probe_superblock(str(path)) == {
        "type": "ext4", "uuid": "00010203-0405-0607-0809-0a0b0c0d0e0f", "label": "data"}
