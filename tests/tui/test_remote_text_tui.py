"""Issue 15 item 7 in the TUI: a register's hostile text (a refusal reason, an error message)
is shown without its escape sequences, in the tables, the result panel and every toast."""

from __future__ import annotations

import pytest

from bench.errors import SyncError
from bench.tui.screens.supervisor import SupervisorScreen
from tests.tui.conftest import notifications, wait_for

pytestmark = pytest.mark.asyncio

HOSTILE = "\x1b[2J\x1b]0;PWNED-TITLE\x07\x9b31m refused"
CONTROLS = ("\x1b", "\x07", "\x9b")


def _clean(text: str) -> bool:
    return not any(c in text for c in CONTROLS)


async def test_rejection_reason_error_and_toast_reach_the_screen_clean(app_factory, station):
    from bench.store import outbox

    rec = station.store.append("note", {"text": "x"})
    outbox.reject(station.store, rec.uuid, "already refused: " + HOSTILE)
    app = app_factory()
    async with app.run_test(size=(120, 34)) as pilot:
        app.push_screen(SupervisorScreen())
        screen = await wait_for(pilot, lambda: isinstance(app.screen, SupervisorScreen) and app.screen)
        rej = await wait_for(pilot, lambda: screen.query("#rejected") and screen.query_one("#rejected"))
        await wait_for(pilot, lambda: rej.row_count == 1)
        cell = str(rej.get_cell(rec.uuid, "error"))
        assert "already refused" in cell and _clean(cell)

        screen.post_message(SupervisorScreen.Done("exported:\n" + HOSTILE))
        await wait_for(pilot, lambda: any("refused" in n for n in notifications(app)))
        screen.post_message(SupervisorScreen.Done("", SyncError("the register failed: HTTP 500: " + HOSTILE)))
        await wait_for(pilot, lambda: any("HTTP 500" in n for n in notifications(app)))
        app.notify(HOSTILE, title=HOSTILE)
        await pilot.pause()
        toasts = notifications(app)
        assert len(toasts) >= 3 and all(_clean(t) for t in toasts), toasts
        screen.query_one("TabbedContent").active = "tab-certs"
        await pilot.pause()
        result = str(screen.query_one("#cert-result").render())
        assert "refused" in result and _clean(result)
