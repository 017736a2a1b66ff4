"""`course report quiz RESPONSES`: the class's answers downloaded from Canvas (Student
Analysis) or Moodle (Responses report), matched to the bank, and the item report written.
The downloads are made from the bank by tests/lms_responses.py, in the layouts each LMS's
code writes (cited there)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from course.cli import main
from course.quiz.lms import select_banks
from course.quiz.lms.responses import ResponsesError, analyse_responses
from tests.support.lms_responses import right_share, write_canvas, write_moodle

WRITERS = {"canvas": write_canvas, "moodle": write_moodle}


@pytest.fixture(scope="module")
def bank():
    """The chapter with the most question types, so that every reader path is used."""
    return max(select_banks(), key=lambda b: len({q.type for q in b.questions}))


@pytest.fixture
def course_root(tmp_path: Path) -> Path:
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    return tmp_path


def report(root: Path, *args: str):
    return CliRunner().invoke(main, ["--root", str(root), "report", "quiz", *args])


@pytest.mark.parametrize("lms", ["canvas", "moodle"])
def test_answers_come_back_with_known_difficulties(lms: str, bank, tmp_path: Path) -> None:
    path = WRITERS[lms](bank, tmp_path / f"{lms}-scenario-ordered-class.csv")
    analysis = analyse_responses(path, [bank])
    assert [s.item for s in analysis.items] == [q.id for q in bank.questions]
    n = len(bank.questions)
    expected = [round(right_share(k, n) * 30) / 30 for k in range(n)]
    assert [s.difficulty for s in analysis.items] == pytest.approx(expected)
    assert analysis.students == 30 and analysis.reliability_name == "KR-20"
    assert all(s.discrimination > 0 for s in analysis.items)
    choice = next(s for s in analysis.items if s.options)
    top_right = max(hi for hi, _ in choice.options.values())
    assert top_right == 1.0  # the best third all chose the key


def test_a_miskeyed_item_is_flagged_for_revision(bank, tmp_path: Path) -> None:
    bad = bank.questions[len(bank.questions) // 2].id
    path = write_canvas(bank, tmp_path / "canvas-miskeyed-item.csv", miskeyed=bad)
    analysis = analyse_responses(path, [bank])
    item = next(s for s in analysis.items if s.item == bad)
    assert item.discrimination < 0 and "negative discrimination: revise" in item.flags
    assert all("revise" not in " ".join(s.flags) for s in analysis.items if s.item != bad)


def test_cli_writes_html_csv_and_figure(bank, course_root: Path) -> None:
    path = write_moodle(bank, course_root / "moodle-responses.csv")
    result = report(course_root, str(path), "--to", "reports")
    assert result.exit_code == 0, result.output
    assert "30 students" in result.output and "KR-20" in result.output
    out = course_root / "reports"
    page = (out / "moodle-responses-items.html").read_text()
    assert all(q.id in page for q in bank.questions)
    with open(out / "moodle-responses-items.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["item"] for r in rows if r["item"] in {q.id for q in bank.questions}} == {
        q.id for q in bank.questions}
    assert (out / "moodle-responses-items.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_unknown_question_column_is_named(bank, course_root: Path) -> None:
    path = write_canvas(bank, course_root / "canvas-unknown-column.csv")
    rows = list(csv.reader(path.read_text().splitlines()))
    rows[0][5] = "9999: A question this bank never had"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    result = report(course_root, str(path))
    assert result.exit_code == 1
    assert "9999: A question this bank never had" in result.output
    assert "no bank question has this text" in result.output


def test_a_file_with_no_question_columns_is_refused(course_root: Path) -> None:
    path = course_root / "no-question-columns.csv"
    path.write_text("name,id,section,section_id,submitted,n correct,n incorrect,score\n"
                    "A,1,S,2,now,0,0,0\n")
    result = report(course_root, str(path))
    assert result.exit_code == 1 and "no question columns found" in result.output
    other = course_root / "neither-lms.csv"
    other.write_text("who,what\nme,this\n")
    result = report(course_root, str(other))
    assert result.exit_code == 1 and "neither Canvas's Student Analysis" in result.output


def test_moodle_responses_without_question_text_say_what_to_tick(bank, tmp_path: Path) -> None:
    path = write_moodle(bank, tmp_path / "moodle-without-question-text.csv")
    rows = list(csv.reader(path.read_text().splitlines()))
    keep = [i for i, h in enumerate(rows[0]) if not h.startswith("Question ")]
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([[r[i] for i in keep] for r in rows])
    with pytest.raises(ResponsesError, match="tick 'Question text'"):
        analyse_responses(path, [bank])


def test_an_empty_file_is_refused(course_root: Path) -> None:
    empty = course_root / "empty-download.csv"
    empty.write_text("")
    result = report(course_root, str(empty))
    assert result.exit_code == 1 and "the file is empty" in result.output
    missing = report(course_root)
    assert missing.exit_code == 2 and "needs the responses file" in missing.output
