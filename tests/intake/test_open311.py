"""Open311 GeoReport v2, exercised by `georeport` (a PyPI client this project did not write)
against the app served by pytest-django's live_server.

georeport 0.3.1 reads (services, requests, one request) but has no method to file; filing is the
spec's form-encoded POST /requests.json with an api_key, sent with `requests` as any client does.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from georeport import GeoReport

from tickets.core.models import Ticket
from tickets.intake.services import partners


@pytest.fixture
def endpoint(live_server: Any, city: Any) -> str:
    return f"{live_server.url}/open311/v2"


@pytest.fixture
def api_key(city: Any) -> str:
    key, _ = partners.partner_key_create(name="城市随手拍")
    return key


def file_request(endpoint: str, api_key: str, **fields: str) -> requests.Response:
    data = {
        "api_key": api_key,
        "service_code": "wztc",
        "description": "东湖区新华街道幸福路口长期有车辆违章停车，堵塞消防通道",
        "address_string": "东湖区新华街道幸福路12号",
        "first_name": "明",
        "last_name": "李",
        "phone": "13700137000",
        **fields,
    }
    return requests.post(f"{endpoint}/requests.json", data=data, timeout=10)


def test_a_partner_files_a_request_and_reads_it_back_with_georeport(endpoint: str, api_key: str) -> None:
    client = GeoReport(endpoint)
    services = client.get_service_list()
    codes = {s["service_code"]: s for s in services}
    assert codes["wztc"]["service_name"] == "违章停车" and codes["wztc"]["group"] == "交通运输"

    filed = file_request(endpoint, api_key)
    assert filed.status_code == 201
    number = filed.json()[0]["service_request_id"]
    ticket = Ticket.objects.get(number=number)
    assert (ticket.channel, ticket.category.code, ticket.citizen_phone) == ("open311", "wztc", "+8613700137000")  # type: ignore[union-attr]
    assert ticket.citizen_name == "李明"

    one = client.get_service_request(number)
    assert one["service_request_id"] == number and one["status"] == "open"
    assert one["service_code"] == "wztc" and one["requested_datetime"].endswith("+08:00")
    assert one["description"] == ""  # the public read carries no citizen text
    assert number in [r["service_request_id"] for r in client.get_service_requests(status="open")]
    assert client.get_service_requests(status="closed") == []

    xml = GeoReport(endpoint, output_format="xml")
    assert xml.get_service_request(number)["status"] == "open"
    assert any(s["service_code"] == "wztc" for s in xml.get_service_list())

    own = requests.get(f"{endpoint}/requests/{number}.json", params={"api_key": api_key}, timeout=10).json()[0]
    assert "消防通道" in own["description"] and own["address"].startswith("东湖区")


def test_statuses_follow_the_lifecycle(endpoint: str, api_key: str) -> None:
    number = file_request(endpoint, api_key).json()[0]["service_request_id"]
    Ticket.objects.filter(number=number).update(state="closed")

    assert GeoReport(endpoint).get_service_request(number)["status"] == "closed"


def test_filing_errors_are_open311_error_lists(endpoint: str, api_key: str) -> None:
    bad_key = file_request(endpoint, "wrong-key")
    no_text = file_request(endpoint, api_key, description="")
    no_place = file_request(endpoint, api_key, address_string="")
    unknown = file_request(endpoint, api_key, service_code="nope")
    xml = requests.post(f"{endpoint}/requests.xml", data={"api_key": "x"}, timeout=10)

    assert bad_key.status_code == 403 and bad_key.json()[0]["code"] == 403
    assert no_text.status_code == 400 and "description" in no_text.json()[0]["description"]
    assert no_place.status_code == 400
    assert unknown.status_code == 404
    assert xml.status_code == 403 and xml.text.startswith('<?xml version="1.0" encoding="utf-8"?><errors><error>')
    assert not Ticket.objects.exists()


def test_coordinates_are_checked_and_read_back(endpoint: str, api_key: str) -> None:
    off_earth = file_request(endpoint, api_key, address_string="", lat="999", long="-500")
    words = file_request(endpoint, api_key, address_string="", lat="abc", long="xyz")
    half = file_request(endpoint, api_key, address_string="", lat="28.6")
    too_long = file_request(endpoint, api_key, address_string="幸福路" * 200)

    assert off_earth.status_code == 400 and off_earth.json()[0]["description"].startswith("lat 超出范围")
    assert words.status_code == 400 and "lat 必须是十进制度数" in words.json()[0]["description"]
    assert half.status_code == 400 and "long" in half.json()[0]["description"]
    assert too_long.status_code == 400 and "address_string" in too_long.json()[0]["description"]
    assert not Ticket.objects.exists()

    placed = file_request(endpoint, api_key, address_string="", lat="28.68", long="115.89")
    number = placed.json()[0]["service_request_id"]
    own = requests.get(f"{endpoint}/requests/{number}.json", params={"api_key": api_key}, timeout=10).json()[0]
    assert (own["lat"], own["long"]) == (28.68, 115.89)


def test_a_json_body_and_an_unknown_status_are_refused_by_name(endpoint: str, api_key: str) -> None:
    body = {"api_key": api_key, "service_code": "wztc", "description": "路灯"}
    as_json = requests.post(f"{endpoint}/requests.json", json=body, timeout=10)
    assert as_json.status_code == 415 and "表单编码" in as_json.json()[0]["description"]
    bogus = requests.get(f"{endpoint}/requests.json", params={"status": "bogus"}, timeout=10)
    assert bogus.status_code == 400 and "status 只能是 open 或 closed" in bogus.json()[0]["description"]
    assert not Ticket.objects.exists()


def test_a_retry_with_the_same_idempotency_key_files_one_request(endpoint: str, api_key: str) -> None:
    data = {
        "api_key": api_key,
        "service_code": "wztc",
        "description": "幸福路口违章停车堵塞消防通道",
        "lat": "28.6",
        "long": "115.9",
    }

    def post(key: str, **more: str) -> requests.Response:
        return requests.post(
            f"{endpoint}/requests.json", data={**data, **more}, headers={"Idempotency-Key": key}, timeout=10
        )

    first, retry = post("partner-req-1"), post("partner-req-1")
    assert first.status_code == retry.status_code == 201 and first.json() == retry.json()
    assert Ticket.objects.count() == 1
    changed = post("partner-req-1", description="另一件事：路灯不亮")
    assert changed.status_code == 400 and "Idempotency-Key" in changed.json()[0]["description"]
    assert post("partner-req-2").status_code == 201 and Ticket.objects.count() == 2


def test_an_unknown_open311_address_answers_a_georeport_error_list(endpoint: str) -> None:
    for path in ("/requests/1.5.json", "/requests.yaml"):
        missing = requests.get(endpoint + path, timeout=10)
        assert missing.status_code == 404
        assert missing.json() == [{"code": 404, "description": "未找到"}]


def test_other_channels_tickets_are_not_readable_through_open311(endpoint: str, api_key: str, user: Any) -> None:
    from tickets.core.actors import Actor
    from tickets.intake.services import intake

    phone_ticket = intake.ticket_create(actor=Actor.of(user("operator1")), channel="phone", text="来电反映的私人诉求")
    response = requests.get(f"{endpoint}/requests/{phone_ticket.number}.json", timeout=10)

    assert response.status_code == 404
    assert requests.get(f"{endpoint}/requests.json", timeout=10).json() == []
