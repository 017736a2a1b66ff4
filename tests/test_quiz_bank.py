"""The bank loader: valid banks load, each malformed fixture fails with file, question, field."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course.quiz.bank import BankError, load_all_banks, load_bank

BANKS = Path(__file__).parent / "fixtures" / "banks"


def test_the_test_bank_has_every_question_type() -> None:
    from course.quiz.types import REGISTRY

    bank = load_bank("all-question-types", BANKS)
    assert {q.type for q in bank.questions} == set(REGISTRY)


@pytest.mark.parametrize(
    ("scenario", "field", "words"),
    [
        ("duplicate-question-id", "id", "already used in"),
        ("correct-answer-not-an-option", "pairs", "the correct answer 'Both' is not among"),
        ("no-correct-option", "options", "exactly one option must have correct: true, found 0"),
        ("missing-prompt", "prompt", "this field is required"),
        ("unknown-question-type", "type", "unknown question type 'essay'"),
        ("unknown-objective", "objective", "is not one of this bank's objectives"),
        ("explanation-without-citation", "explanation", "cite at least one paragraph"),
        ("explanation-cites-missing-paragraph", "explanation", "B42 does not exist"),
        ("pattern-javascript-cannot-run", "pattern", r"JavaScript) cannot run this pattern"),
    ],
)
def test_malformed_bank_names_file_question_and_field(
    scenario: str, field: str, words: str
) -> None:
    with pytest.raises(BankError) as caught:
        load_bank(scenario, BANKS)
    message = str(caught.value)
    assert f"{scenario}.yaml: question '{scenario}-q1': field '{field}': " in message
    assert words in message


def test_invalid_yaml_is_reported_without_traceback() -> None:
    with pytest.raises(BankError, match=r"not-yaml\.yaml: not valid YAML"):
        load_bank("not-yaml", BANKS)


def test_yaml_boolean_id_gets_a_quoting_hint(tmp_path: Path) -> None:
    text = (BANKS / "all-question-types.yaml").read_text().replace("- id: b\n", "- id: no\n")
    (tmp_path / "all-question-types.yaml").write_text(text)
    with pytest.raises(BankError, match=r"field 'options\.1\.id': YAML read this as False"):
        load_bank("all-question-types", tmp_path)


def test_question_ids_are_unique_across_banks(tmp_path: Path) -> None:
    shutil.copy(BANKS / "all-question-types.yaml", tmp_path)
    text = (BANKS / "all-question-types.yaml").read_text()
    text = text.replace("chapter: all-question-types", "chapter: copy")
    text = text.replace("id: aqt-structure", "id: copy-structure")
    text = text.replace("id: aqt-compare", "id: copy-compare")
    text = text.replace("objective: aqt-", "objective: copy-")
    (tmp_path / "copy.yaml").write_text(text)
    with pytest.raises(BankError) as caught:
        load_all_banks(tmp_path)
    expected = "copy.yaml: question 'aqt-identical-bio': field 'id': already used in"
    assert expected in str(caught.value)


def test_chapter_must_match_file_name(tmp_path: Path) -> None:
    shutil.copy(BANKS / "all-question-types.yaml", tmp_path / "other.yaml")
    with pytest.raises(BankError, match="field 'chapter': 'all-question-types' must equal"):
        load_bank("other", tmp_path)


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "course.quiz", "check", *args], capture_output=True, text=True
    )


def test_cli_check_prints_every_problem_and_exits_1_without_traceback() -> None:
    proc = _check(str(BANKS))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("tests/fixtures/banks/") >= 9
    assert "problem(s) found" in proc.stderr


def test_cli_check_passes_on_a_valid_folder(tmp_path: Path) -> None:
    shutil.copy(BANKS / "all-question-types.yaml", tmp_path)
    proc = _check(str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    questions = len(load_bank("all-question-types", BANKS).questions)
    assert f"1 bank(s), {questions} question(s): all valid" in proc.stdout
