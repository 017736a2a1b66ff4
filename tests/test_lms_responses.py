"""`course report quiz RESPONSES --idents MAP`: the class's answers downloaded from Canvas
(Student Analysis) or Moodle (Responses report), matched through the export's ident map to the
bank, and the item report written. The downloads are made from the bank by
tests/support/lms_responses.py, in the layouts each LMS's code writes (cited there)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from course.cli import main
from course.quiz.bank import Bank, quizzes_dir
from course.quiz.lms import export, select_banks
from course.quiz.lms.idents import LMS_OF, IdentsError, canvas_text, moodle_text
from course.quiz.lms.responses import ResponsesError, analyse_responses
from tests.support.lms_responses import right_share, write_canvas, write_moodle

WRITERS = {"canvas": write_canvas, "moodle": write_moodle}
EXPORT_OF = {"canvas": "qti", "moodle": "moodle"}  # the file each LMS imported the quiz from


@pytest.fixture(scope="module")
def bank() -> Bank:
    """The chapter with the most question types, so that every reader path is used."""
    return max(select_banks(), key=lambda b: len({q.type for q in b.questions}))


@pytest.fixture(scope="module")
def maps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The ident maps the instructor's exports wrote: Canvas's quiz came from the QTI zip,
    Moodle's from the Moodle XML file (every chapter in both)."""
    out = tmp_path_factory.mktemp("lms")
    return {lms: export(fmt, out).idents for lms, fmt in EXPORT_OF.items()}  # type: ignore[arg-type]


@pytest.fixture
def course_root(tmp_path: Path) -> Path:
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    return tmp_path


def report(root: Path, *args: str):
    return CliRunner().invoke(main, ["--root", str(root), "report", "quiz", *args])


def reworded(bank: Bank, question_id: str) -> Bank:
    """The bank after the instructor rewrote one question's prompt."""
    questions = [q.model_copy(update={"prompt": "Reworded: " + q.prompt})
                 if q.id == question_id else q for q in bank.questions]
    return bank.model_copy(update={"questions": questions})


def without(bank: Bank, question_id: str) -> Bank:
    """The bank after the instructor deleted one question."""
    return bank.model_copy(update={"questions": [q for q in bank.questions
                                                 if q.id != question_id]})


@pytest.mark.parametrize("lms", ["canvas", "moodle"])
def test_answers_come_back_through_the_map_with_known_difficulties(
        lms: str, bank: Bank, maps: dict[str, Path], tmp_path: Path) -> None:
    path = WRITERS[lms](bank, tmp_path / f"{lms}-scenario-ordered-class.csv")
    analysis = analyse_responses(path, maps[lms])
    assert [s.item for s in analysis.items] == [q.id for q in bank.questions]
    n = len(bank.questions)
    expected = [round(right_share(k, n) * 30) / 30 for k in range(n)]
    assert [s.difficulty for s in analysis.items] == pytest.approx(expected)
    assert analysis.students == 30 and analysis.reliability_name == "KR-20"
    assert all(s.discrimination > 0 for s in analysis.items)
    choice = next(s for s in analysis.items if s.options)
    top_right = max(hi for hi, _ in choice.options.values())
    assert top_right == 1.0  # the best third all chose the key
    assert analysis.notes == ()  # the bank is as exported


@pytest.mark.parametrize(("lms", "fmt"), [(lms, fmt) for fmt, names in LMS_OF.items()
                                           for lms in names])
def test_every_export_an_lms_imports_has_a_map_that_reads_its_download(
        lms: str, fmt: str, bank: Bank, tmp_path: Path) -> None:
    """cc is imported by both LMSs, qti by Canvas, moodle and gift by Moodle: the quiz holds
    the questions the format carries."""
    result = export(fmt, tmp_path / "lms", chapters=[bank.chapter])  # type: ignore[arg-type]
    carried = bank.model_copy(update={"questions": [
        q for q in bank.questions if q.id in result.exact + result.approximate]})
    path = WRITERS[lms](carried, tmp_path / f"{lms}-from-{fmt}.csv")
    analysis = analyse_responses(path, result.idents)
    assert [s.item for s in analysis.items] == [q.id for q in carried.questions]
    assert analysis.notes == ()


