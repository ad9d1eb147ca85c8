"""The evidence scale: a rating per outcome, the strength of the evidence behind it, and one
headline derived from them by a documented rule.

The clearinghouses a manager checks rate differently, and the hub keeps what each shows:
- CrimeSolutions (US National Institute of Justice) rates each outcome of a practice apart:
  *Effective*, *Promising*, *No Effects* (and leaves unrated what it cannot judge). Its terms
  map one to one onto ``effective``, ``promising``, ``no-effect``; evidence it cannot judge is
  ``insufficient`` here.
- The College of Policing's Crime Reduction Toolkit separates the *impact* on crime (reduced,
  increased, no impact, mixed) from the *strength of the evidence* for it, and gives a quality
  level to each EMMIE heading (effect, mechanism, moderators, implementation, economic cost).
  The hub's ``direction`` is the toolkit's impact, ``STRENGTHS`` its quality levels.

A practice's outcomes are each an :class:`Outcome`: what it changes (``OUTCOMES``), in which
direction, how much where known, the rating, and the studies behind it (how many, which
design). ``check_outcome`` says whether the studies meet the rating's definition below.

The headline rating (``headline``), shown with its meaning wherever a practice appears:
1. a practice that makes any outcome worse on rigorous evidence is *harmful*;
2. else the rating of its primary outcome (the first one listed: what the practice is for);
3. a profile in the older format, with no outcomes, keeps its single rating.
Methods (diagnosis and consultation tools: safety surveys, exploratory walks, participatory
mapping) are a kind of their own: described, not rated on an effect they do not claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rating:
    key: str
    label: str
    meaning: str
    #: How much the rating lifts a practice in recommendations (practices/recommender.py).
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
    # Not a verdict on effect: a tool to understand a problem or consult people. Weighted as
    # "insufficient" was for these tools before, so advice ranks them as it did.
    Rating("method", "Method",
           "A tool for diagnosis or consultation, not an intervention: it is described and its use "
           "documented, not rated on an effect on crime.", 0.65),
]}

#: Ratings an outcome can carry (``method`` is a kind of practice, not a finding).
OUTCOME_RATINGS = ("effective", "promising", "mixed", "insufficient", "no-effect", "harmful")

ALIASES = {"no effect": "no-effect", "no_effect": "no-effect", "no effects": "no-effect",
           "insufficient evidence": "insufficient", "insufficient-evidence": "insufficient",
           "insufficient_evidence": "insufficient", "inconclusive": "insufficient"}

#: What a practice can change. A profile may name others, as long as it names them the same way.
OUTCOMES: dict[str, str] = {
    "crime": "Crime",
    "violence": "Violence",
    "victimisation": "Victimisation",
    "reoffending": "Reoffending",
    "fear": "Fear of crime and feelings of safety",
    "trust": "Trust in and satisfaction with police",
    "disorder": "Disorder and antisocial behaviour",
    "drug-market": "Drug dealing and drug markets",
    "injuries": "Injuries and road safety",
    "participation": "Participation and use of public space",
}

#: The direction of an effect, as the toolkit's "impact".
DIRECTIONS: dict[str, str] = {
    "reduces": "reduced",
    "increases": "increased",
    "no-change": "no impact",
    "mixed": "mixed",
    "unknown": "not known",
}

#: Study designs, strongest first.
DESIGNS: dict[str, str] = {
    "systematic-review": "systematic review or meta-analysis",
    "randomised": "randomised controlled trials",
    "quasi-experimental": "quasi-experimental comparisons",
    "observational": "before-and-after or observational studies",
    "case-study": "case studies and practice descriptions",
}
RIGOROUS = {"systematic-review", "randomised", "quasi-experimental"}

#: The toolkit's quality levels, for the strength of the evidence and each EMMIE heading.
STRENGTHS: dict[str, str] = {
    "strong": "Strong",
    "moderate": "Moderate",
    "limited": "Limited",
    "very-limited": "Very limited",
    "none": "No evidence",
}

LEVELS = {
    "primary": "Primary: for everyone, before problems arise (places, general population).",
    "secondary": "Secondary: for people or places at risk.",
    "tertiary": "Tertiary: after an offence, to prevent it happening again.",
}

KINDS = {"intervention": "Intervention", "method": "Method (diagnosis or consultation)"}


def rating(value: str) -> Rating | None:
    key = (value or "").strip().lower()
    return SCALE.get(ALIASES.get(key, key))


@dataclass(frozen=True)
class Outcome:
    """One outcome of a practice, rated on its own as CrimeSolutions does."""
    outcome: str
    direction: str
    rating: Rating
    studies: int | None = None
    design: str | None = None
    #: The size of the effect in words, where known ("about 13 percent less crime").
    size: str | None = None
    note: str | None = None

    @property
    def label(self) -> str:
        return OUTCOMES.get(self.outcome, self.outcome.replace("-", " ").capitalize())

    @property
    def strength(self) -> str:
        return strength(self.studies, self.design)

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "label": self.label, "direction": self.direction,
                "impact": DIRECTIONS.get(self.direction, self.direction), "rating": self.rating.key,
                "rating_label": self.rating.label, "studies": self.studies, "design": self.design,
                "design_label": DESIGNS.get(self.design or "", None), "strength": self.strength,
                "strength_label": STRENGTHS[self.strength], "size": self.size, "note": self.note}


def strength(studies: int | None, design: str | None) -> str:
    """The strength of the evidence from the number and design of the studies (the toolkit's
    levels): a review of 10 or more studies, or 2 or more trials, is strong; a smaller review or
    several comparisons, moderate; one rigorous comparison, limited; anything weaker, very
    limited; no study, none."""
    n = studies or 0
    if n == 0 or not design:
        return "none"
    if design == "systematic-review":
        return "strong" if n >= 10 else "moderate"
    if design == "randomised":
        return "strong" if n >= 2 else "moderate"
    if design == "quasi-experimental":
        return "moderate" if n >= 2 else "limited"
    return "very-limited"


def check_outcome(o: Outcome) -> str | None:
    """Why an outcome's rating does not meet the scale's definition given its studies, or None.

    effective: a systematic review, or 2 or more randomised or quasi-experimental studies;
    promising, no-effect, harmful: at least one rigorous study (review, trial or comparison);
    mixed: at least 2 studies; insufficient: anything."""
    n, design = o.studies or 0, o.design
    key = o.rating.key
    if key == "effective" and not (design == "systematic-review" and n >= 1 or design in RIGOROUS and n >= 2):
        return "'effective' needs a systematic review or at least 2 randomised or quasi-experimental studies"
    if key in ("promising", "no-effect", "harmful") and not (design in RIGOROUS and n >= 1):
        return f"{key!r} needs at least one rigorous study (systematic review, randomised or quasi-experimental)"
    if key == "mixed" and n < 2:
        return "'mixed' needs at least 2 studies that disagree"
    if key == "harmful" and o.direction not in ("increases", "reduces"):
        return "'harmful' needs the direction in which the outcome got worse"
    return None


def is_harm(o: Outcome) -> bool:
    """The outcome got worse on rigorous evidence (the rating "harmful" says so)."""
    return o.rating.key == "harmful"


def headline(kind: str, outcomes: list[Outcome], legacy: Rating | None) -> Rating:
    """The one rating shown first, by the rule in this module's docstring."""
    if kind == "method":
        return SCALE["method"]
    if any(is_harm(o) for o in outcomes):
        return SCALE["harmful"]
    if outcomes:
        return outcomes[0].rating
    return legacy or SCALE["insufficient"]


@dataclass(frozen=True)
class EmmieQuality:
    """The quality of the evidence under each EMMIE heading, on the toolkit's levels: the profile
    author's reading of the sources the profile cites (not copied from the toolkit)."""
    levels: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, dict[str, str]]:
        return {k: {"level": v, "label": STRENGTHS.get(v, v)} for k, v in self.levels.items()}
