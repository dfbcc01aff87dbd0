"""Carrying out commands through the command service the HTTP API uses, once per id."""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from typing import Any

from controller.errors import ControllerError
from controller.integrations.api_models import EconomicsBody, EventBody, PauseBody
from controller.integrations.mqtt.commands import (
    Command,
    CommandRefused,
    DeviceRef,
    ErrorKind,
    EventRef,
    EventUpdate,
    OverrideSet,
)
from controller.integrations.mqtt.topics import CommandName
from controller.service.control import ControlService, InvalidRequest, NotFound

__all__ = ["ACTOR_PREFIX", "CommandExecutor", "Outcome", "error_reply"]

log = logging.getLogger(__name__)

ACTOR_PREFIX = "mqtt:"  # the journal's actor is "mqtt:<command id>"

Outcome = dict[str, Any]


def error_reply(refused: CommandRefused, name: CommandName | None) -> Outcome:
    return {
        "id": refused.command_id,
        "command": None if name is None else name.value,
        "ok": False,
        "error": {"type": refused.kind.value, "message": refused.message},
    }


class CommandExecutor:
    def __init__(self, service: ControlService, *, remember: int) -> None:
        self._service = service
        self._remember = remember
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.results: Counter[str] = Counter()  # by outcome, for the metrics

    def remember(self, command_ids: list[str]) -> None:
        """Ids already carried out (from the journal, at start): a redelivery is a duplicate."""
        for command_id in command_ids:
            self._mark(command_id)

    def _mark(self, command_id: str) -> None:
        self._seen[command_id] = None
        self._seen.move_to_end(command_id)
        while len(self._seen) > self._remember:
            self._seen.popitem(last=False)

    def count(self, outcome: str) -> None:
        self.results[outcome] += 1

    def is_duplicate(self, command_id: str) -> bool:
        return command_id in self._seen

    async def execute(self, command: Command) -> Outcome | None:
        """The reply, or None for a duplicate id (answered once, the first time)."""
        if command.command_id in self._seen:
            self.count("duplicate")
            return None
        self._mark(command.command_id)  # before any await: a redelivery meanwhile is a duplicate
        actor = f"{ACTOR_PREFIX}{command.command_id}"
        try:
            result = await self._run(command, actor)
        except NotFound as exc:
            return self._refused(command, CommandRefused(ErrorKind.NOT_FOUND, str(exc)))
        except InvalidRequest as exc:
            return self._refused(command, CommandRefused(ErrorKind.INVALID, str(exc)))
        except ControllerError as exc:
            log.warning("command %s (%s) failed: %s", command.command_id, command.name, exc)
            return self._refused(command, CommandRefused(ErrorKind.FAILED, str(exc)))
        self.count("accepted")
        log.info("command %s (%s) carried out", command.command_id, command.name.value)
        return {
            "id": command.command_id,
            "command": command.name.value,
            "ok": True,
            "result": result,
        }

    def _refused(self, command: Command, refused: CommandRefused) -> Outcome:
        self.count(refused.kind.value)
        refused.command_id = command.command_id
        return error_reply(refused, command.name)

    async def _run(self, command: Command, actor: str) -> dict[str, Any]:
        service, args = self._service, command.args
        match command.name:
            case CommandName.EVENT_CREATE:
                assert isinstance(args, EventBody)
                return (await service.create_event(args.to_spec(), actor)).as_json()
            case CommandName.EVENT_UPDATE:
                assert isinstance(args, EventUpdate)
                changes = args.model_dump(exclude_unset=True, exclude={"event_id"})
                return (await service.update_event(args.event_id, changes, actor)).as_json()
            case CommandName.EVENT_CANCEL:
                assert isinstance(args, EventRef)
                return (await service.cancel_event(args.event_id, actor)).as_json()
            case CommandName.OVERRIDE_SET:
                assert isinstance(args, OverrideSet)
                found = await service.set_override(
                    args.device_id, args.action, args.ttl_s, args.reason, actor
                )
                return found.as_json()
            case CommandName.OVERRIDE_CLEAR:
                assert isinstance(args, DeviceRef)
                await service.clear_override(args.device_id, actor)
                return {"cleared": args.device_id}
            case CommandName.PAUSE:
                assert isinstance(args, PauseBody)
                await service.pause(args.reason, actor)
                return {"paused": True}
            case CommandName.RESUME:
                await service.resume(actor)
                return {"paused": False}
            case CommandName.PRICES:
                assert isinstance(args, EconomicsBody)
                await service.set_economics(
                    power_price=args.power_price_usd_per_mwh,
                    hashprice=args.hashprice_usd_per_ph_day,
                    as_of=args.as_of,
                    source=args.source,
                    actor=actor,
                )
                return {
                    "power_price_usd_per_mwh": args.power_price_usd_per_mwh,
                    "hashprice_usd_per_ph_day": args.hashprice_usd_per_ph_day,
                }