def test_a_miskeyed_item_is_flagged_for_revision(bank: Bank, maps: dict[str, Path],
                                                  tmp_path: Path) -> None:
    bad = bank.questions[len(bank.questions) // 2].id
    path = write_canvas(bank, tmp_path / "canvas-miskeyed-item.csv", miskeyed=bad)
    analysis = analyse_responses(path, maps["canvas"])
    item = next(s for s in analysis.items if s.item == bad)
    assert item.discrimination < 0 and "negative discrimination: revise" in item.flags
    assert all("revise" not in " ".join(s.flags) for s in analysis.items if s.item != bad)


def test_cli_writes_html_csv_and_figure(bank: Bank, maps: dict[str, Path],
                                        course_root: Path) -> None:
    path = write_moodle(bank, course_root / "moodle-responses.csv")
    result = report(course_root, str(path), "--idents", str(maps["moodle"]), "--to", "reports")
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


def test_a_column_that_fits_no_map_entry_names_the_column_and_the_map(
        bank: Bank, maps: dict[str, Path], course_root: Path) -> None:
    path = write_canvas(bank, course_root / "canvas-unknown-column.csv")
    rows = list(csv.reader(path.read_text().splitlines()))
    rows[0][5] = "9999: A question this bank never had"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    result = report(course_root, str(path), "--idents", str(maps["canvas"]))
    assert result.exit_code == 1
    assert "'9999: A question this bank never had'" in result.output
    assert f"no question of the map {maps['canvas']} has this text" in result.output


def test_a_question_reworded_after_the_export_is_still_matched_with_one_notice(
        bank: Bank, maps: dict[str, Path], tmp_path: Path) -> None:
    changed = bank.questions[1].id
    for lms, writer in WRITERS.items():  # the class answered the wording of the export
        path = writer(bank, tmp_path / f"{lms}-before-rewording.csv")
        analysis = analyse_responses(path, maps[lms], [reworded(bank, changed)])
        assert [s.item for s in analysis.items] == [q.id for q in bank.questions]
        assert len(analysis.notes) == 1, analysis.notes
        assert f"question '{changed}' was reworded after the export" in analysis.notes[0]
        assert "Reworded: " in analysis.notes[0]  # what the bank says now, beside the old
        item = next(s for s in analysis.items if s.item == changed)
        assert "Reworded" not in item.label  # the report shows the wording the class saw


def test_the_cli_prints_the_rewording_note_and_puts_it_in_the_page(
        bank: Bank, maps: dict[str, Path], course_root: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The instructor edits the bank's YAML after the quiz was given, then runs the report."""
    edited = course_root / "quizzes"
    shutil.copytree(quizzes_dir(), edited)
    source = edited / f"{bank.chapter}.yaml"
    data = yaml.safe_load(source.read_text("utf-8"))
    changed = data["questions"][0]
    changed["prompt"] = "Reworded: " + changed["prompt"]
    source.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    monkeypatch.setenv("COURSE_QUIZZES_DIR", str(edited))
    path = write_moodle(bank, course_root / "moodle-old-wording.csv")
    result = report(course_root, str(path), "--idents", str(maps["moodle"]), "--to", "reports")
    assert result.exit_code == 0, result.output
    notes = [ln for ln in result.output.splitlines() if ln.startswith("note: ")]
    assert len(notes) == 1 and f"question '{changed['id']}' was reworded" in notes[0]
    page = (course_root / "reports/moodle-old-wording-items.html").read_text("utf-8")
    assert f"question &#x27;{changed['id']}&#x27; was reworded" in page


def test_a_question_changed_but_not_reworded_gets_its_own_notice(
        bank: Bank, maps: dict[str, Path], tmp_path: Path) -> None:
    changed = bank.questions[0]
    rekeyed = bank.model_copy(update={"questions": [
        q.model_copy(update={"explanation": q.explanation + " More."}) if q is changed else q
        for q in bank.questions]})
    path = write_canvas(bank, tmp_path / "canvas-before-new-explanation.csv")
    analysis = analyse_responses(path, maps["canvas"], [rekeyed])
    assert len(analysis.notes) == 1
    assert f"question '{changed.id}' was changed after the export" in analysis.notes[0]
    assert "not in its wording" in analysis.notes[0]


def test_a_question_removed_from_the_bank_is_an_error_naming_it(
        bank: Bank, maps: dict[str, Path], tmp_path: Path) -> None:
    gone = bank.questions[2]
    for lms, writer in WRITERS.items():
        path = writer(bank, tmp_path / f"{lms}-after-removal.csv")
        with pytest.raises(ResponsesError) as raised:
            analyse_responses(path, maps[lms], [without(bank, gone.id)])
        message = str(raised.value)
        assert f"question '{gone.id}' (q-{gone.id}" in message
        assert "the bank no longer has it" in message and str(maps[lms]) in message


def test_a_download_read_with_the_map_of_the_other_lms_says_which_map_it_needs(
        bank: Bank, maps: dict[str, Path], tmp_path: Path) -> None:
    path = write_canvas(bank, tmp_path / "canvas-with-moodle-map.csv")
    with pytest.raises(IdentsError, match=r"a Canvas download needs the map of the export the "
                                          r"quiz was imported from \(format cc, qti\)"):
        analyse_responses(path, maps["moodle"])


def test_no_map_is_refused_saying_which_file_the_export_wrote(bank: Bank,
                                                              course_root: Path) -> None:
    path = write_canvas(bank, course_root / "canvas-without-map.csv")
    result = report(course_root, str(path))
    assert result.exit_code == 2
    assert "needs --idents MAP" in result.output
    assert "lms/course-quizzes-qti.idents.json" in result.output
    not_a_map = course_root / "notes.json"
    not_a_map.write_text('{"format": "qti"}')
    result = report(course_root, str(path), "--idents", str(not_a_map))
    assert result.exit_code == 1
    assert f"{not_a_map} is not an ident map written by `course quiz export`" in result.output


def test_lms_texts_follow_each_lms_code() -> None:
    """Hand-written from Rails's strip_tags (Canvas keeps entities) and Moodle's Html2Text
    (emphasis as _words_, strong in capitals, links as their text, entities decoded)."""
    markup = ('Who said <strong>&quot;no&quot; &amp; why</strong> in <a href="x" '
              'title="Paragraph A14">A14</a>, <em>and when</em>?  Кто? 누구?')
    assert canvas_text(markup) == ('Who said &quot;no&quot; &amp; why in A14, and when?  '
                                   'Кто? 누구?')
    assert moodle_text(markup) == 'Who said "NO" & WHY in A14, _and when_? Кто? 누구?'


def test_a_file_with_no_question_columns_is_refused(maps: dict[str, Path],
                                                    course_root: Path) -> None:
    path = course_root / "no-question-columns.csv"
    path.write_text("name,id,section,section_id,submitted,n correct,n incorrect,score\n"
                    "A,1,S,2,now,0,0,0\n")
    result = report(course_root, str(path), "--idents", str(maps["canvas"]))
    assert result.exit_code == 1 and "no question columns found" in result.output
    other = course_root / "neither-lms.csv"
    other.write_text("who,what\nme,this\n")
    result = report(course_root, str(other), "--idents", str(maps["canvas"]))
    assert result.exit_code == 1 and "neither Canvas's Student Analysis" in result.output


def test_moodle_responses_without_question_text_say_what_to_tick(
        bank: Bank, maps: dict[str, Path], tmp_path: Path) -> None:
    path = write_moodle(bank, tmp_path / "moodle-without-question-text.csv")
    rows = list(csv.reader(path.read_text().splitlines()))
    keep = [i for i, h in enumerate(rows[0]) if not h.startswith("Question ")]
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([[r[i] for i in keep] for r in rows])
    with pytest.raises(ResponsesError, match="tick 'Question text'"):
        analyse_responses(path, maps["moodle"])


def test_an_empty_file_is_refused(maps: dict[str, Path], course_root: Path) -> None:
    empty = course_root / "empty-download.csv"
    empty.write_text("")
    result = report(course_root, str(empty), "--idents", str(maps["moodle"]))
    assert result.exit_code == 1 and "the file is empty" in result.output
    missing = report(course_root)
    assert missing.exit_code == 2 and "needs the responses file" in missing.output
