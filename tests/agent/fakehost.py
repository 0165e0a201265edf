"""A made-up host for the tables that have no rows on a machine like the CI's (a fresh container:
no logins, keys, history, sudoers, modules, systemd, DMI, USB, browsers, rules, rpm or portage).

Each builder writes what the table reads, in the real format, under the test's own directory and
points the table's module at it (its path constants: the agent's way to read another root), or
puts a stand-in command where the table runs one. `Host.make(table)` builds the fixture of one
table; BUILDERS names every table a fixture exists for.
"""

import contextlib
import http.server
import json
import os
import struct
import subprocess
import threading

from pyosquery.tables import accounts, devices, firmware, kernel, netfilter, portage, rpm, startup

# the user running the tests: a per-user table without a uid constraint reads only that user's files
USER = ("root" if os.getuid() == 0 else "alice", os.getuid())
ED_KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIGx0ZXN0a2V5bWF0ZXJpYWwxMjM0NTY3ODkwYWJjZGVm"


class Host:
    """One test's made-up host under `root`; `close()` (the fixture does) stops what it started."""

    def __init__(self, root, monkeypatch):
        self.root = root
        self.monkeypatch = monkeypatch
        self.later = contextlib.ExitStack()

    def make(self, *tables):
        for table in tables:
            BUILDERS[table](self)
        return self

    def write(self, relative, content, mode=None):
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        if mode is not None:
            path.chmod(mode)
        return path

    def command(self, name, script):
        """A stand-in executable `name` (a shell script) in the host's bin directory; returns its path."""
        return str(self.write("bin/" + name, "#!/bin/sh\n" + script, 0o755))

    def close(self):
        self.later.close()


# --- users: a home with keys, known hosts, history and browser profiles -------------------------

def users(host):
    name, uid = USER
    home = host.root / "home" / name
    lines = ["root:x:0:0:root:%s:/bin/bash" % (host.root / "root")] if uid else []
    host.write("etc/passwd", "\n".join(lines + ["%s:x:%d:%d::%s:/bin/sh" % (name, uid, uid, home)]) + "\n")
    host.monkeypatch.setattr(accounts, "PASSWD_PATH", str(host.root / "etc/passwd"))
    host.write("home/%s/.ssh/authorized_keys" % name, "ssh-ed25519 %s %s@laptop\n" % (ED_KEY, name))
    host.write("home/%s/.ssh/known_hosts" % name, "github.com ssh-ed25519 %s\n" % ED_KEY)
    host.write("home/%s/.ssh/config" % name, "Host *.corp\n  User %s\n" % name)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(home / ".ssh/id_ed25519")],
                   check=True, stdin=subprocess.DEVNULL)
    host.write("home/%s/.bash_history" % name, "#1700000000\nmake test\nls -la\n")
    _browser_profiles(host, "home/" + name)


def _browser_profiles(host, home):
    profile = home + "/.config/google-chrome/Default/"
    host.write(profile + "Preferences", json.dumps({"profile": {"name": "Work"}}))
    host.write(profile + "Extensions/abcdefgh/1.2_0/manifest.json",
               json.dumps({"name": "Tab Saver", "version": "1.2", "permissions": ["tabs"]}))
    host.write(home + "/.mozilla/firefox/x1y2.default-release/extensions.json", json.dumps({"addons": [
        {"id": "uBlock0@raymondhill.net", "type": "extension", "version": "1.55.0", "active": True,
         "visible": True, "appDisabled": False, "applyBackgroundUpdates": 1, "location": "app-profile",
         "defaultLocale": {"name": "uBlock Origin", "creator": "Raymond Hill"}}]}))


# --- logins: utmp and wtmp records written by util-linux's utmpdump ----------------------------

UTMP_DUMP = """\
[2] [00000] [~~  ] [reboot  ] [~           ] [6.1.0-13-amd64      ] [0.0.0.0        ] [2023-11-14T22:13:20,000000+00:00]
[6] [00700] [tty1] [LOGIN   ] [tty1        ] [                    ] [0.0.0.0        ] [2023-11-14T22:13:22,000000+00:00]
[7] [04242] [ts/0] [alice   ] [pts/0       ] [192.0.2.7           ] [192.0.2.7      ] [2023-11-14T22:15:00,000000+00:00]
[8] [04242] [ts/0] [        ] [pts/0       ] [                    ] [0.0.0.0        ] [2023-11-14T22:16:40,000000+00:00]
"""


def logins(host):
    records = subprocess.run(["utmpdump", "--reverse"], input=UTMP_DUMP.encode(), check=True,
                             capture_output=True).stdout
    host.monkeypatch.setattr(accounts, "UTMP_PATH", str(host.write("run/utmp", records)))
    host.monkeypatch.setattr(accounts, "WTMP_PATH", str(host.write("log/wtmp", records)))


def sudoers(host):
    host.write("etc/sudoers.d/alice", "alice ALL=(ALL) NOPASSWD: /usr/bin/apt\n")
    main = host.write("etc/sudoers", "Defaults\tenv_reset\nroot ALL=(ALL:ALL) ALL\n@includedir %s\n"
                      % (host.root / "etc/sudoers.d"))
    host.monkeypatch.setattr(accounts, "SUDOERS_PATH", str(main))


