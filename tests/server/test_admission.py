"""Admission (hotline/admission.py): a web process lets a few requests into Django at a time:
a call being connected first, then the webhooks a caller waits on in silence, then the rest.

Without it a burst of call-centre webhooks ran fifty at once in one process, the transaction
holding the queue lock got a fiftieth of the GIL, and a caller waited 0.5–1.3 s to be bridged
(bench/callcentre/README.md)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.testing import HttpCommunicator

from hotline.admission import AdmittingASGIHandler, Slots


async def _until(condition: Any) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition never held")


def test_a_connecting_call_goes_before_a_greeting_and_a_greeting_before_routine_requests() -> None:
    async def scenario() -> list[str]:
        slots = Slots(1)
        await slots.acquire(rank=2)  # the one slot is busy
        order: list[str] = []

        async def request(name: str, rank: int) -> None:
            await slots.acquire(rank=rank)
            order.append(name)
            await asyncio.sleep(0)
            slots.release()

        tasks = []
        for name, rank in [("waitUrl 1", 2), ("incoming call", 1), ("recording", 2), ("bridge", 0), ("desk menu", 1)]:
            tasks.append(asyncio.create_task(request(name, rank)))
            waiting = sum(len(queue) for queue in slots.waiting)
            await _until(lambda w=waiting: sum(len(queue) for queue in slots.waiting) == w + 1)
        slots.release()
        await asyncio.gather(*tasks)
        assert slots.free == 1  # every slot came back
        return order

    assert asyncio.run(scenario()) == ["bridge", "incoming call", "desk menu", "waitUrl 1", "recording"]


def test_a_request_given_up_while_waiting_does_not_keep_a_slot() -> None:
    async def scenario() -> int:
        slots = Slots(1)
        await slots.acquire(rank=2)
        gone = asyncio.create_task(slots.acquire(rank=2))  # the client hangs up while waiting
        await _until(lambda: len(slots.waiting[2]) == 1)
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        slots.release()
        await asyncio.wait_for(slots.acquire(rank=0), 1)  # the next one gets in
        slots.release()
        return slots.free

    assert asyncio.run(scenario()) == 1


def test_no_slots_is_refused() -> None:
    with pytest.raises(ValueError):
        Slots(0)


@pytest.mark.django_db(transaction=True)
def test_the_served_application_admits_by_the_paths_ranks(settings: Any) -> None:
    settings.WEB_SLOTS = 1
    settings.WEB_CONNECTING_PATHS = ("/livez",)
    settings.WEB_URGENT_PATHS = ("/healthz",)
    handler = AdmittingASGIHandler()

    async def scenario() -> list[tuple[str, int]]:
        handler.slots = Slots(settings.WEB_SLOTS)
        await handler.slots.acquire(rank=2)  # a long request holds the only slot
        done: list[tuple[str, int]] = []

        async def get(path: str) -> None:
            answer = await HttpCommunicator(handler, "GET", path, headers=[(b"host", b"127.0.0.1")]).get_response(
                timeout=30
            )
            done.append((path, answer["status"]))

        routine = asyncio.create_task(get("/readyz"))
        await _until(lambda: len(handler.slots.waiting[2]) == 1)
        urgent = asyncio.create_task(get("/healthz"))
        await _until(lambda: len(handler.slots.waiting[1]) == 1)
        connecting = asyncio.create_task(get("/livez"))
        await _until(lambda: len(handler.slots.waiting[0]) == 1)
        handler.slots.release()
        await asyncio.gather(routine, urgent, connecting)
        return done

    assert [path for path, _status in asyncio.run(scenario())] == ["/livez", "/healthz", "/readyz"]


def test_the_bridge_and_the_operators_leg_rank_above_the_incoming_call() -> None:
    handler = AdmittingASGIHandler()
    rank = handler.ranks.get
    assert rank("/webhooks/twilio/callcentre/bridge/") == rank("/webhooks/twilio/callcentre/seat/") == 0
    assert rank("/webhooks/twilio/callcentre/voice/") == rank("/webhooks/twilio/voice/") == 1
    assert rank("/webhooks/twilio/callcentre/recording/", 2) == 2
