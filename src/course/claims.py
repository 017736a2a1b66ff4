"""The checked claims of the two articles and their verdicts, from ``course/data/claims.yaml``.

One file holds the course's verdict on every checked claim (docs/accuracy.md): the "Claims
checked" page is generated from it, and quiz keys (``claim:`` in the banks), notebook cells
(``{"course": {"claims": {...}}}`` metadata) and pages (the ``{verdict}`` role) that state a
verdict name the claim, so a test can check that they agree with this file.

``LABELS`` is the one place where the words a quiz or a page uses for a verdict ("Held",
"Borne out by the record", "Cannot be true") are mapped to the file's verdicts and outcomes.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Annotated, Literal

try:
    import yaml
except ModuleNotFoundError:  # in the browser: Pyodide has no PyYAML (docs/lite.md)
    yaml = None  # type: ignore[assignment]
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from course.quotations import QuotationError, check_quotation
from course.sources import UnknownParagraphError

Verdict = Literal["supported", "partly", "unsupported", "false", "unverifiable", "opinion"]
Outcome = Literal["held", "failed", "untested", "mixed"]
Kind = Literal["fact", "forecast", "opinion", "attribution"]
VERDICTS: tuple[str, ...] = ("supported", "partly", "unsupported", "false", "unverifiable",
                             "opinion")
OUTCOMES: tuple[str, ...] = ("held", "failed", "untested", "mixed")
_ID_RE = r"^[a-b][0-9]{1,2}-[a-z0-9]+(-[a-z0-9]+)*$"
Text = Annotated[str, Field(min_length=1)]

# What a reader is told each verdict and outcome means (shown on the Claims checked page).
MEANINGS: dict[str, str] = {
    "supported": "an archived public page confirms it",
    "partly": "part of it is confirmed, part is wrong, overstated or missing",
    "unsupported": "searched for, and no evidence was found",
    "false": "the record shows the opposite, or it cannot be true",
    "unverifiable": "it cannot be checked with the material available (a quotation with no "
                    "source, a vague appeal to unnamed experts)",
    "opinion": "a judgement or a forecast, not a checkable fact when it was written",
    "held": "events went the way the forecast said",
    "failed": "events went the other way",
    "untested": "the situation the forecast is about has not arisen",
    "mixed": "part of the forecast held and part failed",
}

# The words quizzes and pages use for a verdict, mapped to the verdicts or outcomes they state.
# A label agrees with a claim when the claim's verdict or outcome is in the label's set.
LABELS: dict[str, frozenset[str]] = {
    "held": frozenset({"held"}),
    "borne out": frozenset({"held"}),
    "borne out by the record": frozenset({"held"}),
    "failed": frozenset({"failed"}),
    "untested": frozenset({"untested"}),
    "mixed": frozenset({"mixed"}),
    "supported": frozenset({"supported"}),
    "confirmed": frozenset({"supported"}),
    "partly": frozenset({"partly"}),
    "partly supported": frozenset({"partly"}),
    "partly true": frozenset({"partly"}),
    "unsupported": frozenset({"unsupported"}),
    "no evidence found": frozenset({"unsupported"}),
    "false": frozenset({"false"}),
    "cannot be true": frozenset({"false"}),
    "unverifiable": frozenset({"unverifiable"}),
    "cannot be checked": frozenset({"unverifiable"}),
    "opinion": frozenset({"opinion"}),
}
_LABEL_RES = sorted(
    ((label, re.compile(rf"(?<!\w){re.escape(label)}(?!\w)", re.IGNORECASE)) for label in LABELS),
    key=lambda item: -len(item[0]),
)


# A page's verdict: ``{verdict}`claim-id``` or ``{verdict}`Label <claim-id>```.
VERDICT_ROLE_RE = re.compile(
    r"\{verdict\}`(?:(?P<label>[^`<]+?)\s*<(?P<id>[a-z0-9-]+)>|(?P<bare>[a-z0-9-]+))`"
)
# A verdict word set in bold outside the role ("**Held**"): a verdict stated unchecked.
_BOLD_RE = re.compile(r"\*\*(?P<words>[^*\n]{1,40})\*\*")


class ClaimsDataError(ValueError):
    """claims.yaml is malformed; the message has one line per problem."""


class UnknownClaimError(KeyError):
    """A claim id that is not in claims.yaml."""

    def __str__(self) -> str:
        return str(self.args[0])


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    title: Text
    url: Annotated[str, Field(pattern=r"^https?://\S+$")]


class Claim(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Annotated[str, Field(pattern=_ID_RE)]
    para: Annotated[str, Field(pattern=r"^[AB][1-9][0-9]?$")]
    quote: Text
    claim: Text
    kind: Kind
    verdict: Verdict
    outcome: Outcome | None = None
    reason: Text
    sources: list[Source] = []

    @model_validator(mode="after")
    def _consistent(self) -> Claim:
        if not self.id.upper().startswith(f"{self.para}-"):
            raise ValueError(f"the id must start with its paragraph, e.g. "
                             f"'{self.para.lower()}-...'")
        if self.kind == "forecast" and self.outcome is None:
            raise ValueError("a forecast needs an outcome (held, failed, untested or mixed)")
        if self.kind != "forecast" and self.outcome is not None:
            raise ValueError("only a forecast has an outcome; say in the reason how the "
                             "record changed since")
        # a verdict that rests on the record must show the record
        if self.verdict in ("supported", "partly", "unsupported") and not self.sources:
            raise ValueError(f"a '{self.verdict}' verdict needs at least one source")
        try:
            check_quotation(self.para, self.quote)
        except (QuotationError, UnknownParagraphError) as exc:
            raise ValueError(f"misquotation: {exc}") from None
        return self

    @property
    def label(self) -> str:
        """The verdict as a reader sees it: "false", "opinion, outcome: held"."""
        if self.outcome is None:
            return self.verdict
        return f"{self.verdict}, outcome: {self.outcome}"

    @property
    def anchor(self) -> str:
        """The HTML id of the claim on the Claims checked page."""
        return f"claim-{self.id}"

    def agrees_with(self, stated: str) -> bool:
        """Whether a verdict or outcome word (``"false"``, ``"held"``) is this claim's."""
        return stated in (self.verdict, self.outcome)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    claims: list[Claim] = Field(min_length=1)


