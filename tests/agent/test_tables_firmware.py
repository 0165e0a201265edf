"""platform_info and cpu_info from SMBIOS (no SMBIOS, no rows, as in osquery)."""

import hashlib
import os

from tablecheck import assert_contract, generate
from fakehost import bios, processor, smbios_structure
from pyosquery.tables import firmware


def test_platform_info_from_smbios(monkeypatch):
    table = bios() + smbios_structure(127, b"", [])
    monkeypatch.setattr(firmware._os, "read_bytes", lambda path, limit=-1: table)
    rows = assert_contract("platform_info", generate("platform_info"))
    assert rows == [{"vendor": "ACME Corp", "version": "1.2.3", "date": "01/02/2024", "address": "0xe800",
                     "size": str(16 * 64 * 1024), "revision": "2.7", "volume_size": 0, "extra": "",
                     "firmware_type": "uefi" if os.path.isdir("/sys/firmware/efi") else "bios"}]


def test_cpu_info_from_smbios(monkeypatch):
    table = bios() + processor("CPU0", 8) + processor("CPU1", 8) + smbios_structure(127, b"", [])
    monkeypatch.setattr(firmware._os, "read_bytes", lambda path, limit=-1: table)
    rows = assert_contract("cpu_info", generate("cpu_info"))
    assert [r["device_id"] for r in rows] == ["CPU0", "CPU1"]
    assert rows[0]["socket_designation"] == "CPU0" and rows[1]["socket_designation"] == "CPU1"
    assert (rows[0]["manufacturer"], rows[0]["model"]) == ("Intel(R) Corporation", "Xeon Gold")
    assert (rows[0]["number_of_cores"], rows[0]["logical_processors"]) == ("8", 16)
    assert (rows[0]["max_clock_speed"], rows[0]["current_clock_speed"]) == (3800, 2400)
    assert rows[0]["address_width"] == "64" and rows[0]["processor_type"] == "3"


def test_truncated_smbios_is_not_fatal(monkeypatch):
    monkeypatch.setattr(firmware._os, "read_bytes", lambda path, limit=-1: bios()[:30])
    assert not generate("platform_info")


def test_platform_info_runs(query):
    rows = query("SELECT * FROM platform_info")
    assert len(rows) <= 1
    if not os.access(firmware.DMI_TABLE, os.R_OK):
        assert rows == []


def test_cpu_info_without_smbios_has_no_rows(query, monkeypatch, tmp_path):
    # osquery's cpu_info reads SMBIOS only: no table (a container, some VMs), no rows, even
    # though /proc/cpuinfo describes the processors
    monkeypatch.setattr(firmware, "DMI_TABLE", str(tmp_path / "no-DMI"))
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        assert "processor" in handle.read()
    assert query("SELECT * FROM cpu_info") == []


def test_smbios_tables_one_row_per_structure(monkeypatch):
    table = bios() + processor("CPU0", 4) + smbios_structure(127, b"", [])
    monkeypatch.setattr(firmware._os, "read_bytes", lambda path, limit=-1: table)
    rows = assert_contract("smbios_tables", generate("smbios_tables"))
    assert [(r["number"], r["type"], r["description"]) for r in rows] == [
        (0, 0, "BIOS Information"), (1, 4, "Processor Information"), (2, 127, "End-of-Table")]
    structure = bios()
    assert rows[0]["size"] == len(structure) and rows[0]["header_size"] == 0x18 and rows[0]["handle"] == 0x100
    assert rows[0]["md5"] == hashlib.md5(structure).hexdigest()


def test_acpi_tables_are_the_kernels_copies(monkeypatch, tmp_path):
    (tmp_path / "DSDT").write_bytes(b"DSDT-body")
    (tmp_path / "data").mkdir()         # the kernel's subdirectories are not tables
    monkeypatch.setattr(firmware, "ACPI_TABLES", str(tmp_path))
    assert assert_contract("acpi_tables", generate("acpi_tables")) == [
        {"name": "DSDT", "size": 9, "md5": hashlib.md5(b"DSDT-body").hexdigest()}]


def test_acpi_tables_on_this_host(query):
    rows = query("SELECT name, size FROM acpi_tables")
    if os.access(firmware.ACPI_TABLES, os.R_OK):
        names = [n for n in os.listdir(firmware.ACPI_TABLES) if os.path.isfile(os.path.join(firmware.ACPI_TABLES, n))]
        assert sorted(r["name"] for r in rows) == sorted(names)


def test_cpuid_matches_the_kernels_flags(query):
    rows = query("SELECT * FROM cpuid")
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        info = handle.read()
    flags_line = [line for line in info.splitlines() if line.startswith("flags")]
    if not flags_line:      # not x86: no cpuid
        assert rows == []
        return
    flags = set(flags_line[0].split(":", 1)[1].split())
    features = {r["feature"]: r for r in rows}
    assert features["SSE2"] == {"feature": "SSE2", "value": "1" if "sse2" in flags else "0",
                                "output_register": "edx", "output_bit": 26, "input_eax": "1"}
    assert features["SSE4.2"]["value"] == ("1" if "sse4_2" in flags else "0")
    assert features["AVX2"]["input_eax"] == "7" and features["AVX2"]["output_bit"] == 5
    assert features["vendor"]["value"] in info
