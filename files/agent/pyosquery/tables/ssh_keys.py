"""user_ssh_keys: private keys in each user's ~/.ssh, whether they are encrypted, their type
and size.

osquery asks OpenSSL to parse PEM keys and reads the OpenSSH key format itself; we read both
formats with a small DER/SSH-wire reader instead, and report the same names and numbers:
OpenSSL's key type names for PEM keys (rsa, dsa, ec, '' for others), osquery's names for
OpenSSH keys (rsa, dsa, ed25519, ecdsa-p256...), -1 where unknown, as for encrypted PEM keys.
"""

import base64
import binascii
import math
import os
import re
import struct

from pyosquery.tables import _os
from pyosquery.tables.accounts import matches, namespace_requested, users_from_context

SSH_DIR = ".ssh"
MAX_KEY_FILE = 1 << 20          # key files are small: don't read a stray large file whole
OPENSSH_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----"
OPENSSH_MAGIC = b"openssh-key-v1\0"
PEM_BLOCK = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----\r?\n(.*?)-----END ", re.S)

# OpenSSH key type -> (osquery's name, length, security bits) where both are fixed.
OPENSSH_FIXED = {
    "ssh-ed25519": ("ed25519", 256, 128),
    "ecdsa-sha2-nistp256": ("ecdsa-p256", 256, 128),
    "ecdsa-sha2-nistp384": ("ecdsa-p384", 384, 192),
    "ecdsa-sha2-nistp521": ("ecdsa-p521", 521, 256),
}
# Named curves by DER-encoded OID: OpenSSL's group name and order bits.
CURVES = {
    "2a8648ce3d030107": ("prime256v1", 256), "2b81040022": ("secp384r1", 384),
    "2b81040023": ("secp521r1", 521), "2b8104000a": ("secp256k1", 256),
}
OID_RSA = "2a864886f70d010101"
OID_DSA = "2a8648ce380401"
OID_EC = "2a8648ce3d0201"
OID_ED25519 = "2b6570"


def nist_rsa_bits(bits):
    """Security bits of an RSA key as osquery computes them for OpenSSH keys (SP 800-57)."""
    for floor, security in ((15360, 256), (7680, 192), (3072, 128), (2048, 112), (1024, 80)):
        if bits >= floor:
            return security
    return 64


def openssl_ifc_bits(bits):
    """EVP_PKEY_security_bits of an RSA/DSA key as OpenSSL 3 reports it (SP 800-56B)."""
    exact = {2048: 112, 3072: 128, 4096: 152, 6144: 176, 7680: 192, 8192: 200, 15360: 256}
    if bits in exact:
        return exact[bits]
    if bits < 8:
        return 0
    x = bits * math.log(2)
    y = (1.923 * x ** (1.0 / 3) * math.log(x) ** (2.0 / 3) - 4.69) / math.log(2)
    return (int(y) + 4) & ~7


# --- OpenSSH format ---------------------------------------------------------------------------

def _ssh_string(data, pos):
    """One SSH wire-format string at `pos`: (bytes, next position); raises ValueError."""
    if pos + 4 > len(data):
        raise ValueError("truncated")
    (size,) = struct.unpack_from(">I", data, pos)
    end = pos + 4 + size
    if end > len(data):
        raise ValueError("truncated")
    return data[pos + 4:end], end


def _mpint_bytes(value):
    return len(value) - 1 if len(value) > 1 and value[0] == 0 else len(value)


def openssh_key(text):
    """{encrypted, key_type, key_length, key_security_bits} of an OpenSSH-format key."""
    body = text.split(OPENSSH_BEGIN, 1)[1].split("-----END", 1)[0]
    row = {"encrypted": 1, "key_type": "", "key_group_name": "", "key_length": -1, "key_security_bits": -1}
    try:
        data = base64.b64decode("".join(body.split()))
        if not data.startswith(OPENSSH_MAGIC):
            return row
        cipher, pos = _ssh_string(data, len(OPENSSH_MAGIC))
        row["encrypted"] = int(cipher != b"none")
        for _skip in range(2):                         # kdf name, kdf options
            pos = _ssh_string(data, pos)[1]
        pubkey, _end = _ssh_string(data, pos + 4)      # after the key count: the public key
        key_type, pos = _ssh_string(pubkey, 0)
        key_type = key_type.decode("ascii", "replace")
        row.update(_openssh_sizes(key_type, pubkey, pos))
    except (ValueError, binascii.Error):
        pass
    return row


def _openssh_sizes(key_type, pubkey, pos):
    if key_type in OPENSSH_FIXED:
        name, length, security = OPENSSH_FIXED[key_type]
        return {"key_type": name, "key_length": length, "key_security_bits": security}
    if key_type == "ssh-rsa":
        modulus = _ssh_string(pubkey, _ssh_string(pubkey, pos)[1])[0]      # e, then n
        length = _mpint_bytes(modulus) * 8
        return {"key_type": "rsa", "key_length": length, "key_security_bits": nist_rsa_bits(length)}
    if key_type == "ssh-dss":
        prime = _ssh_string(pubkey, pos)[0]
        return {"key_type": "dsa", "key_length": _mpint_bytes(prime) * 8, "key_security_bits": 80}
    return {"key_type": key_type}


