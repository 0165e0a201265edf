"""Firmware tables: platform_info, cpu_info and smbios_tables from SMBIOS; acpi_tables from the kernel's copies.

The kernel exports the raw SMBIOS structure table at /sys/firmware/dmi/tables/DMI (root only),
so no /dev/mem mapping is needed. Hosts without SMBIOS (some VMs, containers) have no
platform_info and no cpu_info rows, as with osquery (linux/cpu_info.cpp reads SMBIOS only).
"""

import hashlib
import os
import struct

from pyosquery.tables import _os

DMI_TABLE = "/sys/firmware/dmi/tables/DMI"
ACPI_TABLES = "/sys/firmware/acpi/tables"
TYPE_BIOS = 0
TYPE_PROCESSOR = 4
# SMBIOS processor type (offset 0x05) -> the prefix osquery gives device_id
PROCESSOR_TYPES = {3: "CPU", 4: "MATH", 5: "DSP", 6: "GPU"}
# SMBIOS structure types, named as the specification (and osquery's smbios_tables) names them
SMBIOS_TYPES = dict(enumerate((
    "BIOS Information", "System Information", "Base Board or Module Information", "System Enclosure or Chassis",
    "Processor Information", "Memory Controller Information", "Memory Module Information", "Cache Information",
    "Port Connector Information", "System Slots", "On Board Devices Information", "OEM Strings",
    "System Configuration Options", "BIOS Language Information", "Group Associations", "System Event Log",
    "Physical Memory Array", "Memory Device", "32-bit Memory Error Information", "Memory Array Mapped Address",
    "Memory Device Mapped Address", "Built-in Pointing Device", "Portable Battery", "System Reset",
    "Hardware Security", "System Power Controls", "Voltage Probe", "Cooling Device", "Temperature Probe",
    "Electrical Current Probe", "Out-of-Band Remote Access", "Boot Integrity Services", "System Boot Information",
    "64-bit Memory Error Information", "Management Device", "Management Device Component",
    "Management Device Threshold Data", "Memory Channel", "IPMI Device Information", "System Power Supply",
    "Additional Information", "Onboard Devices Extended Information", "Management Controller Host Interface",
    "TPM Device")))
SMBIOS_TYPES.update({126: "Inactive", 127: "End-of-Table"})


def _structure_spans(data):
    """(start, end of formatted part, end of strings) of each structure of an SMBIOS table."""
    offset = 0
    while offset + 4 <= len(data):
        kind, length = data[offset], data[offset + 1]
        if length < 4 or offset + length > len(data):
            break
        end = data.find(b"\0\0", offset + length)
        if end < 0:
            break
        yield offset, offset + length, end
        if kind == 127:         # end-of-table
            break
        offset = end + 2


def smbios_structures(data=None):
    """(type, formatted bytes, [strings]) for each structure of the SMBIOS table."""
    if data is None:
        data = _os.read_bytes(DMI_TABLE) or b""
    for start, formatted_end, end in _structure_spans(data):
        strings = [s.decode("latin-1").rstrip() for s in data[formatted_end:end].split(b"\0")]
        yield data[start], data[start:formatted_end], strings


def gen_smbios_tables(_context):
    """One row per SMBIOS structure: its header, its size with the strings, and the MD5 of it all."""
    data = _os.read_bytes(DMI_TABLE) or b""
    for number, (start, formatted_end, end) in enumerate(_structure_spans(data)):
        kind = data[start]
        yield {"number": number, "type": kind, "description": SMBIOS_TYPES.get(kind, ""),
               "handle": _word(data, start + 2), "header_size": formatted_end - start,
               "size": end + 2 - start, "md5": hashlib.md5(data[start:end + 2]).hexdigest()}


def gen_acpi_tables(_context):
    """One row per ACPI table the kernel exports (root only), with its size and MD5."""
    for name in sorted(_os.list_dir(ACPI_TABLES)):
        path = os.path.join(ACPI_TABLES, name)
        content = None if os.path.isdir(path) else _os.read_bytes(path)
        if content is None:
            continue
        yield {"name": name, "size": len(content), "md5": hashlib.md5(content).hexdigest()}


def _string(formatted, strings, at):
    """The structure's string whose 1-based number is stored at byte `at` ("" for 0/none)."""
    if at >= len(formatted):
        return ""
    number = formatted[at]
    return strings[number - 1] if 0 < number <= len(strings) else ""


def _word(formatted, at):
    return struct.unpack_from("<H", formatted, at)[0] if at + 2 <= len(formatted) else 0


def _firmware_type():
    return "uefi" if os.path.isdir("/sys/firmware/efi") else "bios"


def gen_platform_info(_context):
    rows = []
    for kind, formatted, strings in smbios_structures():
        if kind != TYPE_BIOS or len(formatted) < 0x12:
            continue
        row = {"vendor": _string(formatted, strings, 0x04), "version": _string(formatted, strings, 0x05),
               "date": _string(formatted, strings, 0x08),
               # load segment, and the ROM size in 64 KiB blocks minus one
               "address": "0x%04x" % _word(formatted, 0x06),
               "size": str((formatted[0x09] + 1) * 64 * 1024),
               "volume_size": 0, "extra": "", "firmware_type": _firmware_type()}
        if len(formatted) > 0x15:
            row["revision"] = "%d.%d" % (formatted[0x14], formatted[0x15])
        rows.append(row)
    return rows


def _smbios_processors():
    rows = []
    for kind, formatted, strings in smbios_structures():
        if kind != TYPE_PROCESSOR or len(formatted) < 0x28:
            continue
        characteristics = _word(formatted, 0x26)
        rows.append({"socket_designation": _string(formatted, strings, 0x04),
                     "manufacturer": _string(formatted, strings, 0x07),
                     "model": _string(formatted, strings, 0x10),
                     "processor_type": str(formatted[0x05]), "cpu_status": formatted[0x18],
                     "number_of_cores": str(formatted[0x23]), "logical_processors": formatted[0x25],
                     "address_width": "64" if characteristics & 0x4 else "32",
                     "current_clock_speed": _word(formatted, 0x16),
                     "max_clock_speed": _word(formatted, 0x14)})
    return rows


def gen_cpu_info(_context):
    rows = _smbios_processors()
    number = 0
    for row in rows:
        prefix = PROCESSOR_TYPES.get(int(row["processor_type"]))
        if prefix:
            row["device_id"] = "%s%d" % (prefix, number)
            number += 1
    return rows
