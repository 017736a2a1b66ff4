"""`course quiz export`: every format for every question of the bank, the structures each
importer reads (docs/lms-export.md cites the importers' code), an independent QTI writer
(text2qti) as oracle, round trips back into the bank's model, escaping, and bad input.

Counts and texts are derived from the banks, never written here: another engineer edits
them."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from course.cli import main
from course.quiz.bank import (
    Matching,
    MultipleSelect,
    Numeric,
    Ordering,
    Question,
    ShortText,
    SingleChoice,
    TrueFalse,
    load_all_banks,
)
from course.quiz.engine import normalise
from course.quiz.html_view import inline
from course.quiz.lms import (
    FILE_NAMES,
    ExportError,
    export,
    gift,
    idents,
    moodle_xml,
    qti,
    select_banks,
)
from course.quiz.lms.mapping import (
    CARRY,
    FORMATS,
    accepted_answers,
    carry,
    finite_matches,
    ident,
    position_label,
)

QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CC = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"
BOOK = "https://example.org/russia-nk"


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def all_questions() -> list[Question]:
    """The questions as the exporters see them (quotations written out)."""
    return [q for bank in select_banks() for q in bank.questions]


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module", params=[None, BOOK], ids=["plain", "book-url"])
def exports(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("lms")
    return {fmt: export(fmt, out, book_url=request.param) for fmt in FORMATS}


def qti_documents(path: Path) -> dict[str, ET.Element]:
    with zipfile.ZipFile(path) as archive:
        return {name: ET.fromstring(archive.read(name)) for name in archive.namelist()
                if name.endswith(".xml")}


def read_back(fmt: str, path: Path) -> list[Question]:
    if fmt == "moodle":
        return moodle_xml.read_questions(ET.parse(path).getroot())
    if fmt == "gift":
        return [q for _, q in gift.read(path.read_text(encoding="utf-8"))]
    return [q for name, root in qti_documents(path).items() if "manifest" not in name
            for q in qti.read_items(root)]


# --- every question, every format; the notices ---------------------------------------------

def test_every_question_is_counted_once_in_every_format(exports: dict) -> None:
    questions = all_questions()
    for fmt, result in exports.items():
        counted = result.exact + result.approximate + result.not_carried
        assert sorted(counted) == sorted(q.id for q in questions), fmt
        assert result.path.name == FILE_NAMES[fmt] and result.path.stat().st_size > 0
        for q in questions:  # the level the table gives, per question
            level = carry(q, fmt).level
            bucket = {"exact": result.exact, "approximate": result.approximate,
                      "not carried": result.not_carried}[level]
            assert q.id in bucket
        # every question not exact has at least one notice naming it, the format and why
        named = {n.question for n in result.notices}
        assert set(result.approximate + result.not_carried) <= named
        assert all(n.format == fmt and n.reason for n in result.notices)


def test_cli_says_on_the_terminal_what_is_not_carried(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["quiz", "export", "--format", "cc", "--out",
                                       str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    ordering = next(q for q in all_questions() if isinstance(q, Ordering))
    line = next(ln for ln in result.output.splitlines() if f"'{ordering.id}'" in ln)
    assert line.startswith("NOT CARRIED: cc: question") and "ordering" in line
    total = len(all_questions())
    m = re.search(r"(\d+) questions exact, (\d+) approximate, (\d+) not carried", result.output)
    assert m and sum(map(int, m.groups())) == total
    map_file = tmp_path / "course-quizzes.idents.json"
    assert f"wrote {map_file}: its ident map, for `course report quiz RESPONSES --idents" in (
        result.output)
    assert len(idents.load(map_file).questions) == total - int(m.group(3))


def test_the_table_covers_every_type_and_format() -> None:
    """CARRY and its table in the README say, for every registered type and every format,
    how far the format carries it ('not carried' is an answer)."""
    from course.quiz.types import REGISTRY

    types = set(REGISTRY)
    missing = sorted({(t, f) for t in types for f in FORMATS} - set(CARRY))
    assert not missing, (f"CARRY (src/course/quiz/lms/mapping.py) has no row for {missing} "
                         "(src/course/quiz/README.md, Adding a question type, step 5)")
    assert set(CARRY) <= {(t, f) for t in types for f in FORMATS}
    readme = Path(__file__).resolve().parent.parent / "src/course/quiz/README.md"
    rows = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in types:
            rows[cells[0]] = cells[1:]
    # the documented table has every type, with CARRY's levels
    assert set(rows) == types, ("the type x format table of src/course/quiz/README.md "
                                "(Adding a question type, step 5)")
    for t, cells in rows.items():
        for fmt, cell in zip(FORMATS, cells, strict=True):
            assert cell.startswith(CARRY[t, fmt][0]), (t, fmt, cell)


# --- the ident map beside each file ----------------------------------------------------------

def written_texts(fmt: str, path: Path) -> list[tuple[str, str]]:
    """(question id, its text as the file writes it, as HTML) in the file's order."""
    if fmt == "moodle":
        return [(el.findtext("idnumber") or "", el.findtext("questiontext/text") or "")
                for el in ET.parse(path).getroot().iter("question")
                if el.get("type") != "category"]
    if fmt == "gift":  # Markdown, which Moodle renders to the book's inline HTML
        return [(q.id, inline(q.prompt, None))
                for _, q in gift.read(path.read_text(encoding="utf-8"))]
    return [(item.get("title") or "", item.findtext(f"{QTI}presentation/{QTI}material/"
                                                    f"{QTI}mattext") or "")
            for name, root in qti_documents(path).items() if "manifest" not in name
            for item in root.iter(f"{QTI}item")]


