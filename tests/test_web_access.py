"""Serving beyond loopback: the app answers only the Host names it was given (DNS rebinding gets a 400),
asks for the read token when it has one, and ``nianbao serve`` will not bind a reachable address unless told."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from archive import Archive
from archive.web import create_app
from archive.web.access import COOKIE, is_loopback, serving_hosts
from crawler.cli import cli


@pytest.fixture(scope="module")
def where(tmp_path_factory):
    path = tmp_path_factory.mktemp("web-access") / "arch"
    Archive.open(path).close()
    return path


def test_requests_addressed_to_another_name_are_refused(where):
    client = TestClient(create_app(where), base_url="http://127.0.0.1:8000")
    assert client.get("/api/reports").status_code == 200
    assert client.get("/api/reports", headers={"Host": "localhost:8000"}).status_code == 200
    # a page of evil.example whose name now resolves to 127.0.0.1 still sends its own name
    assert client.get("/api/reports", headers={"Host": "evil.example:8000"}).status_code == 400
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    named = TestClient(create_app(where, allowed_hosts=["*.example.org"]), base_url="http://nianbao.example.org")
    assert named.get("/api/reports").status_code == 200
    assert named.get("/api/reports", headers={"Host": "localhost"}).status_code == 400  # only the names given
    # an address by number is no rebinding (that needs a name): a LAN address and IPv6 literals are served
    for host in ("192.168.1.5:8000", "[::1]:8000", "[fe80::1]", "10.0.0.7"):
        assert named.get("/api/reports", headers={"Host": host}).status_code == 200, host
    assert named.get("/api/reports", headers={"Host": "[::zz]:8000"}).status_code == 400  # not an address


def test_with_a_token_every_request_needs_it(where):
    client = TestClient(create_app(where, token="s3cret"), base_url="http://127.0.0.1", follow_redirects=False)
    refused = client.get("/api/reports")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert "token" in refused.json()["detail"]
    assert client.get("/").status_code == 401 and "令牌" in client.get("/").text
    assert client.get("/api/reports", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/reports", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/?q=x&token=wrong").status_code == 401
    # a browser's first visit: the token goes into a cookie and out of the address bar
    first = client.get("/?q=%E5%B9%B4%E6%8A%A5&token=s3cret")
    assert first.status_code == 303 and first.headers["location"] == "http://127.0.0.1/?q=%E5%B9%B4%E6%8A%A5"
    assert f"{COOKIE}=s3cret" in first.headers["set-cookie"] and "HttpOnly" in first.headers["set-cookie"]
    assert client.get("/coverage", headers={"Cookie": f"{COOKIE}=s3cret"}).status_code == 200
    assert client.get("/coverage", headers={"Cookie": f"{COOKIE}=other"}).status_code == 401


def test_loopback_and_the_names_a_server_answers():
    assert is_loopback("127.0.0.1") and is_loopback("127.0.0.93") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("reports.example.org")
    assert serving_hosts("127.0.0.93") == ["localhost", "127.0.0.1", "::1", "127.0.0.93"]
    remote = serving_hosts("0.0.0.0", ["Reports.Example.org"])
    assert "0.0.0.0" not in remote and "reports.example.org" in remote and "localhost" in remote


def test_serve_binds_a_reachable_address_only_when_told(where, monkeypatch):
    import uvicorn

    served = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append((app, kw)))
    monkeypatch.delenv("NIANBAO_TOKEN", raising=False)
    runner = CliRunner()
    refused = runner.invoke(cli, ["serve", "--archive", str(where), "--host", "0.0.0.0"])
    assert refused.exit_code == 2 and "--allow-remote" in refused.output and not served

    open_to_all = runner.invoke(cli, ["serve", "--archive", str(where), "--host", "0.0.0.0", "--allow-remote"])
    assert open_to_all.exit_code == 0 and "no --token: anyone who can reach it can read the archive" in " ".join(
        open_to_all.output.split())
    assert served[-1][1]["host"] == "0.0.0.0"

    res = runner.invoke(cli, ["serve", "--archive", str(where), "--host", "0.0.0.0", "--allow-remote",
                              "--allowed-host", "nianbao.example.org"], env={"NIANBAO_TOKEN": "t0ken"})
    assert res.exit_code == 0 and "every request needs the read token" in " ".join(res.output.split())
    client = TestClient(served[-1][0], base_url="http://nianbao.example.org")
    assert client.get("/api/reports").status_code == 401
    assert client.get("/api/reports", headers={"Authorization": "Bearer t0ken"}).status_code == 200
    assert client.get("/api/reports", headers={"Host": "evil.example", "Authorization": "Bearer t0ken"}).status_code \
        == 400

    local = runner.invoke(cli, ["serve", "--archive", str(where)])  # loopback: as before, no flag needed
    assert local.exit_code == 0 and "warning" not in local.output and served[-1][1]["host"] == "127.0.0.1"
