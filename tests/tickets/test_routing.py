"""按责转办: the catalogue, its fallbacks, the classifier's threshold, overrides and hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tickets.core.actors import Actor
from tickets.core.models import Ticket, TicketEvent
from tickets.core.selectors import classifier_training_rows
from tickets.core.services import workflow
from tickets.org.models import Category
from tickets.routing.services.catalogue import route_lookup

from .helpers import lead_of, new_ticket


@pytest.mark.parametrize(
    ("category", "place", "lead", "assisting"),
    [
        ("zswr", "donghu", "donghu", {"sthjj"}),  # noise: territorial → the district, environment bureau assists
        ("zswr", "xishan-lihu", "xishan", {"sthjj"}),  # a street inherits its district's rule
        ("wzjz", "nancheng-yongan-c1", "nancheng", {"cgj"}),  # a community too
        ("wygl", "gaoxin", "gaoxin", {"zjj"}),
        ("tqgz", "donghu-xinhua", "rsj", set()),  # wages: functional → 人社局, never the street
        ("yfk", "jiangbin", "scjgj", {"swj"}),
        ("sdq", "beitang", "swjt", {"gdgs", "rqjt"}),  # utilities
        ("dqwr", "xishan", "sthjj", set()),  # functional sub-category of a territorial top category
        ("wztc", None, "jtysj", set()),  # no place: category-only rule of the parent (交通运输)
        ("ylfw", None, "wjw", set()),
    ],
)
def test_the_catalogue_picks_the_lead_unit(
    units, cats, category: str, place: str | None, lead: str, assisting: set
) -> None:
    route = route_lookup(category=cats[category], jurisdiction=units[place] if place else None)
    assert route is not None
    assert route.lead_unit.code == lead
    assert {u.code for u in route.assisting_units} == assisting


def test_a_territorial_matter_without_any_rule_falls_back_to_the_district(units) -> None:
    orphan = Category.objects.create(code="qt", name="其他属地事项")
    route = route_lookup(category=orphan, jurisdiction=units["beitang-tangxi"])
    assert route is not None and route.lead_unit == units["beitang"] and route.basis.startswith("属地兜底")


def test_a_functional_matter_without_a_rule_waits_for_a_human_instead_of_going_to_a_street(units) -> None:
    orphan = Category.objects.create(code="zn", name="某职能事项", is_functional=True)
    assert route_lookup(category=orphan, jurisdiction=units["beitang-tangxi"]) is None
    ticket = new_ticket(category=orphan, district=units["beitang-tangxi"])
    assert ticket.state == "dispatching" and not ticket.assignments.exists()


def test_the_place_is_found_in_the_text_when_the_operator_gave_none(units, cats) -> None:
    ticket = new_ticket(category=cats["zswr"], text="西山区丽湖街道工地夜间施工噪声扰民", address="")
    assert ticket.jurisdiction == units["xishan-lihu"] and ticket.lead_unit == units["xishan"]
    assert TicketEvent.objects.filter(ticket=ticket, action="jurisdiction_found").exists()


def test_a_confident_prediction_dispatches_automatically_and_says_why(demo_model: Path, units) -> None:
    ticket = new_ticket(
        text="本人在高新区某科技公司工作，公司已拖欠三个月工资共两万余元，老板失联，请求帮助讨薪。", kind="help"
    )
    assert ticket.state == "in_progress", ticket.classification
    assert ticket.category.name == "劳动和社会保障" and ticket.lead_unit == units["rsj"]
    classified = TicketEvent.objects.get(ticket=ticket, action="classified")
    assert classified.actor_kind == "classifier"
    assert classified.data["model_version"] and classified.data["confidence"] >= classified.data["threshold"]
    assert classified.data["terms"]
    dispatch = TicketEvent.objects.get(ticket=ticket, action="dispatch")
    assert dispatch.actor_kind == "classifier"


def test_low_confidence_waits_in_the_dispatcher_queue_with_top_suggestions(demo_model: Path, api) -> None:
    ticket = new_ticket(text="你好，我想反映一个情况，具体的等会再说。")
    assert ticket.state == "dispatching"
    queue = api("dispatcher1").get("/api/dispatch-queue/").json()["results"]
    row = next(r for r in queue if r["id"] == ticket.pk)
    assert 1 <= len(row["suggestions"]) <= 3
    assert all(s["category"] for s in row["suggestions"])
    probabilities = [s["probability"] for s in row["suggestions"]]
    assert probabilities == sorted(probabilities, reverse=True)


def test_a_dispatchers_override_is_recorded_and_becomes_training_data(demo_model: Path, units, cats, user) -> None:
    ticket = new_ticket(text="你好，我想反映一个情况，具体的等会再说。")
    dispatcher = Actor.of(user("dispatcher1"))
    workflow.ticket_dispatch(ticket=ticket, actor=dispatcher, lead_unit=units["wjw"], category=cats["ylfw"])
    changed = TicketEvent.objects.get(ticket=ticket, action="category_changed")
    assert changed.data["to"] == "医疗服务" and changed.actor.username == "dispatcher1"
    ticket.refresh_from_db()
    assert ticket.category_source == "human"
    Ticket.objects.filter(pk=ticket.pk).update(state="closed")
    assert (ticket.text, "卫生计生") in list(classifier_training_rows())


def test_a_corrupt_model_does_not_take_intake_down(demo_model: Path, tmp_path: Path, settings, units) -> None:
    broken = tmp_path / "broken-models"
    broken.mkdir()
    for item in demo_model.iterdir():
        (broken / item.name).write_bytes(
            b"\x80\x04not a model" if item.suffix not in {".json", ".lock"} else item.read_bytes()
        )
    settings.CLASSIFIER_MODEL_DIR = broken
    ticket = new_ticket(text="公司拖欠工资三个月")
    assert ticket.state == "dispatching"  # unsure: a human decides, nothing crashed


@pytest.mark.parametrize(
    "text",
    [
        "",
        "长" * 100_000,
        "The street light is broken",
        "🙂🙂🙂",
        "這條馬路坑坑窪窪很危險",
        "。。。！！！？？？",
        "\ud800坏了",
    ],
)
def test_hostile_text_gets_an_answer_from_the_classifier(demo_model: Path, text: str) -> None:
    from tickets.routing.services.classification import ticket_predict

    prediction = ticket_predict(Ticket(title="", text=text))
    assert prediction.unsure or prediction.top_k


def test_hostile_text_through_the_api_lands_in_the_store(demo_model: Path, api) -> None:
    for text in ["The street light is broken", "🙂🙂🙂 路灯", "這條馬路坑坑窪窪很危險", "。。。！！！？？？"]:
        response = api("operator1").post("/api/tickets/", {"text": text}, format="json")
        assert response.status_code == 201, (text, response.json())


def test_reply_flow_still_reaches_the_lead(demo_model: Path, units) -> None:
    ticket = new_ticket(text="本人在某科技公司工作，公司已拖欠三个月工资共两万余元，老板失联，请求帮助讨薪。")
    assert lead_of(ticket).unit == units["rsj"]