def test_the_ident_map_has_every_exported_question_with_the_texts_written(
        exports: dict) -> None:
    questions = {q.id: q for q in all_questions()}
    for fmt, result in exports.items():
        assert result.idents == result.path.with_name(
            FILE_NAMES[fmt].split(".")[0] + ".idents.json")
        idmap = idents.load(result.idents)
        assert (idmap.format, idmap.file, set(idmap.lms)) == (
            fmt, FILE_NAMES[fmt], set(idents.LMS_OF[fmt]))
        assert abs((datetime.now(UTC) - idmap.exported).total_seconds()) < 3600
        written = written_texts(fmt, result.path)
        # every question the file carries, once, in the file's order, chapter by chapter
        assert [e.id for e in idmap.questions] == [qid for qid, _ in written]
        assert sorted(e.id for e in idmap.questions) == sorted(result.exact + result.approximate)
        assert [s for quiz in idmap.quizzes for s in quiz.slots] == [
            e.ident for e in idmap.questions]
        for quiz in idmap.quizzes:
            assert {e.chapter for e in idmap.questions if e.ident in quiz.slots} <= {
                quiz.chapter}
        for entry, (_, markup) in zip(idmap.questions, written, strict=True):
            assert entry.ident == ident(entry.id)
            assert entry.fingerprint == idents.fingerprint(questions[entry.id])
            assert entry.type == questions[entry.id].type
            if "canvas" in idmap.lms:
                assert entry.texts["canvas"] == idents.canvas_text(markup), entry.id
            if "moodle" in idmap.lms:
                assert entry.texts["moodle"] == idents.moodle_text(markup), entry.id


def test_a_failed_export_leaves_the_old_map_with_the_old_file(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:  # fmt: skip
    first = export("moodle", tmp_path)
    before = first.idents.read_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(moodle_xml, "document", broken)
    with pytest.raises(RuntimeError):
        export("moodle", tmp_path, book_url=BOOK)
    assert first.idents.read_bytes() == before  # not the map of an export that failed
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [first.path.name, first.idents.name])


# --- structures each importer reads --------------------------------------------------------

def test_every_xml_file_parses_and_zips_hold_what_their_manifest_names(exports: dict) -> None:
    for fmt in ("cc", "qti"):
        with zipfile.ZipFile(exports[fmt].path) as archive:
            names = set(archive.namelist())
            manifest = ET.fromstring(archive.read("imsmanifest.xml"))
            for f in manifest.iter(f"{CC}file"):
                assert f.get("href") in names
            for name in names:
                ET.fromstring(archive.read(name))  # every file is XML and parses
    ET.parse(exports["moodle"].path)


