"""The item statistics shared by `course report quiz` and `course report psN`, against a
textbook example with known values and against answers simulated from items of known
difficulty."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course.itemstats import analyse, cronbach_alpha, flags_for, thirds

# KR-20 worked example (10 students x 10 items, 1 = right), "Reliability coefficient using
# the KR-20 & 21", https://pdfcoffee.com/kr-20-and-kr-21-pdf-free.html: p per item
# .7 .7 .3 .4 .8 .7 .6 .4 .4 .9, sum of pq 2.05, variance of totals 3.29, KR-20 = 0.42.
TEXTBOOK = np.array([
    [1, 1, 0, 0, 1, 1, 0, 0, 1, 1],
    [0, 0, 1, 0, 1, 1, 0, 1, 0, 0],
    [1, 1, 1, 1, 0, 0, 1, 1, 1, 1],
    [0, 1, 0, 1, 1, 0, 1, 1, 0, 1],
    [1, 1, 0, 0, 1, 1, 1, 0, 1, 1],
    [1, 1, 1, 1, 1, 1, 1, 0, 1, 1],
    [1, 0, 0, 0, 0, 1, 1, 0, 0, 1],
    [1, 1, 0, 0, 1, 1, 1, 1, 0, 1],
    [1, 1, 0, 1, 1, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 1, 1, 0, 0, 0, 1],
])


def test_textbook_example_difficulty_and_kr20() -> None:
    items = [f"item{k}" for k in range(1, 11)]
    result = analyse("textbook", items, TEXTBOOK)
    assert [round(s.difficulty, 2) for s in result.items] == [
        0.7, 0.7, 0.3, 0.4, 0.8, 0.7, 0.6, 0.4, 0.4, 0.9]
    assert sum(s.difficulty * (1 - s.difficulty) for s in result.items) == pytest.approx(2.05)
    assert np.var(TEXTBOOK.sum(axis=1)) == pytest.approx(3.29)
    assert result.reliability_name == "KR-20" and round(result.reliability, 2) == 0.42
    assert result.students == 10


def test_discrimination_is_the_correlation_with_the_rest_of_the_test() -> None:
    result = analyse("textbook", [str(k) for k in range(10)], TEXTBOOK)
    rest = TEXTBOOK.sum(axis=1) - TEXTBOOK[:, 0]
    assert result.items[0].discrimination == pytest.approx(np.corrcoef(TEXTBOOK[:, 0], rest)[0, 1])
    # the item is not correlated with itself: the corrected value is below the uncorrected one
    whole = np.corrcoef(TEXTBOOK[:, 0], TEXTBOOK.sum(axis=1))[0, 1]
    assert result.items[0].discrimination < whole


def test_alpha_for_partial_credit_and_its_limits() -> None:
    scores = np.array([[1, 0.5, 1], [0.5, 0.5, 0], [0, 0, 0.5], [1, 1, 1]])
    result = analyse("partial", ["a", "b", "c"], scores)
    assert result.reliability_name == "Cronbach's alpha"
    k, item_var, total_var = 3, scores.var(axis=0).sum(), scores.sum(axis=1).var()
    assert result.reliability == pytest.approx(k / (k - 1) * (1 - item_var / total_var))
    assert cronbach_alpha(np.ones((4, 3))) != cronbach_alpha(np.ones((4, 3)))  # NaN: no spread


def test_simulated_answers_recover_the_known_order_of_difficulty() -> None:
    """Rasch-like answers: 600 students of normal ability, items of known easiness; the
    report's difficulties must come out in the same order, near the expected shares."""
    rng = np.random.default_rng(2026)
    easiness = np.array([-3.5, -1.5, 0.0, 1.5, 3.0, 5.0])
    ability = rng.normal(scale=1.7, size=600)
    p = 1 / (1 + np.exp(-(ability[:, None] + easiness[None, :])))
    scores = (rng.random(p.shape) < p).astype(float)
    result = analyse("simulated", [f"e{e:g}" for e in easiness], scores)
    found = [s.difficulty for s in result.items]
    assert found == sorted(found)  # hardest first, as simulated
    assert np.allclose(found, p.mean(axis=0), atol=0.05)
    assert all(s.discrimination > 0.1 for s in result.items)  # all measure the ability
    assert "easy (difficulty above 0.9)" in result.items[-1].flags
    assert "hard (difficulty below 0.2)" in result.items[0].flags


def test_an_item_that_favours_weak_students_is_flagged_for_revision() -> None:
    rng = np.random.default_rng(7)
    ability = rng.normal(size=300)
    good = (ability[:, None] + rng.normal(size=(300, 4)) > 0).astype(float)
    miskeyed = (ability + rng.normal(size=300) < 0).astype(float)  # right answer keyed wrong
    result = analyse("miskeyed", ["a", "b", "c", "d", "bad"], np.column_stack([good, miskeyed]))
    bad = result.items[-1]
    assert bad.discrimination < 0 and "negative discrimination: revise" in bad.flags


def test_flags_follow_the_usual_thresholds() -> None:
    assert flags_for(0.5, 0.4) == ()
    assert flags_for(0.19, 0.4) == ("hard (difficulty below 0.2)",)
    assert flags_for(0.91, 0.4) == ("easy (difficulty above 0.9)",)
    assert flags_for(0.5, 0.19) == ("low discrimination (below 0.2)",)
    assert flags_for(0.5, -0.1) == ("negative discrimination: revise",)
    assert "undefined" in flags_for(1.0, math.nan)[1]


def test_distractor_shares_in_the_top_and_bottom_thirds() -> None:
    scores = np.array([[1, 1], [1, 1], [1, 0], [0, 1], [0, 0], [0, 0]])
    chosen = [[{"a"}, {"a"}, {"a"}, {"b"}, {"c"}, {"b"}], [None] * 6]
    result = analyse("d", ["q1", "q2"], scores, choices=chosen,
                     options=[["a", "b", "c"], []])
    top, bottom = thirds(scores.sum(axis=1))
    assert list(top) == [0, 1] and list(bottom) == [5, 4]
    assert result.items[0].options == {"a": (1.0, 0.0), "b": (0.0, 0.5), "c": (0.0, 0.5)}
    assert result.items[1].options == {}


@pytest.mark.parametrize("scores, message", [
    (np.zeros((0, 2)), "no students"),
    (np.array([[0.5, 2.0]]), "between 0 and 1"),
    (np.array([[0.5]]), "2 items"),
])
def test_bad_input_is_refused_clearly(scores: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        analyse("bad", ["a", "b"], scores)
