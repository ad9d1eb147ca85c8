"""The evidence scale, close to CrimeSolutions and the College of Policing toolkit.

Every place a rating appears shows its meaning too, so a manager never has to guess what
"promising" promises. ``weight`` is how much a rating lifts a practice in recommendations.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rating:
    key: str
    label: str
    meaning: str
    weight: float


SCALE: dict[str, Rating] = {r.key: r for r in [
    Rating("effective", "Effective",
           "Strong evidence from several rigorous evaluations (randomised or well-matched comparisons, "
           "or systematic reviews) that it achieves its intended outcomes.", 1.0),
    Rating("promising", "Promising",
           "Some rigorous evidence that it achieves its intended outcomes; more evaluation is needed "
           "before the result can be called firm.", 0.9),
    Rating("mixed", "Mixed",
           "Evaluations disagree: it has worked in some places or for some people and not for others; "
           "the conditions matter.", 0.75),
    Rating("insufficient", "Insufficient evidence",
           "Too few or too weak evaluations to say whether it works; try it only with an evaluation "
           "built in.", 0.65),
    Rating("no-effect", "No effect",
           "Rigorous evaluations found no meaningful effect on the intended outcomes.", 0.35),
    Rating("harmful", "Harmful",
           "Rigorous evaluations found that it makes outcomes worse. Do not adopt it.", 0.0),
]}

ALIASES = {"no effect": "no-effect", "no_effect": "no-effect", "insufficient evidence": "insufficient",
           "insufficient-evidence": "insufficient", "insufficient_evidence": "insufficient"}

LEVELS = {
    "primary": "Primary: for everyone, before problems arise (places, general population).",
    "secondary": "Secondary: for people or places at risk.",
    "tertiary": "Tertiary: after an offence, to prevent it happening again.",
}


def rating(value: str) -> Rating | None:
    key = (value or "").strip().lower()
    return SCALE.get(ALIASES.get(key, key))