def test_common_cartridge_has_what_moodles_cc_importer_reads(exports: dict) -> None:
    """backup/cc/entity11.quiz.class.php and cc112moodle.php (links in docs/lms-export.md)."""
    docs = qti_documents(exports["cc"].path)
    manifest = docs.pop("imsmanifest.xml")
    assert manifest.findtext(f"{CC}metadata/{CC}schemaversion") == "1.1.0"
    resources = {r.get("identifier"): r for r in manifest.iter(f"{CC}resource")}
    assert {r.get("type") for r in resources.values()} == {
        "imsqti_xmlv1p2/imscc_xmlv1p1/assessment"}
    titles = {i.findtext(f"{CC}title"): i.get("identifierref")
              for i in manifest.iter(f"{CC}item") if i.get("identifierref")}
    assert set(titles) == {b.title for b in load_all_banks()}  # one quiz per chapter, by title
    assert set(titles.values()) == set(resources)
    carried = {q.id: q for q in all_questions() if carry(q, "cc").level != "not carried"}
    seen = set()
    for root in docs.values():
        for item in root.iter(f"{QTI}item"):
            fields = {f.findtext(f"{QTI}fieldlabel"): f.findtext(f"{QTI}fieldentry")
                      for f in item.iter(f"{QTI}qtimetadatafield")}
            q = carried[item.get("title")]
            seen.add(q.id)
            assert item.get("ident") == ident(q.id)
            assert fields["cc_profile"] == qti.CC_PROFILES[q.type]
            assert fields["cc_weighting"] == "1"
            conds = list(item.iter(f"{QTI}respcondition"))
            # get_general_feedback: only continue="Yes" conditions, here the explanation
            general = [c for c in conds if c.get("continue") == "Yes"]
            assert [c.find(f"{QTI}displayfeedback").get("linkrefid") for c in general] == [
                "general_fb"]
            labels = [lab.get("ident") for lab in item.iter(f"{QTI}response_label")]
            if isinstance(q, TrueFalse):
                assert sorted(labels) == ["false", "true"]  # the idents the importer requires
            if isinstance(q, MultipleSelect):
                key = next(c for c in conds if c.findtext(f"{QTI}setvar") == "100")
                correct = {v.text for v in key.iter(f"{QTI}varequal") if v.get("case") == "Yes"}
                negated = {v.text for n in key.iter(f"{QTI}not") for v in n}
                assert correct - negated == {f"{ident(q.id)}-{o.id}" for o in q.options
                                             if o.correct}
            if isinstance(q, SingleChoice | TrueFalse | MultipleSelect):
                # get_feedback: the condition whose first varequal is the option has its feedback
                for lab in labels:
                    own = [c for c in conds if c.find(f".//{QTI}varequal") is not None
                           and c.find(f".//{QTI}varequal").text == lab
                           and c.find(f"{QTI}displayfeedback") is not None]
                    assert own, (q.id, lab)
    assert seen == set(carried)


def test_qti_zip_has_what_canvas_reads(exports: dict) -> None:
    """Canvas's item layout (question_type, points_possible, general_fb), as in Canvas's own
    export and text2qti; gems/plugins/qti_exporter reads it."""
    docs = qti_documents(exports["qti"].path)
    manifest = docs.pop("imsmanifest.xml")
    assert {r.get("type") for r in manifest.iter(f"{CC}resource")} == {"imsqti_xmlv1p2"}
    banks = load_all_banks()
    assert {r.find(f"{QTI}assessment").get("title") for r in docs.values()} == {
        b.title for b in banks}
    by_id = {q.id: q for q in all_questions()}
    for root in docs.values():
        for item in root.iter(f"{QTI}item"):
            q = by_id[item.get("title")]
            fields = {f.findtext(f"{QTI}fieldlabel"): f.findtext(f"{QTI}fieldentry")
                      for f in item.iter(f"{QTI}qtimetadatafield")}
            assert fields["question_type"] == qti.CANVAS_TYPES[q.type]
            assert fields["points_possible"] == "1"
            fb = {f.get("ident") for f in item.iter(f"{QTI}itemfeedback")}
            assert "general_fb" in fb
            if isinstance(q, Matching | Ordering):
                lids = list(item.iter(f"{QTI}response_lid"))
                rows = q.pairs if isinstance(q, Matching) else q.items
                assert len(lids) == len(rows)
                adds = [float(c.findtext(f"{QTI}setvar")) for c in item.iter(f"{QTI}respcondition")
                        if c.find(f"{QTI}setvar") is not None]
                assert sum(adds) == pytest.approx(100, abs=0.01)  # share of pairs, as the book


