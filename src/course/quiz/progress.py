"""The learner's progress: every graded attempt in one JSON file, mastery per learning
objective, and the practice set drawn from it (weighted towards questions answered wrong)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from course.quiz.bank import Bank, Question
from course.quiz.engine import Attempt

PROGRESS_ENV = "COURSE_PROGRESS_DIR"
APP_NAME = "russia-nk-course"
FILE_NAME = "progress.json"
FORMAT_VERSION = 1
# Weights for drawing practice questions: never answered, and the extra for a wrong answer.
UNSEEN_WEIGHT = 2.0
WRONG_WEIGHT = 4.0


# In JupyterLite (Pyodide, sys.platform "emscripten") the home folder lives in memory and is
# lost with the tab; /drive is the browser's storage of the site's files, kept between visits.
BROWSER_DRIVE = Path("/drive")
IN_BROWSER = sys.platform == "emscripten"


def progress_dir() -> Path:
    if os.environ.get(PROGRESS_ENV):
        return Path(os.environ[PROGRESS_ENV])
    if IN_BROWSER:
        return BROWSER_DRIVE / ".course-progress"
    return Path(platformdirs.user_data_dir(APP_NAME))


@dataclass(frozen=True)
class Mastery:
    objective: str
    text: str
    chapter: str
    questions: int
    answered: int
    score: float  # latest score summed over the objective's questions / number of questions


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path``: two kernels recording at once (a chapter
    notebook and the practice notebook, say) would otherwise each drop the other's attempt."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    if IN_BROWSER:  # Pyodide has no file locks (its fcntl is an empty stand-in)
        yield
        return
    with open(lock_path, "a+b") as handle:
        if sys.platform == "win32":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class ProgressStore:
    def __init__(self, folder: Path | None = None) -> None:
        self.path = (folder or progress_dir()) / FILE_NAME
        self.lock_path = self.path.with_name(f".{FILE_NAME}.lock")

    def attempts(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (json.JSONDecodeError, UnicodeDecodeError):
            # A damaged file must not stop the quiz; it is replaced at the next write.
            return []
        return list(data.get("attempts", [])) if isinstance(data, dict) else []

    def _write(self, attempts: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"version": FORMAT_VERSION, "attempts": attempts}, indent=1)
        # Write a sibling file and rename it over the old one: a crash never leaves half a file.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".progress-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def record(self, attempt: Attempt) -> None:
        with _exclusive(self.lock_path):  # read, append and replace as one step
            self._write([*self.attempts(), attempt.to_dict()])

    def reset(self) -> None:
        with _exclusive(self.lock_path):
            self.path.unlink(missing_ok=True)

    def latest_scores(self) -> dict[str, float]:
        """The score of each question's most recent attempt."""
        return {a["question"]: float(a["score"]) for a in self.attempts() if "question" in a}

    def mastery(self, banks: list[Bank]) -> list[Mastery]:
        latest = self.latest_scores()
        rows = []
        for bank in banks:
            for objective in bank.objectives:
                ids = bank.question_ids(objective.id)
                answered = [latest[i] for i in ids if i in latest]
                score = round(sum(answered) / len(ids), 4) if ids else 0.0
                rows.append(
                    Mastery(objective.id, objective.text, bank.chapter, len(ids),
                            len(answered), score)
                )  # fmt: skip
        return rows


def practice_set(
    banks: list[Bank], latest: dict[str, float], size: int, seed: int | str
) -> list[tuple[Bank, Question]]:
    """Up to ``size`` questions from all banks, drawn without replacement with weights that
    favour questions answered wrong (and then unseen ones), in a mixed, repeatable order."""
    pool = [(bank, q) for bank in banks for q in bank.questions]
    rng = random.Random(str(seed))

    def weight(q: Question) -> float:
        return UNSEEN_WEIGHT if q.id not in latest else 1.0 + WRONG_WEIGHT * (1 - latest[q.id])

    # Efraimidis-Spirakis: the largest u ** (1 / w) keys are a weighted sample.
    keyed = sorted(pool, key=lambda bq: rng.random() ** (1 / weight(bq[1])), reverse=True)
    chosen = keyed[:size]
    rng.shuffle(chosen)
    return chosen