# --- kernel and firmware -----------------------------------------------------------------------

def modules(host):
    listing = ("nf_tables 364544 0 - Live 0xffffffffc0a1b000\n"
               "libcrc32c 12288 2 nf_tables,xfs, Live 0x0000000000000000 (E)\n")
    host.monkeypatch.setattr(kernel, "MODULES_PATH", str(host.write("proc/modules", listing)))


def smbios_structure(kind, body, strings):
    """One SMBIOS structure: header, formatted body, string set."""
    formatted = struct.pack("<BBH", kind, 4 + len(body), 0x100 + kind) + body
    text = b"".join(s.encode() + b"\0" for s in strings) or b"\0"
    return formatted + text + b"\0"


def bios():
    """An SMBIOS type 0 (BIOS Information) structure: vendor, version, date, ROM size 1 MiB, revision 2.7."""
    body = bytearray(0x18 - 4)
    body[0x04 - 4], body[0x05 - 4], body[0x08 - 4] = 1, 2, 3
    struct.pack_into("<H", body, 0x06 - 4, 0xe800)
    body[0x09 - 4] = 15                       # (15 + 1) * 64 KiB
    body[0x14 - 4], body[0x15 - 4] = 2, 7
    return smbios_structure(0, bytes(body), ["ACME Corp", "1.2.3  ", "01/02/2024"])


def processor(socket_name, cores):
    """An SMBIOS type 4 (Processor Information) structure: a 64-bit Xeon, 3800/2400 MHz, 2 threads a core."""
    body = bytearray(0x30 - 4)
    body[0x04 - 4], body[0x07 - 4], body[0x10 - 4] = 1, 2, 3
    body[0x05 - 4] = 3                        # central processor
    body[0x18 - 4] = 0x41
    struct.pack_into("<HH", body, 0x14 - 4, 3800, 2400)
    body[0x23 - 4], body[0x25 - 4] = cores, cores * 2
    struct.pack_into("<H", body, 0x26 - 4, 0x4)
    return smbios_structure(4, bytes(body), [socket_name, "Intel(R) Corporation", "Xeon Gold"])


def smbios(host):
    table = bios() + processor("CPU0", 4) + smbios_structure(127, b"", [])
    host.monkeypatch.setattr(firmware, "DMI_TABLE", str(host.write("sys/firmware/dmi/tables/DMI", table)))


def sysfs_device(root, name, **attributes):
    """A sysfs device directory with one file per attribute."""
    path = root / name
    path.mkdir(parents=True)
    for key, value in attributes.items():
        (path / key).write_text(value + "\n")
    return path


def usb(host):
    bus = host.root / "sys/bus/usb/devices"
    sysfs_device(bus, "1-1", idVendor="0781", idProduct="5581", manufacturer="SanDisk", product="Ultra",
                 serial="4C53", bcdDevice="0100", bDeviceClass="00", bDeviceSubClass="00", bDeviceProtocol="00",
                 busnum="1", devnum="3", removable="removable")
    host.monkeypatch.setattr(devices, "USB_ROOT", str(bus))


# --- services and packages ---------------------------------------------------------------------

LIST_UNITS = """\
dev-sda1.device            loaded active plugged QEMU_HARDDISK 1
ssh.service                loaded active running OpenBSD Secure Shell server
foo@bar-1.service          loaded inactive dead  Foo for bar
\u25cf missing.service       not-found inactive dead missing.service
"""
SHOW = """\
Id=dev-sda1.device
Description=QEMU_HARDDISK 1
LoadState=loaded
ActiveState=active
SubState=plugged
UnitFileState=
Following=sys-devices-pci-block-sda-sda1.device
FragmentPath=
User=
SourcePath=
Job=

Id=ssh.service
Description=OpenBSD Secure Shell server
LoadState=loaded
ActiveState=active
SubState=running
UnitFileState=enabled
Following=
FragmentPath=/lib/systemd/system/ssh.service
User=
SourcePath=
Job=

Id=foo@bar-1.service
Description=Foo for bar
LoadState=loaded
ActiveState=inactive
SubState=dead
UnitFileState=disabled
Following=
FragmentPath=/etc/systemd/system/foo@.service
User=foo
SourcePath=
Job=42

Id=missing.service
Description=missing.service
LoadState=not-found
ActiveState=inactive
SubState=dead
UnitFileState=
Following=
FragmentPath=
User=
SourcePath=
Job=
"""
LIST_JOBS = "42 foo@bar-1.service start waiting\n"


def systemd(host):
    """systemd as PID 1 (its run directory) and a stand-in systemctl printing what the real one prints;
    each call's arguments are a line of systemctl.calls."""
    outputs = {"list-units": LIST_UNITS, "show": SHOW, "list-jobs": LIST_JOBS}
    for verb, text in outputs.items():
        host.write("systemctl/" + verb, text)
    script = 'echo "$@" >> {0}.calls\nfor verb in "$@"; do [ -f "{0}/$verb" ] && exec cat "{0}/$verb"; done\nexit 1\n'.format(
        host.root / "systemctl")
    host.monkeypatch.setattr(startup, "SYSTEMCTL", host.command("systemctl", script))
    host.monkeypatch.setattr(startup, "SYSTEMD_RUN_DIR", str(host.write("run/systemd/system/.keep", "").parent))


