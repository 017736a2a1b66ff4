"""The progress store (atomic JSON in COURSE_PROGRESS_DIR), mastery and practice sets."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from course.quiz.bank import load_bank
from course.quiz.engine import attempt
from course.quiz.progress import FILE_NAME, ProgressStore, practice_set, progress_dir

BANKS = Path(__file__).parent / "fixtures" / "banks"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProgressStore:
    monkeypatch.setenv("COURSE_PROGRESS_DIR", str(tmp_path / "progress"))
    return ProgressStore()


def test_env_var_points_the_store_elsewhere(store: ProgressStore, tmp_path: Path) -> None:
    assert progress_dir() == tmp_path / "progress"
    assert store.path == tmp_path / "progress" / FILE_NAME


def test_record_reset_and_mastery(store: ProgressStore) -> None:
    bank = load_bank("all-question-types", BANKS)
    assert store.attempts() == []
    for qid, response in [("aqt-same-author", False), ("aqt-same-author", True),
                          ("aqt-identical-bio", "b")]:  # fmt: skip
        store.record(attempt(bank.chapter, bank.question(qid), response)[1])
    assert len(store.attempts()) == 3
    assert store.latest_scores() == {"aqt-same-author": 1.0, "aqt-identical-bio": 0.0}
    mastery = {m.objective: m for m in store.mastery([bank])}
    # aqt-compare has 3 questions; the latest scores are 1 and 0; one is unanswered.
    assert (mastery["aqt-compare"].answered, mastery["aqt-compare"].score) == (2, 0.3333)
    assert (mastery["aqt-structure"].answered, mastery["aqt-structure"].score) == (0, 0.0)
    leftovers = [p.name for p in store.path.parent.iterdir() if p.name.startswith(".progress-")]
    assert leftovers == [], "no temporary file left behind"
    store.reset()
    assert store.attempts() == [] and not store.path.exists()


def test_damaged_file_does_not_stop_the_quiz(store: ProgressStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text("{not json")
    assert store.attempts() == []
    bank = load_bank("all-question-types", BANKS)
    store.record(attempt(bank.chapter, bank.question("aqt-same-author"), True)[1])
    assert len(store.attempts()) == 1


def test_practice_set_is_seeded_mixed_and_favours_wrong_answers() -> None:
    bank = load_bank("all-question-types", BANKS)
    ids = lambda chosen: [q.id for _, q in chosen]  # noqa: E731
    assert ids(practice_set([bank], {}, 4, 1)) == ids(practice_set([bank], {}, 4, 1))
    assert len(set(ids(practice_set([bank], {}, 4, 1)))) == 4
    assert len(practice_set([bank], {}, 99, 1)) == len(bank.questions)
    latest = {q.id: 1.0 for q in bank.questions}
    latest["aqt-b-order"] = 0.0
    picked = Counter(i for seed in range(300) for i in ids(practice_set([bank], latest, 2, seed)))
    assert picked.most_common(1)[0][0] == "aqt-b-order"
    assert picked["aqt-b-order"] > 2 * picked["aqt-same-author"]


def _record_many(folder: str, count: int) -> None:
    bank = load_bank("all-question-types", BANKS)
    store = ProgressStore(Path(folder))
    for _ in range(count):
        store.record(attempt(bank.chapter, bank.question("aqt-same-author"), True)[1])


def test_two_kernels_recording_at_once_lose_no_attempt(tmp_path: Path) -> None:
    import multiprocessing

    workers = [multiprocessing.Process(target=_record_many, args=(str(tmp_path), 40))
               for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert len(ProgressStore(tmp_path).attempts()) == 120
