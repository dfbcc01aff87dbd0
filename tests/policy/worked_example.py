"""Generates the worked-example table in controller/policy/README.md from the day scenario.

Run ``.venv/bin/python -m tests.policy.worked_example`` to print it; test_readme.py
checks that the README holds exactly this output, so its numbers stay true.
"""

from __future__ import annotations

from controller.policy import Action, Plan
from tests.policy.day import at, price_at, run_day

TIMES = ["05:55", "06:00", "06:05", "14:05", "15:05", "15:55", "17:05", "17:35",
         "19:00", "20:00", "20:05"]  # fmt: skip
SHOWN = {"a": "a-S19jPro-00", "c": "c-S21-00", "gi": "gi-h200-0"}


def _row(hhmm: str, result: Plan) -> str:
    running = {"a": 0, "b": 0, "c": 0}
    for target in result.targets():
        prefix = target.device_id.split("-")[0]
        if prefix in running and target.action is Action.RUN:
            running[prefix] += 1
    gpus = []
    for n in (0, 1):
        t = result.target(f"gi-h200-{n}")
        gpus.append("drained" if t.action is Action.DRAIN else f"{t.gpu_power_limit_w:,.0f} W")
    cells = [
        hhmm,
        f"${price_at(at(hhmm)):,.0f}",
        f"{running['a']}/{running['b']}/{running['c']}",
        " + ".join(gpus),
        f"{result.expected_site_w / 1000:.2f}",
        result.target(SHOWN["a"]).reason,
        result.target(SHOWN["c"]).reason,
        result.target(SHOWN["gi"]).reason,
    ]
    return "| " + " | ".join(cells) + " |"


def table() -> str:
    plans = dict(run_day())
    header = (
        "| time | price | S19j Pro/S19 XP/S21 running | interruptible H200 limits | site kW"
        " | reason: S19j Pro #0 | reason: S21 #0 | reason: interruptible H200 #0 |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    return header + "\n" + "\n".join(_row(t, plans[at(t)]) for t in TIMES) + "\n"


if __name__ == "__main__":
    print(table(), end="")
