"""Which model a miner is, when the firmware's own answers disagree.

A miner names its model in more than one place (Antminer: the web ``get_system_info`` and
the RPC ``version``), and a reflashed or refurbished unit can carry another model's name
in one of them: a real S19 Pro answered "Antminer S19 Pro" over RPC and "Antminer S21"
on the web. Stock firmware reports no power, so the model sets the power estimate, and on
a site without a meter that error goes straight into the grid budget.

When the names agree, they are the model. When they disagree, the physical evidence the
unit reports decides: its hash boards, the chips on each, and its hashrate against each
candidate's nameplate, read from the model table (hardware as data). The decision and the
disagreement are kept as :class:`drivers.types.IdentityConflict` for the operator.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from drivers.models import ModelSpec, UnknownModel, lookup_model, models_of, normalise_model_name
from drivers.types import IdentityConflict, Make

__all__ = ["Claim", "Evidence", "UnitIdentity", "Verdict", "decide_model"]

# A unit at its ideal rate is within a few percent of nameplate; a tuned or worn one within
# this band. Outside it, the hashrate says "another model".
_RATE_BAND = (0.75, 1.25)


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    source: str  # where the firmware said it: "web get_system_info", "rpc version"
    model: str  # what it said, as reported


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitIdentity:
    """What a unit's firmware says about itself, each field None where it says nothing."""

    model: str | None
    firmware: str | None = None
    api_version: str | None = None  # where the make has API generations (Whatsminer v2/v3)
    serial: str | None = None
    mac: str | None = None
    hostname: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """What the unit physically reports (None: not reported)."""

    boards: int | None = None  # hash boards that answer
    chips_per_board: tuple[int, ...] = ()  # chips each board found
    hashrate_ths: float | None = None  # the firmware's ideal rate, else its measured one

    def describe(self) -> str:
        parts = []
        if self.boards is not None:
            parts.append(f"{self.boards} boards")
        if self.chips_per_board:
            chips = sorted(set(self.chips_per_board))
            parts.append(f"{'/'.join(str(c) for c in chips)} chips per board")
        if self.hashrate_ths is not None:
            parts.append(f"{self.hashrate_ths:.0f} TH/s")
        return ", ".join(parts) or "no physical evidence"


@dataclass(frozen=True, slots=True)
class Verdict:
    model: str  # the model to use: a claim's text, or a table row's name
    spec: ModelSpec | None
    conflict: IdentityConflict | None  # None when the sources agreed


def _fit(spec: ModelSpec, evidence: Evidence) -> tuple[int, list[str]]:
    """How many of the evidence's facts match ``spec`` (each of three counts one), and the
    facts that do not, in words."""
    score, against = 0, []
    if evidence.boards is not None:
        if evidence.boards == spec.boards:
            score += 1
        else:
            against.append(f"{evidence.boards} boards, not {spec.boards}")
    if evidence.chips_per_board:
        if all(c == spec.chips_per_board for c in evidence.chips_per_board):
            score += 1
        else:
            against.append(f"chips per board not {spec.chips_per_board}")
    if evidence.hashrate_ths is not None and spec.nameplate_ths:
        share = evidence.hashrate_ths / spec.nameplate_ths
        if _RATE_BAND[0] <= share <= _RATE_BAND[1]:
            score += 1
        else:
            against.append(f"{share:.0%} of its {spec.nameplate_ths:g} TH/s nameplate")
    return score, against


def _spec(make: Make, model: str) -> ModelSpec | None:
    try:
        return lookup_model(make, model)
    except UnknownModel:
        return None


def _best(make: Make, candidates: Iterable[ModelSpec], evidence: Evidence) -> ModelSpec | None:
    """The candidate the evidence fits best; None on a tie at the top or no fit at all."""
    ranked = sorted(((_fit(s, evidence)[0], s) for s in candidates), key=lambda p: -p[0])
    if not ranked or ranked[0][0] == 0:
        return None
    if len(ranked) > 1 and ranked[1][0] == ranked[0][0]:
        return None
    return ranked[0][1]


def decide_model(make: Make, claims: Sequence[Claim], evidence: Evidence | None) -> Verdict:
    """The model the unit is. Agreeing (or single) claims stand; disagreeing ones are
    settled by ``evidence``: first among the claimed models, then among every model of
    the make; with no evidence that decides, the first claim stands and the conflict says
    so. ``claims`` must not be empty."""
    distinct: dict[str, Claim] = {}
    for claim in claims:
        distinct.setdefault(normalise_model_name(claim.model), claim)
    first = claims[0]
    if len(distinct) == 1:
        return Verdict(first.model, _spec(make, first.model), None)
    evidence = evidence or Evidence()
    claimed = [s for c in distinct.values() if (s := _spec(make, c.model)) is not None]
    spec = _best(make, claimed, evidence) or _best(make, models_of(make), evidence)
    reported = tuple((c.source, c.model) for c in claims)
    if spec is None:
        conflict = IdentityConflict(
            reported=reported,
            decided=first.model,
            evidence=f"{evidence.describe()}: fits no claimed model better; kept {first.source}'s",
        )
        return Verdict(first.model, _spec(make, first.model), conflict)
    rejected = [
        f"{c.model}: {'; '.join(_fit(s, evidence)[1]) or 'fits less well'}"
        for c in distinct.values()
        if (s := _spec(make, c.model)) is not None and s is not spec
    ]
    why = f"{evidence.describe()} fit {spec.model}"
    if rejected:
        why += " (" + ", ".join(rejected) + ")"
    name = next((c.model for c in distinct.values() if _spec(make, c.model) is spec), spec.model)
    return Verdict(name, spec, IdentityConflict(reported, name, why))
