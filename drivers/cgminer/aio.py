"""Run a few device requests at once and surface the first failure as itself.

``asyncio.TaskGroup`` cancels the siblings of a failed request (so a dead device
costs one timeout, not several) but wraps the failure in an ``ExceptionGroup``;
callers of a driver expect the plain :class:`drivers.errors.DriverError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["gather_all", "gather_pair"]

A = TypeVar("A")
B = TypeVar("B")


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    return first


async def gather_pair(a: Coroutine[Any, Any, A], b: Coroutine[Any, Any, B]) -> tuple[A, B]:
    try:
        async with asyncio.TaskGroup() as group:
            task_a = group.create_task(a)
            task_b = group.create_task(b)
    except BaseExceptionGroup as failed:
        raise _first_leaf(failed) from None
    return task_a.result(), task_b.result()


async def gather_all(coros: list[Coroutine[Any, Any, A]]) -> list[A]:
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(coro) for coro in coros]
    except BaseExceptionGroup as failed:
        raise _first_leaf(failed) from None
    return [task.result() for task in tasks]
