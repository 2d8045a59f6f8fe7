"""How a screen's call reaches the core: a service method goes straight to the DB thread
and its future is awaited (one hop), other blocking work gets a thread of its own."""

from __future__ import annotations

import asyncio
import threading

from app_helpers import make_app, settle, unlock

SIZE = (100, 30)


async def test_a_service_call_is_one_hop_to_the_db_thread(layout, session, monkeypatch):
    from luna_tui.services.journal import EntryDraft, Journal
    from luna_tui.services.settings import Settings

    me = Settings(session).current_patient_id()
    Journal(session).create(me, EntryDraft(content="counted"))
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await settle(pilot)
        handed_to_a_thread = []
        real_to_thread = asyncio.to_thread

        async def to_thread(fn, *args, **kwargs):  # noqa: ANN001, ANN202
            handed_to_a_thread.append(fn)
            return await real_to_thread(fn, *args, **kwargs)

        monkeypatch.setattr(asyncio, "to_thread", to_thread)
        journal = Journal(app.session)
        assert await app.call(journal.count, me) == 1
        assert await app.call(app.session.run, lambda: threading.current_thread().name) \
            == await app.call(app.session.run, lambda: threading.current_thread().name)
        assert handed_to_a_thread == []

        def file_work() -> str:
            return threading.current_thread().name

        worker = await app.attempt(file_work)
        db_thread = await app.call(app.session.run, lambda: threading.current_thread().name)
        assert handed_to_a_thread == [file_work] and worker != db_thread


async def test_a_write_handed_over_is_not_lost_when_the_screen_stops_waiting(layout, session):
    """The caller is cancelled (a screen closed) after handing a write to the DB thread:
    the write still happens, as it did when a worker thread ran it."""
    from luna_tui.services.journal import EntryDraft, Journal
    from luna_tui.services.settings import Settings

    me = Settings(session).current_patient_id()
    session.close()
    app = make_app(layout)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await settle(pilot)
        gate = threading.Event()
        app.session.submit(gate.wait, 5)  # the DB thread is busy: the write queues
        journal = Journal(app.session)
        waiting = asyncio.ensure_future(app.call(journal.create, me, EntryDraft(content="kept")))
        await asyncio.sleep(0)
        waiting.cancel()
        gate.set()
        await settle(pilot)
        page = await app.call(journal.page, me)
        assert [e.content for e in page.entries] == ["kept"]
