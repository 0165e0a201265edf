"""Firmware tables read from SMBIOS: platform_info (BIOS record) and cpu_info (processor records).

The kernel exports the raw SMBIOS structure table at /sys/firmware/dmi/tables/DMI (root only),
so no /dev/mem mapping is needed. Hosts without SMBIOS (some VMs, containers) have no
platform_info row, as with osquery; cpu_info then describes the packages in /proc/cpuinfo so
that the table still says what the host runs on.
"""

import os
import struct

from pyosquery.tables import _os

DMI_TABLE = "/sys/firmware/dmi/tables/DMI"
TYPE_BIOS = 0
TYPE_PROCESSOR = 4
# SMBIOS processor type (offset 0x05) -> the prefix osquery gives device_id
PROCESSOR_TYPES = {3: "CPU", 4: "MATH", 5: "DSP", 6: "GPU"}


def smbios_structures(data=None):
    """(type, formatted bytes, [strings]) for each structure of the SMBIOS table."""
    if data is None:
        data = _os.read_bytes(DMI_TABLE) or b""
    offset = 0
    while offset + 4 <= len(data):
        kind, length = data[offset], data[offset + 1]
        if length < 4 or offset + length > len(data):
            break
        end = data.find(b"\0\0", offset + length)
        if end < 0:
            break
        formatted = data[offset:offset + length]
        strings = [s.decode("latin-1").rstrip() for s in data[offset + length:end].split(b"\0")]
        yield kind, formatted, strings
        if kind == 127:         # end-of-table
            break
        offset = end + 2


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


def _cpuinfo_packages():
    """One row per physical package from /proc/cpuinfo (and cpufreq), shaped like SMBIOS's."""
    packages = {}
    block = {}
    for line in _os.read_lines("/proc/cpuinfo") + [""]:
        key, sep, value = line.partition(":")
        if sep:
            block[key.strip()] = value.strip()
            continue
        if block:
            packages.setdefault(block.get("physical id", "0"), block)
        block = {}
    rows = []
    for package, info in sorted(packages.items()):
        max_khz = (_os.read_text("/sys/devices/system/cpu/cpu%s/cpufreq/cpuinfo_max_freq"
                                 % info.get("processor", "0")) or "").strip()
        mhz = info.get("cpu MHz", "")
        rows.append({"socket_designation": "CPU %s" % package, "manufacturer": info.get("vendor_id", ""),
                     "model": info.get("model name", ""), "processor_type": "3",
                     # SMBIOS status byte: socket populated (0x40) | CPU enabled (1)
                     "cpu_status": 0x41, "number_of_cores": info.get("cpu cores", "1"),
                     "logical_processors": int(info.get("siblings", "1") or 1),
                     "address_width": "64" if " lm " in " %s " % info.get("flags", "") else "32",
                     "current_clock_speed": int(float(mhz)) if mhz else 0,
                     "max_clock_speed": int(max_khz) // 1000 if max_khz.isdigit() else 0})
    return rows


def gen_cpu_info(_context):
    rows = _smbios_processors() or _cpuinfo_packages()
    number = 0
    for row in rows:
        prefix = PROCESSOR_TYPES.get(int(row["processor_type"]))
        if prefix:
            row["device_id"] = "%s%d" % (prefix, number)
            number += 1
    return rows