def test_moodle_xml_has_what_moodles_xml_importer_reads(exports: dict) -> None:
    """question/format/xml/format.php: a category question before each chapter's questions,
    name, idnumber, defaultgrade, answer fractions in percent, tags."""
    root = ET.parse(exports["moodle"].path).getroot()
    questions = root.findall("question")
    categories = [q.findtext("category/text") for q in questions if q.get("type") == "category"]
    assert categories == [f"$course$/top/{b.title}" for b in load_all_banks()]
    by_id = {q.id: q for q in all_questions()}
    for el in questions:
        if el.get("type") == "category":
            continue
        q = by_id[el.findtext("idnumber")]
        assert el.findtext("name/text") == q.id and el.findtext("defaultgrade") == "1"
        assert el.findtext("tags/tag/text") == q.objective
        if isinstance(q, MultipleSelect):
            fractions = [float(a.get("fraction")) for a in el.findall("answer")]
            right = sum(f for f in fractions if f > 0)
            assert right == pytest.approx(100, abs=0.001)  # Moodle requires the right ones = 100%
            n = sum(o.correct for o in q.options)
            assert sorted(fractions) == pytest.approx(
                sorted(100 / n if o.correct else -100 / n for o in q.options), abs=1e-4)


def test_gift_follows_the_rules_of_moodles_gift_reader(exports: dict) -> None:
    """question/format/gift/format.php: a weight is `%` + at most two digits before the point
    + `%`; the answer block runs from the first `{` to the first `}`; a blank line ends a
    question."""
    text = exports["gift"].path.read_text(encoding="utf-8")
    weight = re.compile(r"^%-*([0-9]{1,2})\.?([0-9]*)%")
    blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip()]
    questions = [b for b in blocks if not b.startswith("$CATEGORY:")]
    assert len(questions) == sum(carry(q, "gift").level != "not carried"
                                 for q in all_questions())
    for block in questions:
        body = re.sub(r"\\.", "", block)  # escaped characters are not syntax
        assert body.count("{") == 1 and body.count("}") == 1, block[:80]
        for line in body[body.index("{") + 1:body.index("}")].splitlines():
            if line.startswith("~%"):
                assert weight.match(line[1:]), line
    for bank in load_all_banks():
        assert f"$CATEGORY: $course$/top/{bank.title}/" in text


# --- text2qti as an independent writer of the same questions -------------------------------

def _t2q_text(q: Question) -> str | None:
    """The question in text2qti's plain-text format, for the types both support."""
    def md(s: str) -> str:
        return " ".join(s.split())

    if isinstance(q, SingleChoice):
        lines = [f"{'*' if o.correct else ''}{chr(97 + k)}) {md(o.text)}"
                 for k, o in enumerate(q.options)]
    elif isinstance(q, MultipleSelect):
        lines = [f"[{'*' if o.correct else ' '}] {md(o.text)}" for o in q.options]
    elif isinstance(q, Numeric):
        # plain decimals: text2qti reads no exponent ("2e+06")
        lines = [f"=   {_num(q.answer)} +- {_num(q.tolerance)}" if q.tolerance
                 else f"=   {_num(q.answer)}"]
    elif isinstance(q, ShortText):
        lines = [f"*   {a}" for a in accepted_answers(q)]
    else:
        return None
    return f"1.  {md(q.prompt)}\n" + "\n".join(lines)


def _plain(markup: str) -> str:
    import html

    return normalise(html.unescape(re.sub(r"<[^>]+>", "", html.unescape(markup or ""))))


