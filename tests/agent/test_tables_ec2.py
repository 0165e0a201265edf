"""ec2_instance_metadata / ec2_instance_tags against a small IMDSv2 server on loopback; nothing off EC2."""

import pytest

from tablecheck import assert_contract, generate
from fakehost import Imds
from pyosquery.tables import ec2


@pytest.fixture()
def imds(fake_host):
    return fake_host.make("ec2_instance_metadata")      # an IMDSv2 server on loopback, its requests in Imds.requests


def test_instance_metadata_over_imdsv2(imds):
    rows = assert_contract("ec2_instance_metadata", generate("ec2_instance_metadata"))
    assert rows == [{"instance_id": "i-0abc", "instance_type": "t3.micro", "architecture": "x86_64",
                     "region": "eu-west-1", "availability_zone": "eu-west-1a",
                     "local_hostname": "ip-10-0-0-5.internal", "local_ipv4": "10.0.0.5", "mac": "0a:1b:2c:3d:4e:5f",
                     "security_groups": "web,ssh", "iam_arn": "arn:aws:iam::123:instance-profile/web",
                     "ami_id": "ami-42", "reservation_id": "r-77", "account_id": "123456789012",
                     "ssh_public_key": "ssh-ed25519 AAAA alice"}]
    assert Imds.requests[0] == ("PUT", "/latest/api/token")


def test_instance_tags(imds):
    rows = assert_contract("ec2_instance_tags", generate("ec2_instance_tags"))
    assert rows == [{"instance_id": "i-0abc", "key": "Name", "value": "web-1"},
                    {"instance_id": "i-0abc", "key": "Team", "value": "infra"}]


def test_disabled_service_is_not_asked(imds, monkeypatch):
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert generate("ec2_instance_metadata") == [] and Imds.requests == []


def test_off_ec2_no_rows_and_no_network(monkeypatch, query):
    monkeypatch.delenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", raising=False)
    monkeypatch.setattr(ec2, "EC2_MARKERS", ())        # this host does not say it is EC2

    def refuse(*_args, **_kwargs):
        raise AssertionError("the metadata service was asked off EC2")
    monkeypatch.setattr(ec2._OPENER, "open", refuse)
    assert query("SELECT * FROM ec2_instance_metadata") == []
    assert query("SELECT * FROM ec2_instance_tags") == []


def test_unreachable_service_gives_no_rows_quickly(monkeypatch):
    # a loopback port nobody listens on: refused at once, no rows, no error
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9")
    assert generate("ec2_instance_metadata") == [] and generate("ec2_instance_tags") == []
