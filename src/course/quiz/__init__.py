"""Quizzes: one YAML bank per chapter (book/quizzes/README.md), graded by one engine and
shown as live ipywidgets in Jupyter and as a self-grading HTML form in the book."""

from course.quiz.bank import Bank, BankError, load_all_banks, load_bank
from course.quiz.practice import practice, show

__all__ = ["Bank", "BankError", "load_all_banks", "load_bank", "practice", "show"]
