"""4CP peak flags from a provider's JSON URL become 4CP window events."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from controller import policy
from controller.signals.errors import BadSignal
from controller.signals.fourcp import FourCpSource, parse_flags
from tests.signals.conftest import BY_HAND, HubRig
from tests.signals.local_server import LocalServer


async def test_flags_become_windows_and_a_withdrawn_flag_cancels(rig: HubRig) -> None:
    now = rig.clock.time()
    answers: list[Any] = []

    def doc(*flags: tuple[float, float, bool]) -> dict[str, Any]:
        return {"flags": [{"start": now + a, "end": now + b, "peak": p} for a, b, p in flags]}

    async def serve(_: web.Request) -> web.Response:
        body = answers[0] if len(answers) == 1 else answers.pop(0)
        if isinstance(body, bytes):
            return web.Response(body=body, content_type="application/json")
        return web.json_response(body)

    async with LocalServer(routes=[web.get("/4cp", serve)]) as server:
        source = FourCpSource("four_cp", rig.clock, url=f"{server.base}/4cp", headers={}, **BY_HAND)
        answers.extend(
            [
                doc((-1800, -900, True), (900, 1800, True), (1800, 2700, False)),
                doc((900, 1800, True), (1800, 2700, False)),  # the same again: no news
                b"<html>maintenance</html>",
                doc((900, 1800, False)),  # withdrawn
            ]
        )
        for _ in range(4):
            await source.poll_once(rig.hub)
        await source.stop()
    [window] = rig.state.events.values()
    assert window.kind is policy.EventKind.FOUR_CP
    assert (window.start, window.end) == (now + 900, now + 1800)
    assert window.cancelled_at is not None
    assert {k.value: n for k, n in rig.hub.stats["four_cp"].errors.items()} == {"malformed": 1}
    assert len(await rig.journal.entries(["event.created"])) == 1


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.lists(
            st.dictionaries(
                st.sampled_from(["start", "end", "peak", "x"]),
                st.one_of(
                    st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=25)
                ),
                max_size=4,
            ),
            max_size=4,
        ).map(lambda flags: json.dumps({"flags": flags}).encode()),
    )
)
def test_fuzz_the_flag_parser(body: bytes) -> None:
    with contextlib.suppress(BadSignal):
        parse_flags(body)