RULES = "iptables -P FORWARD DROP && iptables -A INPUT -s 10.1.0.0/16 -p tcp --dport 443 -j ACCEPT"


def iptables(host):
    """The real iptables-save, in a network namespace of its own holding two rules."""
    script = "exec unshare --net sh -c '%s && exec iptables-save \"$@\"' iptables-save \"$@\"\n" % RULES
    host.monkeypatch.setattr(netfilter, "IPTABLES_SAVE", host.command("iptables-save", script))


RPM_OUTPUT = ("bash\t5.1.8\t6.el9\tbash-5.1.8-6.el9.src.rpm\t7738634\tabc123\tx86_64\t(none)\t1700000000\t"
              "Rocky Enterprise Software Foundation\tUnspecified\n"
              "gpg-pubkey\t5a6340b3\t6229229e\t(none)\t0\t(none)\t(none)\t(none)\t1700000001\t(none)\tPublic Keys\n")


def rpm_database(host):
    """A stand-in `rpm` that records its arguments and prints what `rpm -qa --qf` prints."""
    script = "echo \"$@\" > %s/rpm.args\nprintf '%%s' '%s'\n" % (host.root, RPM_OUTPUT)
    host.monkeypatch.setattr(rpm, "RPM", host.command("rpm", script))


def ebuild(db, category, entry, **files):
    """One installed package in Portage's /var/db/pkg layout."""
    path = db / category / entry
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text + "\n")


def portage_db(host):
    db = host.root / "var/db/pkg"
    ebuild(db, "app-shells", "bash-5.1_p16-r2", SLOT="0", BUILD_TIME="1690000000", repository="gentoo", EAPI="8",
           SIZE="6512345")
    host.monkeypatch.setattr(portage, "PKG_DB", str(db))
    host.monkeypatch.setattr(portage, "WORLD", str(host.write("var/lib/portage/world", "app-shells/bash\n")))


# --- EC2: an IMDSv2 server on loopback ---------------------------------------------------------

IMDS_TOKEN = "token-123"
IMDS_PATHS = {
    "meta-data/instance-id": "i-0abc", "meta-data/instance-type": "t3.micro", "meta-data/ami-id": "ami-42",
    "meta-data/placement/availability-zone": "eu-west-1a", "meta-data/local-hostname": "ip-10-0-0-5.internal",
    "meta-data/local-ipv4": "10.0.0.5", "meta-data/mac": "0a:1b:2c:3d:4e:5f",
    "meta-data/security-groups": "web\nssh", "meta-data/reservation-id": "r-77",
    "meta-data/iam/info": json.dumps({"InstanceProfileArn": "arn:aws:iam::123:instance-profile/web"}),
    "meta-data/public-keys/0/openssh-key": "ssh-ed25519 AAAA alice",
    "dynamic/instance-identity/document": json.dumps({"region": "eu-west-1", "architecture": "x86_64",
                                                      "accountId": "123456789012"}),
    "meta-data/tags/instance": "Name\nTeam", "meta-data/tags/instance/Name": "web-1",
    "meta-data/tags/instance/Team": "infra",
}


class Imds(http.server.BaseHTTPRequestHandler):
    """IMDSv2: a token from PUT /latest/api/token, then GETs that carry it; `requests` records them."""

    requests = []

    def log_message(self, *_args):    # pylint: disable=arguments-differ
        pass

    def _reply(self, code, body=""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def do_PUT(self):   # noqa: N802 (http.server API)
        Imds.requests.append(("PUT", self.path))
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        self._reply(200, IMDS_TOKEN) if self.path == "/latest/api/token" and ttl else self._reply(400)

    def do_GET(self):   # noqa: N802 (http.server API)
        Imds.requests.append(("GET", self.path))
        if self.headers.get("X-aws-ec2-metadata-token") != IMDS_TOKEN:
            self._reply(401)            # IMDSv2 only: a request without the token is refused
            return
        body = IMDS_PATHS.get(self.path[len("/latest/"):])
        self._reply(404) if body is None else self._reply(200, body)


def imds(host):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Imds)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    host.later.callback(server.server_close)
    host.later.callback(server.shutdown)
    Imds.requests = []
    host.monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:%d/" % server.server_address[1])
    return server


BUILDERS = {
    "authorized_keys": users, "known_hosts": users, "user_ssh_keys": users, "shell_history": users,
    "chrome_extensions": users, "firefox_addons": users,
    "logged_in_users": logins, "last": logins, "sudoers": sudoers,
    "kernel_modules": modules, "platform_info": smbios, "cpu_info": smbios, "smbios_tables": smbios, "usb_devices": usb,
    "systemd_units": systemd, "iptables": iptables, "rpm_packages": rpm_database, "portage_packages": portage_db,
    "ec2_instance_metadata": imds, "ec2_instance_tags": imds,
}
