"""Find statements about the present of current affairs that carry no date.

The course's record ends at a stated cut-off (docs/accuracy.md), and a page is read long after
it was written: "Russia is now bound by the treaty" may be false on the day a student reads
it. So every statement about the present of current affairs either says "as of <date>" or is
written in the past tense. This module finds the sentences that break the rule.

A sentence is flagged when all three hold:

1. it is about **current affairs**: it names a state, leader, institution, treaty or conflict
   of the course's story (``SUBJECTS``);
2. it speaks of the **present**: a time word ("now", "so far", "still", "currently", "to date",
   "remains"), an ongoing or perfect form ("is fighting", "has not been tested", "have
   deteriorated"), a duration counted to today ("six years of"), or a present-tense verb of
   state about a subject ("Article 4 commits", "Russia is bound");
3. it carries **no date** for that present: no "as of", no mention of the record's cut-off, no
   "by <month> <year>".

What the articles themselves say is not the course's statement: quoted words (the ``{quote}``
role, or any text in quotation marks), code, and clauses that report an article ("B says
that ...", "A calls ...") are left out before the check. A detector of this kind is a net, not
a proof: it is tuned to find the forms the course's pages used (the test plants each one), and
an author who is flagged and disagrees should date the sentence anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SUBJECTS = re.compile(
    r"\b(Russia|Russian|Moscow|Kremlin|Putin|Lavrov|North Korea|North Korean|Pyongyang|Kim|"
    r"South Korea|Seoul|China|Beijing|United States|US|Washington|Trump|Ukraine|Kursk|"
    r"Security Council|UN|United Nations|Panel of Experts|sanctions|Article 4|New START|"
    r"troops|soldiers|veto|oil|"
    # a generic "a treaty binds its parties" is a definition, not current affairs
    r"(?:the|this|its|that)\s+(?:\d{4}\s+)?(?:treaty|war|alliance|talks|pipeline|bridge))\b"
)
# Time words that place a statement in the present. "still" and "yet" also occur in the past
# ("had not yet"), so they count only beside a present-tense verb.
NOW = re.compile(r"\b(now|current|currently|so far|to date|today|nowadays|at present|"
                 r"at the moment|these days|ongoing|anymore|any longer)\b", re.IGNORECASE)
NOW_IF_PRESENT = re.compile(r"\b(still|yet|since then|remains?)\b", re.IGNORECASE)
PRESENT_AUX = re.compile(r"\b(is|are|has|have|does|do|remains?|continues?)\b", re.IGNORECASE)
_PARTICIPLE = (r"(?:been|\w+ed|taken|given|shown|grown|broken|chosen|written|spoken|driven|"
               r"fallen|risen|proven|made|met|fought|held|sent|kept|become|led|brought|had|"
               r"won|lost|begun|done|seen|gone|left|paid|built)")
# Ongoing or perfect forms in the present tense, and verbs of state after a named subject.
PRESENT_FORMS = re.compile(
    r"\b(?:is|are)\s+(?:now\s+|still\s+|not\s+)?(?:\w+ing|at war|bound|in force|untested|"
    r"committed|obliged|allies|allied|a party|parties)\b"
    rf"|\b(?:has|have)\s+(?:not\s+|never\s+|since\s+|now\s+|still\s+|yet\s+)?{_PARTICIPLE}\b"
    r"|\b(?:Russia|North Korea|Pyongyang|Moscow|the Kremlin|Kim|Putin|Article 4|the treaty|"
    r"New START|China|the sanctions|the war)(?:\s+\w+){0,2}?\s+(?:commits|obliges|binds|"
    r"limits|continues|fights|supplies|controls)\b"
    r"|\b(?:that|which)\s+(?:commits|obliges|binds|limits)\b",
    re.IGNORECASE,
)
# A duration counted up to the moment of reading: "six years of events", "five years ago".
DURATION = re.compile(
    r"\b(?:two|three|four|five|six|seven|eight|nine|ten|\d+)\s+years\s+"
    r"(?:of events|ago|now)\b",
    re.IGNORECASE,
)
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|"
          r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)")
# What dates a present: "as of" or the record's cut-off. A plain date ("in May 2024") dates an
# event told in the present of a table row (a timeline), but not "now" or "so far", and not
# prose, which tells past events in the past tense.
AS_OF = re.compile(r"\bas of\b|\bcut-?off\b", re.IGNORECASE)
DATED = re.compile(
    rf"\b(?:\d{{1,2}}\s+)?{_MONTH}\.?\s+\d{{4}}\b|\b(?:in|by|until|from)\s+\d{{4}}\b"
)
# Not a statement about the present: a modal ("may still", "would have been"), "did not
# have", a concessive "Still,", and the course speaking of itself ("this book has ...").
NOT_PRESENT = re.compile(
    r"\b(?:may|might|could|would|should|must|will|can|did|does|do)\s+(?:not\s+)?"
    r"(?:still|yet|have|be)\b(?:\s+\w+)?"
    r"|\b(?:may|might|could|would|should|must|will|can)\b(?:\s+\w+){1,3}?\s+(?:still|yet)\b"
    r"|^\s*Still,"
    r"|\b(?:this book|the course|this course|we|you|I)\s+(?:has|have|do|does)\b(?:\s+\w+){0,2}",
    re.IGNORECASE,
)
# A clause that reports what an article says: the words after it are the article's.
REPORTED = re.compile(
    r"\b(?:Article [AB]|[AB]\d{1,2}):.*"
    r"|\b(?:Article [AB]|[AB]\d{1,2}|[AB]|the articles?|both articles|each article|it|they|"
    r"the (?:sentence|paragraph|claim|writer|author|text))\s+(?:also\s+|even\s+|then\s+)?"
    r"(?:says?|said|claims?|argues?|writes?|asks?|expects?|predicts?|concludes?|adds?|reports?|"
    r"calls?|describes?|treats?|suggests?|implies|assumes?|presents?|pictures?|offers?|"
    r"states?|speaks?|leans?|gives?|points?|warns?)\b.*",
    re.IGNORECASE | re.DOTALL,
)

# Code fences; a directive fence such as ```{glossary} holds prose and is kept.
_FENCE = re.compile(r"^```(?!\{(?!code)).*?^```", re.MULTILINE | re.DOTALL)
_ROLE_QUOTE = re.compile(r"\{quote\}`[^`]*`")
_ROLE_TEXT = re.compile(r"\{[a-z:]+\}`(?:([^`<]*?)\s*<[^>]*>|([^`]*))`")
_QUOTED = re.compile(r"[\"\u201c][^\"\u201c\u201d]*[\"\u201d]")
_OPTION_LINE = re.compile(r"^\s*:[\w-]+:.*$", re.MULTILINE)
# Sentences end at ". ", at a blank line, at a list item and at a table row.
_SENTENCE_END = re.compile(
    r"(?<=[.!?])\s+(?=[A-Z*_(\"\u201c])|\n\s*\n|\n(?=\s*(?:[-*+]|\d+\.)\s)|\n(?=\s*\|)"
)


@dataclass(frozen=True)
class Finding:
    line: int
    sentence: str
    why: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.why}: {self.sentence!r}"


def _prose(text: str) -> str:
    """The page's own prose: code, directive options, quotations and role markup removed."""
    blank = lambda m: re.sub(r"[^\n]", " ", m.group(0))  # noqa: E731 - keeps line numbers
    text = _FENCE.sub(blank, text)
    text = _OPTION_LINE.sub(blank, text)
    text = _ROLE_QUOTE.sub(lambda m: '"' + " " * (len(m.group(0)) - 2) + '"', text)
    text = _ROLE_TEXT.sub(lambda m: (m.group(1) or m.group(2) or "").ljust(len(m.group(0))),
                          text)
    text = _QUOTED.sub(lambda m: " " * len(m.group(0)), text)
    return text.replace("*", " ")  # emphasis is not wording


def _sentences(text: str) -> list[tuple[int, str]]:
    out, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        out.append((start, text[start:m.start()]))
        start = m.end()
    out.append((start, text[start:]))
    return [(text.count("\n", 0, pos) + 1, " ".join(s.split())) for pos, s in out if s.strip()]


def undated_present(text: str) -> list[Finding]:
    """Every sentence of a Markdown page that states the present of current affairs undated."""
    findings = []
    for line, sentence in _sentences(_prose(text)):
        if AS_OF.search(sentence):
            continue
        own = NOT_PRESENT.sub(" ", REPORTED.sub("", sentence))  # "B says ..." is B's claim
        # a duration counted to today is undated whatever it is about
        hit, why = DURATION.search(own), "a duration counted to today"
        if hit is None and SUBJECTS.search(own):
            hit, why = NOW.search(own), "a present time word"
            if hit is None and PRESENT_AUX.search(own):
                hit = NOW_IF_PRESENT.search(own)
            table_row = sentence.startswith("|")
            if hit is None and not (table_row and DATED.search(sentence)):
                hit, why = PRESENT_FORMS.search(own), "a present-tense verb"
        if hit is not None:
            findings.append(Finding(line, sentence, f"{why} ({hit.group(0)!r}) and no date"))
    return findings
