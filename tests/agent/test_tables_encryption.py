"""disk_encryption: dm-crypt mappings in a sysfs tree as the kernel lays it out, and this host."""

import os

from tablecheck import assert_contract, generate
from pyosquery.tables import encryption


def _block(root, name, dm_uuid=None, dm_name=None):
    path = root / name
    path.mkdir(parents=True)
    if dm_uuid is not None:
        (path / "dm").mkdir()
        (path / "dm" / "uuid").write_text(dm_uuid + "\n")
        (path / "dm" / "name").write_text(dm_name + "\n")


def test_dm_crypt_mappings_are_encrypted(monkeypatch, tmp_path):
    _block(tmp_path / "block", "sda")
    _block(tmp_path / "block", "dm-0", "CRYPT-LUKS2-2f1f5b6a0c0e4b7a9d8e6f5a4b3c2d1e-cryptroot", "cryptroot")
    _block(tmp_path / "block", "dm-1", "LVM-abcdef", "vg-root")
    (tmp_path / "by-uuid").mkdir()
    os.symlink("../../sda", str(tmp_path / "by-uuid" / "1111-2222"))
    monkeypatch.setattr(encryption, "CLASS_BLOCK", str(tmp_path / "block"))
    monkeypatch.setattr(encryption, "BY_UUID", str(tmp_path / "by-uuid"))
    monkeypatch.setattr(encryption, "dm_cipher", lambda mapping: "aes-xts-plain64" if mapping == "cryptroot" else "")
    rows = {r["name"]: r for r in assert_contract("disk_encryption", generate("disk_encryption"))}
    assert rows["/dev/dm-0"] == {"name": "/dev/dm-0", "uuid": "", "encrypted": 1, "type": "aes-xts-plain64",
                                 "encryption_status": "encrypted"}
    assert rows["/dev/dm-1"]["encrypted"] == 0 and rows["/dev/dm-1"]["encryption_status"] == "not encrypted"
    assert rows["/dev/sda"]["uuid"] == "1111-2222"
    only = generate("disk_encryption", {"name": [("=", "/dev/sda")]})
    assert [r["name"] for r in only] == ["/dev/sda"]


def test_dmsetup_table_gives_the_cipher(monkeypatch):
    line = "0 2097152 crypt aes-xts-plain64 :64:logon:cryptsetup:abc 0 7:0 32768\n"
    monkeypatch.setattr(encryption.shutil, "which", lambda name: "/sbin/dmsetup")
    monkeypatch.setattr(encryption._os, "command_output", lambda argv, timeout: line)
    assert encryption.dm_cipher("cryptroot") == "aes-xts-plain64"


def test_every_block_device_of_this_host(query):
    rows = query("SELECT name, encrypted FROM disk_encryption")
    assert sorted(r["name"] for r in rows) == sorted("/dev/" + n for n in os.listdir(encryption.CLASS_BLOCK))
