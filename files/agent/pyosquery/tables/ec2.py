"""ec2_instance_metadata and ec2_instance_tags, from the EC2 instance metadata service (IMDSv2).

Off EC2 these tables have no rows and never touch the network: the host must first say it is
an EC2 instance (the Xen hypervisor UUID or the DMI vendor/UUID the Nitro and Xen platforms
set). AWS_EC2_METADATA_SERVICE_ENDPOINT (as the AWS SDKs read it) points them at another
service, and AWS_EC2_METADATA_DISABLED=true turns them off. Requests get a short timeout,
never go through a proxy, and fall back to IMDSv1 when no IMDSv2 token is given.
Tags come from the metadata service's instance tags (when the instance allows them), so no
AWS credentials are needed.
"""

import json
import os
import urllib.error
import urllib.request

from pyosquery.tables import _os

ENDPOINT = "http://169.254.169.254"
TIMEOUT = 1.0
TOKEN_TTL = "21600"
EC2_MARKERS = (("/sys/hypervisor/uuid", "ec2"), ("/sys/class/dmi/id/product_uuid", "ec2"),
               ("/sys/class/dmi/id/board_vendor", "amazon ec2"), ("/sys/class/dmi/id/sys_vendor", "amazon ec2"))
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _endpoint():
    """The metadata service to ask, or None when these tables must not ask anything."""
    if os.environ.get("AWS_EC2_METADATA_DISABLED", "").lower() == "true":
        return None
    configured = os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT")
    if configured:
        return configured.rstrip("/")
    for path, marker in EC2_MARKERS:
        if (_os.read_text(path) or "").strip().lower().startswith(marker):
            return ENDPOINT
    return None


class Metadata:
    """One IMDS session: an IMDSv2 token (if the service gives one) and GETs under /latest/."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.token = self._request("PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": TOKEN_TTL})
        self.reachable = self.token is not None or self.get("meta-data/instance-id") is not None

    def _request(self, method, path, headers):
        request = urllib.request.Request(self.endpoint + path, method=method, headers=headers)
        try:
            with _OPENER.open(request, timeout=TIMEOUT) as response:
                return response.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def get(self, path):
        headers = {"X-aws-ec2-metadata-token": self.token} if self.token else {}
        return self._request("GET", "/latest/" + path, headers)

    def text(self, path):
        return (self.get(path) or "").strip()


def _session():
    endpoint = _endpoint()
    if endpoint is None:
        return None
    session = Metadata(endpoint)
    return session if session.reachable else None


def _document(session):
    try:
        document = json.loads(session.get("dynamic/instance-identity/document") or "{}")
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _iam_arn(session):
    try:
        info = json.loads(session.get("meta-data/iam/info") or "{}")
    except ValueError:
        return ""
    return str(info.get("InstanceProfileArn", "")) if isinstance(info, dict) else ""


def gen_ec2_instance_metadata(_context):
    session = _session()
    if session is None:
        return []
    document = _document(session)
    return [{
        "instance_id": session.text("meta-data/instance-id"),
        "instance_type": session.text("meta-data/instance-type"),
        "architecture": str(document.get("architecture", "")),
        "region": str(document.get("region", "")),
        "availability_zone": session.text("meta-data/placement/availability-zone"),
        "local_hostname": session.text("meta-data/local-hostname"),
        "local_ipv4": session.text("meta-data/local-ipv4"),
        "mac": session.text("meta-data/mac"),
        "security_groups": ",".join(session.text("meta-data/security-groups").split()),
        "iam_arn": _iam_arn(session),
        "ami_id": session.text("meta-data/ami-id"),
        "reservation_id": session.text("meta-data/reservation-id"),
        "account_id": str(document.get("accountId", "")),
        "ssh_public_key": session.text("meta-data/public-keys/0/openssh-key"),
    }]


def gen_ec2_instance_tags(_context):
    session = _session()
    if session is None:
        return []
    instance_id = session.text("meta-data/instance-id")
    keys = session.text("meta-data/tags/instance").split()
    return [{"instance_id": instance_id, "key": key, "value": session.text("meta-data/tags/instance/" + key)}
            for key in keys]