def parse_claims(raw: object, source: str = "claims.yaml") -> tuple[Claim, ...]:
    """Validate parsed YAML; every problem becomes one line of a ``ClaimsDataError``."""
    try:
        claims = _File.model_validate(raw).claims
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = err["loc"]
            where = "file"
            if len(loc) >= 2 and loc[0] == "claims" and isinstance(loc[1], int):
                entries = raw.get("claims") if isinstance(raw, dict) else None
                entry = entries[loc[1]] if isinstance(entries, list) else None
                cid = entry.get("id") if isinstance(entry, dict) else None
                where = f"claim '{cid}'" if cid else f"claim #{loc[1] + 1}"
                loc = loc[2:]
            field = ".".join(str(p) for p in loc)
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{source}: {where}" + (f": field '{field}'" if field else "") +
                         f": {msg}")
        raise ClaimsDataError("\n".join(lines)) from None
    ids = [c.id for c in claims]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ClaimsDataError(f"{source}: claim ids must be unique; repeated: "
                              f"{', '.join(repeated)}")
    return tuple(claims)


@cache
def load_claims() -> tuple[Claim, ...]:
    """Every checked claim, in the order of the articles."""
    # The in-browser site's build writes claims.json from claims.yaml (docs/lite.md).
    if yaml is None:
        path = resources.files("course") / "data" / "claims.json"
        return parse_claims(json.loads(path.read_text(encoding="utf-8")))
    path = resources.files("course") / "data" / "claims.yaml"
    return parse_claims(yaml.safe_load(path.read_text(encoding="utf-8")))


def claim(claim_id: str) -> Claim:
    """The claim with this id; ``UnknownClaimError`` names the nearest ids if there is none."""
    for c in load_claims():
        if c.id == claim_id:
            return c
    prefix = claim_id.split("-", 1)[0]
    near = [c.id for c in load_claims() if c.id.startswith(prefix + "-")]
    hint = f"; the claims of {prefix.upper()} are {', '.join(near)}" if near else ""
    raise UnknownClaimError(f"there is no claim {claim_id!r} in claims.yaml{hint}")


def label_verdicts(text: str) -> frozenset[str] | None:
    """The verdicts or outcomes a label states ("Borne out by the record" -> {"held"}).

    The longest label found in ``text`` wins; ``None`` when the text states no verdict.
    """
    for label, pattern in _LABEL_RES:
        if pattern.search(text):
            return LABELS[label]
    return None


def contradiction(claim_id: str, stated_text: str) -> str | None:
    """Why ``stated_text`` (a quiz key, a label) contradicts the claim's verdict, or None."""
    c = claim(claim_id)
    stated = label_verdicts(stated_text)
    if stated is None:
        return (f"{stated_text!r} states no verdict the course knows (one of "
                f"{', '.join(sorted(LABELS))}), so it cannot be checked against claim "
                f"'{claim_id}' ({c.label})")
    if not any(c.agrees_with(s) for s in stated):
        return (f"{stated_text!r} states {', '.join(sorted(stated))}, but claims.yaml gives "
                f"claim '{claim_id}' the verdict {c.label}")
    return None


def page_problems(text: str) -> list[str]:
    """Verdicts a page states that the file contradicts, or that name no claim.

    A page states a verdict with the ``{verdict}`` role; a verdict word set in bold outside
    it (``**Failed**``) is a verdict the build cannot check, and is reported too.
    """
    out = []
    for m in VERDICT_ROLE_RE.finditer(text):
        cid = m.group("id") or m.group("bare")
        try:
            claim(cid)
        except UnknownClaimError as exc:
            out.append(str(exc))
            continue
        if m.group("label"):
            why = contradiction(cid, m.group("label"))
            if why:
                out.append(why)
    for m in _BOLD_RE.finditer(VERDICT_ROLE_RE.sub(" ", text)):
        words = m.group("words").strip()
        # only a bold verdict on its own ("**Failed**", "**borne out.**"), not a phrase
        if words.strip(" .,;:!?\"\u201c\u201d").lower() in LABELS:
            out.append(f"**{words}** states a verdict without naming its claim: write it as "
                       f"{{verdict}}`{words} <claim-id>`")
    return out


def notebook_problems(notebook: dict) -> list[str]:
    """Cells whose ``course.claims`` metadata contradicts the file or names no claim."""
    out = []
    for index, cell in enumerate(notebook.get("cells", []), start=1):
        stated = cell.get("metadata", {}).get("course", {}).get("claims", {})
        if not isinstance(stated, dict):
            out.append(f"cell {index}: course.claims must map claim ids to verdicts")
            continue
        for cid, verdict in stated.items():
            try:
                why = contradiction(cid, str(verdict))
            except UnknownClaimError as exc:
                out.append(f"cell {index}: {exc}")
                continue
            if why:
                out.append(f"cell {index}: {why}")
    return out