def _scoring(item: ET.Element) -> tuple[str, list[str], set[str], tuple[float, float] | None]:
    """(question_type, choice texts, texts of the responses that score, numeric range)."""
    fields = {f.findtext(f"{QTI}fieldlabel"): f.findtext(f"{QTI}fieldentry")
              for f in item.iter(f"{QTI}qtimetadatafield")}
    labels = {lab.get("ident"): _plain(lab.findtext(f".//{QTI}mattext") or "")
              for lab in item.iter(f"{QTI}response_label") if lab.find(f".//{QTI}mattext")
              is not None}
    scoring: set[str] = set()
    for c in item.iter(f"{QTI}respcondition"):
        if c.findtext(f"{QTI}setvar") == "100":
            negated = {id(v) for n in c.iter(f"{QTI}not") for v in n}
            for v in c.iter(f"{QTI}varequal"):
                if id(v) not in negated:
                    scoring.add(labels.get(v.text, normalise(v.text or "")))
    lo, hi = item.find(f".//{QTI}vargte"), item.find(f".//{QTI}varlte")
    span = (float(lo.text), float(hi.text)) if lo is not None and hi is not None else None
    if fields["question_type"] == "numerical_question":
        scoring = set()
    return fields["question_type"], sorted(labels.values()), scoring, span


def test_text2qti_writes_the_same_items_for_the_types_both_support(exports: dict) -> None:
    from text2qti.config import Config
    from text2qti.err import Text2qtiError
    from text2qti.qti import QTI as T2Q
    from text2qti.quiz import Quiz

    ours = {item.get("title"): item for name, root in qti_documents(exports["qti"].path).items()
            if "manifest" not in name for item in root.iter(f"{QTI}item")}
    compared = 0
    for q in all_questions():
        source = _t2q_text(q)
        if source is None:
            continue
        try:
            quiz = Quiz(f"Quiz title: {q.id}\n\n{source}\n", config=Config(), source_name=q.id)
        except Text2qtiError as error:
            # text2qti takes no exact numeric answer of 0 (it wants a magnitude >= 0.0001);
            # nothing else may be refused.
            assert isinstance(q, Numeric) and q.answer == 0, error
            continue
        docs = qti_documents_from_bytes(T2Q(quiz).zip_bytes())
        theirs = next(item for name, root in docs.items() if "meta" not in name
                      and "manifest" not in name for item in root.iter(f"{QTI}item"))
        mine = _scoring(ours[q.id])
        other = _scoring(theirs)
        assert mine[0] == other[0], q.id  # item type
        assert mine[1] == other[1], q.id  # choices
        assert mine[2] == other[2], q.id  # which responses score
        if isinstance(q, Numeric):
            assert mine[3] == pytest.approx(other[3]), q.id
        compared += 1
    assert compared >= 4


def qti_documents_from_bytes(data: bytes) -> dict[str, ET.Element]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: ET.fromstring(archive.read(n)) for n in archive.namelist()
                if n.endswith(".xml")}


# --- round trip into the bank's model -----------------------------------------------------

def graded_part(q: Question, fmt: str) -> object:
    """What a format must bring back unchanged: the key and, where carried, the feedback."""
    level = carry(q, fmt)
    prompt = q.prompt + (f" ({q.unit})" if isinstance(q, Numeric) and q.unit else "")
    common = (prompt, q.explanation, q.objective)
    if isinstance(q, SingleChoice | MultipleSelect):
        return common, sorted((o.text, o.correct, o.feedback) for o in q.options)
    if isinstance(q, TrueFalse):
        return common, q.answer, q.feedback_true, q.feedback_false
    if isinstance(q, Numeric):
        mistakes = [] if fmt == "qti" else [(m.value, m.tolerance, m.feedback) for m in q.mistakes]
        return common, q.answer, q.tolerance, q.feedback_correct, q.feedback_incorrect, mistakes
    if isinstance(q, ShortText):
        mistakes = [] if fmt == "qti" else sorted((m.answer, m.feedback) for m in q.mistakes)
        return (common, sorted(accepted_answers(q)), q.feedback_correct, q.feedback_incorrect,
                mistakes, level.level)
    if isinstance(q, Matching):
        return common, sorted((p.prompt, p.answer) for p in q.pairs), sorted(set(q.choices))
    if isinstance(q, Ordering):
        return common, sorted((i.text, position_label(k)) for k, i in enumerate(q.items, 1))
    raise AssertionError(q.type)


