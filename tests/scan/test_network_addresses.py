"""Private and shared addresses (IPv4 RFC 1918 / RFC 6598, IPv6 RFC 4193) where configs
write them, and what only looks like one: versions, OIDs, public neighbours, reserved
ranges and the private blocks quoted whole."""

from __future__ import annotations

import json

import pytest

from tests.scan.scanned import reported, where


def addresses(text: str, path: str = "config.yaml") -> list[tuple[str, int, int]]:
    return reported(text, kind="private-ip", path=path)


@pytest.mark.parametrize(
    ("path", "text", "address"),
    [
        ("values.yaml", "redis:\n  host: 10.12.4.7\n", "10.12.4.7"),
        ("app.json", '{"upstream": "172.20.3.15:8443"}', "172.20.3.15"),
        ("app.ini", "[db]\nhost=192.168.56.10\n", "192.168.56.10"),
        (".env", "PROXY=http://100.72.0.9:3128", "100.72.0.9"),
        ("web.xml", '<param name="host" value="10.1.1.20"/>', "10.1.1.20"),
        ("deploy.py", "HOSTS = ['10.0.3.11', 'db.example.com']", "10.0.3.11"),
        ("ci.yml", "release_host: 10.0.0.1", "10.0.0.1"),  # a key that only mentions release
        ("ci.yml", "{version: 2, host: 10.0.0.1}", "10.0.0.1"),  # the version is another key's
        ("app.conf", "url jdbc:mysql://172.31.255.254:3306/app", "172.31.255.254"),
        ("rules.tf", 'cidr_blocks = ["10.42.0.0/16"]', "10.42.0.0/16"),
        ("notes.md", "the old box at 192.168.1.23.", "192.168.1.23"),
        ("app.env", "API=http://10.0.0.5/8080/v1", "10.0.0.5"),  # a path, not a prefix length
    ],
)
def test_private_ipv4_is_reported(path: str, text: str, address: str) -> None:
    assert addresses(text, path) == [("private-ipv4", *where(text, address))]


def test_each_address_of_a_range_or_list_is_reported() -> None:
    text = "pool: 10.0.0.10-10.0.0.20, 192.168.0.1"
    assert addresses(text) == [
        ("private-ipv4", *where(text, "10.0.0.10")),
        ("private-ipv4", *where(text, "10.0.0.20")),
        ("private-ipv4", *where(text, "192.168.0.1")),
    ]


def test_notebook_output_escapes_are_read_around_addresses() -> None:
    output = {"output_type": "stream", "text": ["connected\n10.8.0.4\n"]}
    text = json.dumps({"outputs": [output]})
    assert addresses(text, "report.ipynb") == [("private-ipv4", *where(text, "10.8.0.4"))]


@pytest.mark.parametrize(
    "text",
    [
        "version: 10.0.0.1",  # a key naming a version
        '"appVersion": "10.2.0.1"',
        "<version>10.0.0.1</version>",
        "image_tag: 10.1.2.3",
        "requests==10.0.0.1",
        "gem 'rails', '~> 10.0.0.1'",
        "image: registry.acme.io/api:10.4.0.1",
        "build 10.0.0.1-rc1",
        "User-Agent: MyApp/10.2.0.1 (Linux)",  # a product's version
        "v10.0.0.1",
        "pkg 1.10.0.0.1",  # dotted numbers in a longer sequence
        "oid 10.0.0.1.5",
        "snmp 1.3.6.1.4.1.2021.10.1",
        "10.0.0.1.nip.io",
        "dns 8.8.8.8",  # public neighbours of the private blocks
        "a 172.15.0.1",
        "b 172.32.0.1",
        "c 100.63.255.1",
        "d 100.128.0.1",
        "e 192.169.0.1",
        "doc 192.0.2.10 198.51.100.7 203.0.113.5",  # documentation ranges
        "loopback 127.0.0.1",
        "metadata 169.254.169.254",  # link-local, the same in every cloud
        "bind 0.0.0.0",
        "octet 10.0.0.256",
        "zeros 010.000.000.001",
        "private: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10]",
    ],
)
def test_ipv4_lookalikes_are_not_reported(text: str) -> None:
    assert addresses(text) == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("listen: '[fd12:3456:789a:1::10]:8080'", "fd12:3456:789a:1::10"),
        ("dns: fd00:ec2::253", "fd00:ec2::253"),
        ("peer fc00:0:0:1::2", "fc00:0:0:1::2"),
        ("subnet: fd7a:115c:a1e0::/48", "fd7a:115c:a1e0::/48"),
        ('{"addr": "FD12:3456:789A:0001:0000:0000:0000:0001"}', "FD12:3456"),
        ("gw fd12::1%eth0", "fd12::1%eth0"),
    ],
)
def test_unique_local_ipv6_is_reported(text: str, address: str) -> None:
    assert addresses(text) == [("private-ipv6", *where(text, address))]


@pytest.mark.parametrize(
    "text",
    [
        "doc 2001:db8::1",  # documentation
        "link fe80::1ff:fe23:4567:890a",  # link-local
        "loopback ::1",
        "dns 2606:4700:4700::1111",  # public
        "ula: fd00::/8",  # the block itself
        "range fc00::/7",
        "short fd::1",  # 0xfd, not fd00::/8
        "mac fc:aa:14:bb:cc:dd",
        "sha deadbeeffd12:abcd::1",
        "time fd12:30:45",
    ],
)
def test_ipv6_lookalikes_are_not_reported(text: str) -> None:
    assert addresses(text) == []