# --- PEM (PKCS#1, SEC1, DSA, PKCS#8) ---------------------------------------------------------

def _der(data, pos=0):
    """One DER element at `pos`: (tag, content bytes, next position); raises ValueError."""
    if pos + 2 > len(data):
        raise ValueError("truncated")
    tag, size, pos = data[pos], data[pos + 1], pos + 2
    if size & 0x80:
        count = size & 0x7F
        size = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + size > len(data):
        raise ValueError("truncated")
    return tag, data[pos:pos + size], pos + size


def _der_items(content):
    items, pos = [], 0
    while pos < len(content):
        tag, value, pos = _der(content, pos)
        items.append((tag, value))
    return items


def _bits(integer):
    return int.from_bytes(integer, "big").bit_length()


def _rsa(items):
    length = _bits(items[1][1])
    return {"key_type": "rsa", "key_length": length, "key_security_bits": openssl_ifc_bits(length)}


def _dsa(prime, subprime):
    length, sub = _bits(prime), _bits(subprime)
    security = 0
    for floor, sub_floor, bits in ((15360, 512, 256), (7680, 384, 192), (3072, 256, 128),
                                   (2048, 224, 112), (1024, 160, 80)):
        if length >= floor and sub >= sub_floor:
            security = bits
            break
    return {"key_type": "dsa", "key_length": length, "key_security_bits": security}


def _ec(curve_oid):
    group, order = CURVES.get(curve_oid.hex(), ("", -1))
    security = -1 if order < 0 else min(256, order // 2)
    return {"key_type": "ec", "key_group_name": group, "key_length": order, "key_security_bits": security}


def _pkcs8(items):
    algorithm = _der_items(items[1][1])
    oid = algorithm[0][1].hex()
    inner = _der_items(_der(items[2][1])[1]) if oid in (OID_RSA, OID_DSA) else None
    if oid == OID_RSA:
        return _rsa(inner)
    if oid == OID_EC:
        return _ec(algorithm[1][1])
    if oid == OID_DSA:
        params = _der_items(algorithm[1][1])
        return _dsa(params[0][1], params[1][1])
    if oid == OID_ED25519:
        return {"key_type": "", "key_length": 253, "key_security_bits": 128}
    return {}


def pem_key(label, body):
    """The row fields of one PEM private key block (label: 'RSA ', 'EC ', '', 'ENCRYPTED ')."""
    row = {"encrypted": 0, "key_type": "", "key_group_name": "", "key_length": -1, "key_security_bits": -1}
    if label == "ENCRYPTED " or ("Proc-Type:" in body and "ENCRYPTED" in body.split("\n\n", 1)[0]):
        row["encrypted"] = 1           # OpenSSL needs the passphrase: nothing more is known
        return row
    try:
        items = _der_items(_der(base64.b64decode("".join(body.split())))[1])
        if label == "RSA ":
            row.update(_rsa(items))
        elif label == "EC ":
            curve = [value for tag, value in items if tag == 0xA0]
            row.update(_ec(_der(curve[0])[1]) if curve else {"key_type": "ec"})
        elif label == "DSA ":
            row.update(_dsa(items[1][1], items[2][1]))
        elif label == "":
            row.update(_pkcs8(items))
        else:
            return None
    except (ValueError, IndexError, binascii.Error):
        return None                    # OpenSSL would not parse it either: not a key
    return row


def parse_private_key(text):
    """The key's row fields, or None when the text is not a private key."""
    if OPENSSH_BEGIN in text:
        return openssh_key(text)
    found = PEM_BLOCK.search(text)
    return pem_key(found.group(1), found.group(2)) if found else None


def _key_paths(context, home):
    directory = os.path.join(home, SSH_DIR)
    wanted = context.equals("path")
    if wanted is not None:         # path is indexed: read only the files asked for
        return sorted(p for p in wanted if isinstance(p, str) and os.path.dirname(p) == directory)
    return sorted(os.path.join(directory, name) for name in _os.list_dir(directory))


def gen_user_ssh_keys(context):
    if namespace_requested(context):
        return
    for uid, _gid, _name, home in users_from_context(context):
        if not home or not matches(context, "uid", uid):
            continue
        for path in _key_paths(context, home):
            info = _os.stat(path)
            if info is None or not os.path.isfile(path) or info.st_size > MAX_KEY_FILE:
                continue
            row = parse_private_key(_os.read_text(path) or "")
            if row is not None:
                row.update(uid=uid, path=path, pid_with_namespace=0)
                yield row