def read_part(back: Question, original: Question, fmt: str) -> object:
    if isinstance(original, Ordering):  # comes back as matching to positions
        assert isinstance(back, Matching)
        return ((back.prompt, back.explanation, back.objective),
                sorted((p.prompt, p.answer) for p in back.pairs))
    if isinstance(back, ShortText):
        return ((back.prompt, back.explanation, back.objective), sorted(back.accept),
                back.feedback_correct, back.feedback_incorrect,
                sorted((m.answer, m.feedback) for m in back.mistakes), carry(original, fmt).level)
    if isinstance(back, Numeric):
        return ((back.prompt, back.explanation, back.objective), back.answer, back.tolerance,
                back.feedback_correct, back.feedback_incorrect,
                [(m.value, m.tolerance, m.feedback) for m in back.mistakes])
    if isinstance(back, Matching):
        return ((back.prompt, back.explanation, back.objective),
                sorted((p.prompt, p.answer) for p in back.pairs), sorted(set(back.choices)))
    return graded_part(back.model_copy(update={"id": original.id}), fmt)


def test_every_carried_question_comes_back_grading_the_same(exports: dict) -> None:
    by_id = {q.id: q for q in all_questions()}
    for fmt, result in exports.items():
        back = read_back(fmt, result.path)
        ids = [q.id for q in back]
        assert sorted(ids) == sorted(result.exact + result.approximate), fmt
        for q in back:
            original = by_id[q.id]
            assert read_part(q, original, fmt) == graded_part(original, fmt), (fmt, q.id)


def test_matching_feedback_moves_to_the_general_feedback(exports: dict) -> None:
    root = ET.parse(exports["moodle"].path).getroot()
    matching = next(q for q in all_questions() if isinstance(q, Matching))
    el = next(e for e in root.iter("question") if e.findtext("idnumber") == matching.id)
    general = moodle_xml._t(el.find("generalfeedback"))
    for p in matching.pairs:
        assert p.feedback in general


# --- escaping ------------------------------------------------------------------------------

TRICKY = ("Tom & Jerry <b>bold?</b> \"quoted\" ‘curly’ “double” Россия 조선 **strong** *em* "
          "~ = # { } : \\")


