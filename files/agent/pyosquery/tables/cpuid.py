"""cpuid: the x86 CPU's feature bits, as the CPUID instruction reports them.

The kernel already ran CPUID for us: /proc/cpuinfo's `flags` are the feature bits, named as
Linux names them. Each known bit becomes one row with the leaf (input_eax), register and bit
it comes from (Intel SDM vol. 2A, CPUID leaves 1 and 7), value "1" when set, "0" when not.
Hosts that are not x86 (no `flags` line) have no rows, as osquery builds cpuid only for x86.
"""

from pyosquery.tables import _os

# leaf -> register -> Linux flag names by bit (None: a bit Linux does not name)
LEAVES = (
    ("1", "edx", ("fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", None, "sep", "mtrr",
                  "pge", "mca", "cmov", "pat", "pse36", "pn", "clflush", None, "dts", "acpi", "mmx", "fxsr",
                  "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe")),
    ("1", "ecx", ("pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est", "tm2", "ssse3",
                  "cid", "sdbg", "fma", "cx16", "xtpr", "pdcm", None, "pcid", "dca", "sse4_1", "sse4_2",
                  "x2apic", "movbe", "popcnt", "tsc_deadline_timer", "aes", "xsave", "osxsave", "avx", "f16c",
                  "rdrand", "hypervisor")),
    ("7", "ebx", ("fsgsbase", "tsc_adjust", "sgx", "bmi1", "hle", "avx2", None, "smep", "bmi2", "erms",
                  "invpcid", "rtm", None, None, "mpx", None, "avx512f", "avx512dq", "rdseed", "adx", "smap",
                  "avx512ifma", None, "clflushopt", "clwb", None, "avx512pf", "avx512er", "avx512cd",
                  "sha_ni", "avx512bw", "avx512vl")),
)
# the feature names the manuals use where they differ from Linux's
FEATURE_NAMES = {"pni": "SSE3", "sse4_1": "SSE4.1", "sse4_2": "SSE4.2", "sha_ni": "SHA", "pse36": "PSE-36",
                 "ds_cpl": "DS-CPL", "tsc_deadline_timer": "TSC-DEADLINE", "cx8": "CX8", "cx16": "CMPXCHG16B"}


def _first_cpu():
    blocks = _os.key_value_blocks(_os.read_lines("/proc/cpuinfo"), ":")
    return blocks[0] if blocks else {}


def gen_cpuid(_context):
    cpu = _first_cpu()
    if "flags" not in cpu:
        return
    flags = set(cpu["flags"].split())
    yield {"feature": "vendor", "value": cpu.get("vendor_id", ""), "output_register": "ebx,edx,ecx",
           "output_bit": 0, "input_eax": "0"}
    yield {"feature": "product_name", "value": cpu.get("model name", ""), "output_register": "eax,ebx,ecx,edx",
           "output_bit": 0, "input_eax": "0x80000002"}
    for leaf, register, names in LEAVES:
        for bit, name in enumerate(names):
            if name is not None:
                yield {"feature": FEATURE_NAMES.get(name, name.upper()), "value": "1" if name in flags else "0",
                       "output_register": register, "output_bit": bit, "input_eax": leaf}
