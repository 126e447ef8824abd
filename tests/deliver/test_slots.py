"""Request slots: rows under way first, and a cancelled waiter never loses a slot."""

from __future__ import annotations

import asyncio

from importer.deliver.slots import Slots


async def test_rows_under_way_get_a_free_slot_before_fresh_rows() -> None:
    slots = Slots(1)
    await slots.acquire()
    order: list[str] = []

    async def take(name: str, fresh: bool) -> None:
        await slots.acquire(fresh)
        order.append(name)
        slots.release()

    waiting = [
        asyncio.create_task(take("fresh", True)),
        asyncio.create_task(take("retry", False)),
    ]
    await asyncio.sleep(0)
    slots.release()
    await asyncio.gather(*waiting)
    assert order == ["retry", "fresh"]


async def test_a_request_cancelled_while_waiting_for_a_slot_leaves_the_queue() -> None:
    slots = Slots(1)
    await slots.acquire()
    waiter = asyncio.create_task(slots.acquire(fresh=True))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    slots.release()
    # The slot is free again: the next request gets it at once, without waiting.
    await asyncio.wait_for(slots.acquire(), timeout=1)


async def test_a_slot_handed_to_a_request_cancelled_before_it_ran_is_passed_on() -> None:
    slots = Slots(1)
    await slots.acquire()
    first = asyncio.create_task(slots.acquire())
    second = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    slots.release()  # hands the slot to ``first`` …
    first.cancel()  # … which is cancelled before it could take it
    await asyncio.gather(first, return_exceptions=True)
    await asyncio.wait_for(second, timeout=1)  # so ``second`` has it now
    assert first.cancelled() and second.done()
