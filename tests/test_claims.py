"""claims.yaml: the course's verdicts on the articles' claims, and how they are loaded."""

from __future__ import annotations

import copy
from importlib import resources

import pytest
import yaml

from course.claims import (
    LABELS,
    OUTCOMES,
    VERDICTS,
    ClaimsDataError,
    UnknownClaimError,
    claim,
    contradiction,
    label_verdicts,
    load_claims,
    parse_claims,
)
from course.sources import articles


def _raw() -> dict:
    path = resources.files("course") / "data" / "claims.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_every_claim_loads_with_a_checked_quotation_and_a_known_paragraph() -> None:
    claims = load_claims()
    assert len(claims) >= 70
    assert len({c.id for c in claims}) == len(claims)
    paragraphs = {p.id for a in articles() for p in a.paragraphs}
    assert {c.para for c in claims} <= paragraphs
    # both articles, and every forecast has an outcome
    assert {c.para[0] for c in claims} == {"A", "B"}
    assert all(c.outcome in OUTCOMES for c in claims if c.kind == "forecast")


def test_the_key_findings_of_the_fact_check_are_in_the_file() -> None:
    assert claim("a2-moscow-june-2019-meeting").verdict == "false"
    assert claim("a14-start-with-north-korea").verdict == "false"
    assert claim("a10-three-railway-lines").verdict == "unsupported"
    assert claim("b6-joint-military-exercises").verdict == "unsupported"
    assert claim("a16-unlikely-to-intervene").outcome == "untested"
    # B14 is a claim about the past, false when written, not a forecast that failed
    b14 = claim("b14-avoiding-military-conflicts")
    assert (b14.kind, b14.verdict, b14.outcome) == ("fact", "false", None)


def test_a_misquotation_in_the_file_is_rejected() -> None:
    raw = _raw()
    bad = copy.deepcopy(raw)
    entry = next(c for c in bad["claims"] if c["id"] == "b4-flexibility")
    entry["quote"] = "Russian foreign policy is flexible"
    with pytest.raises(ClaimsDataError, match=r"claim 'b4-flexibility': misquotation: B4"):
        parse_claims(bad)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"verdict": "probably"}, "field 'verdict'"),
        ({"outcome": None}, "a forecast needs an outcome"),
        ({"kind": "fact"}, "only a forecast has an outcome"),
        ({"id": "b9-support-diplomatically"}, "the id must start with its paragraph"),
        ({"sources": [{"title": "x", "url": "not a url"}]}, "field 'sources.0.url'"),
    ],
)
def test_malformed_claims_are_reported_by_id_and_field(change: dict, message: str) -> None:
    bad = copy.deepcopy(_raw())
    entry = next(c for c in bad["claims"] if c["id"] == "b4-support-diplomatically")
    entry.update(change)
    with pytest.raises(ClaimsDataError, match=message):
        parse_claims(bad)


def test_a_sourced_verdict_without_sources_is_rejected() -> None:
    bad = copy.deepcopy(_raw())
    entry = next(c for c in bad["claims"] if c["id"] == "b1-cold-war-ally")
    entry["sources"] = []
    with pytest.raises(ClaimsDataError, match="'supported' verdict needs at least one source"):
        parse_claims(bad)


def test_repeated_ids_are_rejected() -> None:
    bad = copy.deepcopy(_raw())
    bad["claims"].append(copy.deepcopy(bad["claims"][0]))
    with pytest.raises(ClaimsDataError, match="repeated: a1-revived-friendship"):
        parse_claims(bad)


def test_an_unknown_id_names_the_claims_of_that_paragraph() -> None:
    with pytest.raises(UnknownClaimError, match="b4-support-diplomatically"):
        claim("b4-support")


def test_labels_map_onto_the_scale_and_contradictions_are_explained() -> None:
    for stated in LABELS.values():
        assert stated <= set(VERDICTS) | set(OUTCOMES)
    assert label_verdicts("Borne out by the record") == {"held"}
    assert label_verdicts("Cannot be true") == {"false"}
    assert label_verdicts("Partly supported") == {"partly"}
    assert label_verdicts("Rests on a misreading") is None
    assert contradiction("a8-partnership-grow-stronger", "Held") is None
    assert "claims.yaml gives" in contradiction("a8-partnership-grow-stronger", "Failed")
    assert "states no verdict" in contradiction("a8-partnership-grow-stronger", "Rests on x")