def tricky_bank(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    bank = {
        "chapter": "tricky", "title": "Tricky & <odd> “title”",
        "objectives": [{"id": "tricky-obj", "text": "Survive escaping."}],
        "questions": [
            {"id": "tricky-single", "type": "single_choice", "objective": "tricky-obj",
             "difficulty": 1, "prompt": f"Which? {TRICKY}", "explanation": f"See A1. {TRICKY}",
             "options": [{"id": "a", "text": f"Right {TRICKY}", "correct": True,
                          "feedback": f"Yes {TRICKY}"},
                         {"id": "b", "text": "Пхеньян {x} = y", "feedback": "No: 평양 # 1"}]},
            {"id": "tricky-multi", "type": "multiple_select", "objective": "tricky-obj",
             "difficulty": 1, "prompt": "Pick ~ two", "explanation": "A1 & B1 {}",
             "options": [{"id": "a", "text": "one & <two>", "correct": True, "feedback": "a:b"},
                         {"id": "b", "text": "three", "correct": True, "feedback": "c=d"},
                         {"id": "c", "text": "four", "feedback": "e#f"}]},
            {"id": "tricky-tf", "type": "true_false", "objective": "tricky-obj",
             "difficulty": 1, "prompt": f"True? {TRICKY}", "explanation": "A1",
             "answer": False, "feedback_true": "No # really", "feedback_false": "Right: {ok}"},
            {"id": "tricky-num", "type": "numeric", "objective": "tricky-obj", "difficulty": 1,
             "prompt": "How many ~?", "explanation": "A1", "answer": -2.5, "tolerance": 0.5,
             "unit": "km²", "feedback_correct": "=yes", "feedback_incorrect": "#no",
             "mistakes": [{"value": 2.5, "tolerance": 0, "feedback": "sign {wrong}"}]},
            {"id": "tricky-short", "type": "short_text", "objective": "tricky-obj",
             "difficulty": 1, "prompt": "Name: it", "explanation": "A1",
             "accept": ["Ким Чен Ын", "김정은", "a*b"], "pattern": "(the )?kim ?jong[- ]un",
             "feedback_correct": "Yes & <ok>", "feedback_incorrect": "No ~",
             "mistakes": [{"answer": "Kim Il Sung", "feedback": "Grandfather: {1994}"}]},
            {"id": "tricky-match", "type": "matching", "objective": "tricky-obj",
             "difficulty": 1, "prompt": "Match & <sort>", "explanation": "A1",
             "choices": ["Yes & no", "Нет", "Extra {unused}"],
             "pairs": [{"id": "p1", "prompt": "“One”: 1", "answer": "Yes & no", "feedback": "f1"},
                       {"id": "p2", "prompt": "Два = 2", "answer": "Нет", "feedback": "f2"}]},
            {"id": "tricky-order", "type": "ordering", "objective": "tricky-obj",
             "difficulty": 1, "prompt": "Order {these}", "explanation": "A1",
             "items": [{"id": "x", "text": "first & <1>", "feedback": "f"},
                       {"id": "y", "text": "second # 2", "feedback": "g"}]},
        ],
    }
    (folder / "tricky.yaml").write_text(yaml.safe_dump(bank, allow_unicode=True), "utf-8")
    return folder


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("book_url", [None, BOOK])
def test_special_characters_survive_every_format(fmt: str, book_url: str | None,
                                                 tmp_path: Path) -> None:
    folder = tricky_bank(tmp_path / "bank")
    result = export(fmt, tmp_path / "out", folder=folder, book_url=book_url)
    if fmt == "moodle":
        ET.parse(result.path)
    back = {q.id: q for q in read_back(fmt, result.path)}
    bank = load_all_banks(folder)[0]
    assert set(back) == set(result.exact + result.approximate)
    for q in bank.questions:
        if q.id in back:
            assert read_part(back[q.id], q, fmt) == graded_part(q, fmt), (fmt, q.id)
    if fmt == "gift":
        assert "\\~ \\= \\# \\{ \\} \\:" in result.path.read_text("utf-8")


def test_finite_patterns_become_lists_and_endless_ones_are_said() -> None:
    assert sorted(finite_matches("(the )?(usa|us)")) == ["the us", "the usa", "us", "usa"]
    assert finite_matches("a+") is None
    q = ShortText(id="x", type="short_text", objective="o", difficulty=1, prompt="p",
                  explanation="A1", accept=["a"], pattern="a+", feedback_correct="y",
                  feedback_incorrect="n")
    assert any("endlessly many" in r for r in carry(q, "moodle").reasons)


# --- bad input -----------------------------------------------------------------------------

def test_unknown_chapter_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["quiz", "export", "--format", "gift", "--out",
                                       str(tmp_path / "out"), "--chapter", "no-such-chapter"])
    assert result.exit_code == 1
    assert "unknown chapter 'no-such-chapter'" in result.output and "sanctions" in result.output
    assert not (tmp_path / "out").exists()


def test_unwritable_folder_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(main, ["quiz", "export", "--format", "moodle", "--out",
                                       str(blocker / "out")])
    assert result.exit_code == 1 and "cannot create the output folder" in result.output


def test_a_bank_that_fails_its_schema_is_refused(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tricky_bank(tmp_path / "bank")
    (folder / "tricky.yaml").write_text(
        (folder / "tricky.yaml").read_text("utf-8").replace("type: numeric", "type: numerik"),
        "utf-8")
    monkeypatch.setenv("COURSE_QUIZZES_DIR", str(folder))
    result = CliRunner().invoke(main, ["quiz", "export", "--format", "qti", "--out",
                                       str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "does not pass its checks" in result.output and "tricky-num" in result.output
    assert list((tmp_path / "out").glob("*")) == []


def test_a_failure_while_writing_leaves_no_partial_file(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    export("qti", out)
    before = (out / FILE_NAMES["qti"]).read_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(qti, "assessment", broken)
    with pytest.raises(RuntimeError):
        export("qti", out)
    assert (out / FILE_NAMES["qti"]).read_bytes() == before  # the old file, untouched
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [FILE_NAMES["qti"], "course-quizzes-qti.idents.json"])  # no .part left
    with pytest.raises(ExportError, match="unknown format"):
        export("pdf", out)  # type: ignore[arg-type]
