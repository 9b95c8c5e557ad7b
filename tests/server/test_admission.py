"""Admission (hotline/admission.py): a web process lets a few requests into Django at a time,
the webhooks a caller waits on in silence first.

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


def test_a_waiting_caller_is_let_in_before_earlier_routine_requests() -> None:
    async def scenario() -> list[str]:
        slots = Slots(1)
        await slots.acquire(urgent=False)  # the one slot is busy
        order: list[str] = []

        async def request(name: str, urgent: bool) -> None:
            await slots.acquire(urgent=urgent)
            order.append(name)
            await asyncio.sleep(0)
            slots.release()

        tasks = [asyncio.create_task(request("waitUrl 1", False))]
        await _until(lambda: len(slots.waiting[1]) == 1)
        tasks.append(asyncio.create_task(request("recording", False)))
        await _until(lambda: len(slots.waiting[1]) == 2)
        tasks.append(asyncio.create_task(request("bridge", True)))
        await _until(lambda: len(slots.waiting[0]) == 1)
        slots.release()
        await asyncio.gather(*tasks)
        assert slots.free == 1  # every slot came back
        return order

    assert asyncio.run(scenario()) == ["bridge", "waitUrl 1", "recording"]


def test_a_request_given_up_while_waiting_does_not_keep_a_slot() -> None:
    async def scenario() -> int:
        slots = Slots(1)
        await slots.acquire(urgent=False)
        gone = asyncio.create_task(slots.acquire(urgent=False))  # the client hangs up while waiting
        await _until(lambda: len(slots.waiting[1]) == 1)
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        slots.release()
        await asyncio.wait_for(slots.acquire(urgent=True), 1)  # the next one gets in
        slots.release()
        return slots.free

    assert asyncio.run(scenario()) == 1


def test_no_slots_is_refused() -> None:
    with pytest.raises(ValueError):
        Slots(0)


@pytest.mark.django_db(transaction=True)
def test_the_served_application_admits_urgent_paths_first(settings: Any) -> None:
    settings.WEB_SLOTS = 1
    settings.WEB_URGENT_PATHS = ("/healthz",)
    handler = AdmittingASGIHandler()

    async def scenario() -> list[tuple[str, int]]:
        handler.slots = Slots(settings.WEB_SLOTS)
        await handler.slots.acquire(urgent=False)  # a long request holds the only slot
        done: list[tuple[str, int]] = []

        async def get(path: str) -> None:
            answer = await HttpCommunicator(handler, "GET", path, headers=[(b"host", b"127.0.0.1")]).get_response(
                timeout=30
            )
            done.append((path, answer["status"]))

        routine = asyncio.create_task(get("/readyz"))
        await _until(lambda: len(handler.slots.waiting[1]) == 1)
        urgent = asyncio.create_task(get("/healthz"))
        await _until(lambda: len(handler.slots.waiting[0]) == 1)
        handler.slots.release()
        await asyncio.gather(routine, urgent)
        return done

    assert asyncio.run(scenario()) == [("/healthz", 200), ("/readyz", 200)]
