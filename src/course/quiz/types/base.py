"""The base of every question type, and the registry derived from its subclasses.

A question type is one class: its fields (the bank format, validated by pydantic), its grading,
and its two renderings, the book's HTML controls and the live widgets. The book's script has one
handler per type in assets/quiz.js. Nothing else lists the types: the registry below is filled as
each subclass is defined, and the tests check that the script, the test vectors and the
all-question-types bank cover exactly the registry (docs/architecture.md, decision 3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field

from course.quiz.scoring import Result

if TYPE_CHECKING:
    import ipywidgets

Text = Annotated[str, Field(min_length=1)]
# The id of a claim in course/data/claims.yaml whose verdict this question, option or pair
# states; checked on load against the file (docs/accuracy.md). Kept out of model_dump so that
# renderers do not ship it to the page.
ClaimRef = Annotated[str | None, Field(default=None, min_length=1, exclude=True)]
# The widgets of one question, and a function that reads the student's answer from them.
Controls = tuple[list["ipywidgets.Widget"], Callable[[], Any]]

REGISTRY: dict[str, type[QuestionType]] = {}


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def unique(ids: list[str], what: str) -> None:
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"{what} ids must be unique; repeated: {', '.join(repeated)}")


class QuestionType(Model):
    """Fields every question has; a subclass adds ``type: Literal["<name>"]`` and its own."""

    # shown after the prompt, e.g. " (choose all that apply)"
    hint: ClassVar[str] = ""
    # what Check says when nothing was answered; "" means the quizzes' general words
    empty_hint: ClassVar[str] = ""

    type: str  # a subclass narrows it to Literal["<its name>"], which registers it
    id: Text
    objective: Text
    difficulty: Literal[1, 2, 3]
    prompt: Text
    explanation: Text
    claim: ClaimRef = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        annotation = cls.model_fields["type"].annotation
        if get_origin(annotation) is not Literal:  # a shared helper class, not a type
            return
        (name,) = get_args(annotation)
        if name in REGISTRY:
            raise TypeError(f"question type {name!r} is defined twice")
        REGISTRY[name] = cls

    def grade(self, response: Any) -> Result:
        """Score ``response`` by book/quizzes/README.md (1 point per question)."""
        raise NotImplementedError

    def html_controls(self) -> str:
        """The book form's controls for this question (assets/quiz.js reads them)."""
        raise NotImplementedError

    def widget_controls(self) -> Controls:
        """The live quiz's widgets, and how to read the answer from them."""
        raise NotImplementedError
