"""``python -m course.quiz check [FOLDER]``: the same as ``course quiz check``."""

from course.cli import main

if __name__ == "__main__":
    main(["quiz", *__import__("sys").argv[1:]], prog_name="python -m course.quiz")
