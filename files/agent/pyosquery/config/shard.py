"""Which packs and queries apply to this host: osquery's shard, platform and version rules."""

import hashlib
import socket

from pyosquery import OSQUERY_SDK_VERSION

BUILD_PLATFORM = "linux"


def machine_shard(hostname=None):
    """This host's shard, 0..100: the first byte of sha1(hostname) scaled, as osquery's getMachineShard."""
    name = (socket.gethostname() if hostname is None else hostname).strip()
    first_byte = int(hashlib.sha1(name.encode("utf-8")).hexdigest()[0:2], 16)
    return first_byte * 100 // 255


def shard_applies(shard, host_shard):
    """`shard: S` reaches hosts whose machine shard is <= S; 0 or absent reaches every host."""
    return not shard or shard <= 0 or host_shard <= shard


def platform_applies(platform):
    """osquery's checkPlatform on Linux: substring tests, so "windows,darwin" and "posix" both work."""
    text = (platform or "").strip()
    if not text or text == "null":
        return True
    if "any" in text or "all" in text:
        return True
    if any(word in text for word in ("linux", "ubuntu", "centos", "posix")):
        return True
    return BUILD_PLATFORM in text


def _version_parts(text):
    return [int(part) for part in text.strip().split(".")]


def version_applies(version, sdk_version=OSQUERY_SDK_VERSION):
    """True when the required `version` is empty, "null", or <= the osquery version we match."""
    text = (version or "").strip()
    if not text or text == "null":
        return True
    try:
        required = _version_parts(text)
    except ValueError:
        return False        # a version we cannot read is not one we can promise to meet
    have = _version_parts(sdk_version)
    width = max(len(required), len(have))
    return required + [0] * (width - len(required)) <= have + [0] * (width - len(have))


def _field(item, name):
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def applies(item, host_shard, version=OSQUERY_SDK_VERSION):
    """Whether a Pack or Query (or a dict with shard/platform/version) runs on this host."""
    shard = _field(item, "shard")
    try:
        shard = int(shard) if shard not in (None, "") else None
    except (TypeError, ValueError):
        shard = None
    return (shard_applies(shard, host_shard) and platform_applies(_field(item, "platform"))
            and version_applies(_field(item, "version"), version))
