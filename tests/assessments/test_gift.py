"""GIFT import: files written to Moodle's GIFT documentation, read into banks, refused
question by question with the line, and imported through bank_import."""

import pytest

from assessments.bank_format import FORMAT
from assessments.bank_transfer import bank_export, bank_import
from assessments.formats.gift import gift_read
from assessments.models import Question, QuestionBank
from tests.factories import code

pytestmark = pytest.mark.django_db

CODES = ("DO-TEST", "DO-SPEED", "DO-DATA", "DO-PKEEP", "DO-NOSCALE", "DO-ILLUSION", "DO-PERMANENT")


@pytest.fixture(autouse=True)
def _codes():
    for name in CODES:
        code(name)


FULL_FILE = r"""// Dropout, written by hand for Moodle's GIFT import.
// A comment on its own is not a question.

$CATEGORY: $course$/top/Dropout/At inference

// [id:tf-eval] [tag:misconception:DO-TEST] [tag:answer-1:DO-TEST] [tag:form:A]
::Eval mode::In PyTorch, after model.eval() a dropout layer still zeroes units at random.{F
#No\: in evaluation mode dropout passes every unit through.#Right: it is the identity in eval mode.
####Call model.eval() before predicting; dropout is then off.}

// [tag:misconception:DO-TEST] [tag:misconception:DO-NOSCALE]
// [tag:answer-2:DO-TEST] [tag:answer-3:DO-NOSCALE]
::Inverted dropout at test time::[html]<p>With <em>inverted</em> dropout (p \= 0.5), what happens to
activations at test time?</p>{
  =Nothing: they were already scaled by 1/(1-p) in training.#Right: the scaling happened in training.
  ~Half of the units are dropped at random.#No: <b>all</b> units are used at inference.
  ~They are multiplied by (1-p).#That is classic dropout's inference step, not inverted dropout's.
####Inverted dropout scales in training &amp; leaves inference alone.}

$CATEGORY: $course$/top/Dropout/Purpose

// [tag:misconception:DO-SPEED] [tag:misconception:DO-DATA]
// [tag:answer-3:DO-SPEED] [tag:answer-4:DO-DATA]
::Select all::Which statements about dropout are true? Select all that apply.{
  ~%50%It regularises the network.#Yes.
  ~%50%A dropped unit can be active on the next pass.#Yes: the mask is drawn afresh.
  ~%-50%It makes each epoch cheaper.#No: every unit is still computed.
  ~%-50%It adds labelled examples.#No: the examples are the same ones.
####Dropout is a regulariser; it neither saves time nor adds data.}

// [id:kept-units] [tag:misconception:DO-PKEEP] [tag:answer-2:DO-PKEEP]
::Kept units::A layer of 1000 units uses dropout with drop probability p \= 0.2. How many units are expected to stay active on one training pass?{#
  =800:0.5
  =%0%200:0.5#200 is the number expected to be dropped; (1-p) * 1000 \= 800 stay.
####Each unit is kept with probability 1-p.}

// [tag:misconception:DO-PKEEP] [tag:answer-2:DO-PKEEP]
::Keep probability::Give the keep probability of a layer with drop probability p \= 0.2 (answers from 0.75 to 0.85 count). {#
  =0.75..0.85
  =%0%0.15..0.25#That is the drop probability p; a unit is kept with probability 1-p.
####The keep probability is 1-p.}

// [tag:misconception:DO-ILLUSION] [tag:misconception:DO-PERMANENT] [tag:idea-1:DO-PERMANENT]
// [model-answer:Dropped units sit out one pass only; the next pass draws a new mask, and at inference every unit is used.]
// [key-idea:Dropping lasts one pass]
// [key-idea:At inference all units are used]
::Explain dropping::Explain in your own words whether a dropped unit is gone for good.{####A dropped unit returns on the next pass.}
"""

EVAL_MODE = {
    "slug": "tf-eval",
    "type": "truefalse",
    "form": "A",
    "stem": "In PyTorch, after model.eval() a dropout layer still zeroes units at random.",
    "mark": 1,
    "probes": ["DO-TEST"],
    "feedback": "Call model.eval() before predicting; dropout is then off.",
    "choices": [
        {
            "text": "True",
            "correct": False,
            "tier": 1,
            "misconceptions": ["DO-TEST"],
            "feedback": "No: in evaluation mode dropout passes every unit through.",
        },
        {
            "text": "False",
            "correct": True,
            "tier": 1,
            "misconceptions": [],
            "feedback": "Right: it is the identity in eval mode.",
        },
    ],
}


def inference_bank():
    return {
        "format": FORMAT,
        "slug": "dropout--at-inference",
        "title": "Dropout / At inference",
        "description": "",
        "is_prerequisite": False,
        "questions": [
            EVAL_MODE,
            {
                "slug": "inverted-dropout-at-test-time",
                "type": "single",
                "form": "",
                "stem": "With inverted dropout (p = 0.5), what happens to activations at test time?",
                "mark": 1,
                "probes": ["DO-TEST", "DO-NOSCALE"],
                "feedback": "Inverted dropout scales in training & leaves inference alone.",
                "choices": [
                    {
                        "text": "Nothing: they were already scaled by 1/(1-p) in training.",
                        "correct": True,
                        "tier": 1,
                        "misconceptions": [],
                        "feedback": "Right: the scaling happened in training.",
                    },
                    {
                        "text": "Half of the units are dropped at random.",
                        "correct": False,
                        "tier": 1,
                        "misconceptions": ["DO-TEST"],
                        "feedback": "No: all units are used at inference.",
                    },
                    {
                        "text": "They are multiplied by (1-p).",
                        "correct": False,
                        "tier": 1,
                        "misconceptions": ["DO-NOSCALE"],
                        "feedback": "That is classic dropout's inference step, not inverted dropout's.",
                    },
                ],
            },
        ],
    }


def purpose_bank():
    return {
        "format": FORMAT,
        "slug": "dropout--purpose",
        "title": "Dropout / Purpose",
        "description": "",
        "is_prerequisite": False,
        "questions": [
            {
                "slug": "select-all",
                "type": "multiple",
                "form": "",
                "stem": "Which statements about dropout are true? Select all that apply.",
                "mark": 1,
                "probes": ["DO-SPEED", "DO-DATA"],
                "feedback": "Dropout is a regulariser; it neither saves time nor adds data.",
                "choices": [
                    {
                        "text": "It regularises the network.",
                        "correct": True,
                        "tier": 1,
                        "misconceptions": [],
                        "feedback": "Yes.",
                    },
                    {
                        "text": "A dropped unit can be active on the next pass.",
                        "correct": True,
                        "tier": 1,
                        "misconceptions": [],
                        "feedback": "Yes: the mask is drawn afresh.",
                    },
                    {
                        "text": "It makes each epoch cheaper.",
                        "correct": False,
                        "tier": 1,
                        "misconceptions": ["DO-SPEED"],
                        "feedback": "No: every unit is still computed.",
                    },
                    {
                        "text": "It adds labelled examples.",
                        "correct": False,
                        "tier": 1,
                        "misconceptions": ["DO-DATA"],
                        "feedback": "No: the examples are the same ones.",
                    },
                ],
            },
            {
                "slug": "kept-units",
                "type": "numeric",
                "form": "",
                "stem": "A layer of 1000 units uses dropout with drop probability p = 0.2. How many units are expected to stay active on one training pass?",
                "mark": 1,
                "probes": ["DO-PKEEP"],
                "feedback": "Each unit is kept with probability 1-p.",
                "choices": [],
                "numeric": {
                    "parameters": {},
                    "answer": "800",
                    "tolerance": 0.5,
                    "relative": False,
                    "unit": "",
                    "distractors": [
                        {
                            "answer": "200",
                            "misconceptions": ["DO-PKEEP"],
                            "feedback": "200 is the number expected to be dropped; (1-p) * 1000 = 800 stay.",
                        }
                    ],
                },
            },
            {
                "slug": "keep-probability",
                "type": "numeric",
                "form": "",
                "stem": "Give the keep probability of a layer with drop probability p = 0.2 (answers from 0.75 to 0.85 count).",
                "mark": 1,
                "probes": ["DO-PKEEP"],
                "feedback": "The keep probability is 1-p.",
                "choices": [],
                "numeric": {
                    "parameters": {},
                    "answer": "0.8",
                    "tolerance": 0.05,
                    "relative": False,
                    "unit": "",
                    "distractors": [
                        {
                            "answer": "0.2",
                            "misconceptions": ["DO-PKEEP"],
                            "feedback": "That is the drop probability p; a unit is kept with probability 1-p.",
                        }
                    ],
                },
            },
            {
                "slug": "explain-dropping",
                "type": "explain",
                "form": "",
                "stem": "Explain in your own words whether a dropped unit is gone for good.",
                "mark": 1,
                "probes": ["DO-ILLUSION", "DO-PERMANENT"],
                "feedback": "A dropped unit returns on the next pass.",
                "choices": [],
                "model_answer": "Dropped units sit out one pass only; the next pass draws a new mask, and at inference every unit is used.",
                "key_ideas": ["Dropping lasts one pass", "At inference all units are used"],
                "key_idea_probes": [["DO-PERMANENT"], []],
            },
        ],
    }


def test_it_reads_every_question_of_a_documented_file():
    conversion = gift_read(FULL_FILE)

    assert conversion.refused == {}
    assert conversion.skipped == {}
    assert conversion.banks == [inference_bank(), purpose_bank()]
    assert conversion.origins["tf-eval"] == "question 1 'Eval mode' (line 7)"
    assert conversion.origins["explain-dropping"] == "question 6 'Explain dropping' (line 47)"


def test_a_full_import_through_bank_import_gives_the_expected_banks():
    # given
    conversion = gift_read(FULL_FILE)

    # when
    for bank in conversion.banks:
        bank_import(bank)
        bank_import(bank)  # a second import of the same file changes nothing

    # then
    assert QuestionBank.objects.count() == 2
    assert Question.objects.count() == 6
    inference = bank_export(QuestionBank.objects.get(slug="dropout--at-inference"))
    assert [q["slug"] for q in inference["questions"]] == [
        "tf-eval",
        "inverted-dropout-at-test-time",
    ]
    assert inference["questions"][0] == {**EVAL_MODE, "mark": 1.0}
    purpose = bank_export(QuestionBank.objects.get(slug="dropout--purpose"))
    expected = purpose_bank()["questions"]
    assert purpose["title"] == "Dropout / Purpose"
    for exported, written in zip(purpose["questions"], expected, strict=True):
        for key, value in written.items():
            assert exported[key] == (sorted(value) if key == "probes" else value), key


def one(text, **kwargs):
    """Return the only question a file gives, with the conversion."""
    conversion = gift_read(text, **kwargs)
    assert conversion.refused == {}, conversion.refused
    [bank] = conversion.banks
    [question] = bank["questions"]
    return question


def refusal(text):
    """Return the one refusal a file gives, as (place, message)."""
    conversion = gift_read(text)
    assert conversion.banks == []
    [(place, message)] = conversion.refused.items()
    return place, message


TF_TAGS = "// [tag:misconception:DO-TEST] [tag:answer-{wrong}:DO-TEST]\n"


@pytest.mark.parametrize(
    ("word", "right"),
    [("T", "True"), ("TRUE", "True"), ("F", "False"), ("FALSE", "False")],
)
def test_true_false_takes_every_spelling_and_gives_each_answer_its_feedback(word, right):
    wrong = 2 if right == "True" else 1
    question = one(
        TF_TAGS.format(wrong=wrong)
        + f"Dropout is active during training.{{{word}#Wrong answer.#Right answer.####General.}}"
    )

    assert question["type"] == "truefalse"
    by_text = {c["text"]: c for c in question["choices"]}
    assert by_text[right]["correct"] is True
    assert by_text[right]["feedback"] == "Right answer."
    wrong_choice = question["choices"][wrong - 1]
    assert wrong_choice["correct"] is False
    assert wrong_choice["feedback"] == "Wrong answer."
    assert wrong_choice["misconceptions"] == ["DO-TEST"]
    assert question["feedback"] == "General."


def test_escapes_give_the_characters_themselves():
    question = one(
        "// [tag:misconception:DO-TEST] [tag:answer-2:DO-TEST]\n"
        r"::Escapes \: all \{ of \} them::Is a \= b, c \~ d, \{x\}, \# and a\: b\nkept\\n?{"
        "\n=Yes \\= kept#Right \\# one\n~No \\~ lost#Wrong \\: all kept\n####Done.}"
    )

    assert question["slug"] == "escapes-all-of-them"
    assert question["stem"] == "Is a = b, c ~ d, {x}, # and a: b\nkept\\n?"
    assert question["choices"][0]["text"] == "Yes = kept"
    assert question["choices"][0]["feedback"] == "Right # one"
    assert question["choices"][1]["text"] == "No ~ lost"
    assert question["choices"][1]["feedback"] == "Wrong : all kept"


def test_html_is_sanitised_to_plain_text_and_other_formats_are_kept():
    tags = "// [tag:misconception:DO-TEST] [tag:answer-2:DO-TEST]\n"
    html = one(
        tags + "[html]<p>Is <b>x</b> &lt; y?</p><script>alert(1)</script><p>Say <i>why</i>.<br>Now"
        "</p>{=[plain]<b>yes</b>#[markdown]*right*\n~no#<em>wrong</em>####<ul><li>a</li><li>b</li></ul>}"
    )
    assert html["stem"] == "Is x < y?\n\nSay why.\nNow"
    assert html["choices"][0]["text"] == "<b>yes</b>"
    assert html["choices"][0]["feedback"] == "*right*"
    assert html["choices"][1]["feedback"] == "wrong"  # the question's [html] carries over
    assert html["feedback"] == "- a\n- b"
    moodle = one(tags + "[moodle]Two\\nlines with <b>bold</b>.{=a#r\n~b#w####g}")
    assert moodle["stem"] == "Two\nlines with bold."
    plain = one(tags + "[plain]Keep <b>this</b> as typed.{=a#r\n~b#w####g}")
    assert plain["stem"] == "Keep <b>this</b> as typed."
    markdown = one(tags + "[markdown]The *inverted* scheme.{=a#r\n~b#w####g}")
    assert markdown["stem"] == "The *inverted* scheme."


def test_an_image_is_refused_not_dropped():
    place, message = refusal('[html]<p>Look: <img src="https://example.org/mask.png"></p>{T####g}')

    assert place == "question 1 '[html]<p>Look: <img src=\"https://exampl…' (line 1)"
    assert "line 1" in message
    assert "(<img>)" in message


def test_several_numeric_answers_map_the_zero_weight_ones_to_distractors():
    question = one(
        "// [tag:misconception:DO-PKEEP] [tag:misconception:DO-TEST] [tag:answer-1:DO-PKEEP]\n"
        "// [tag:answer-3:DO-TEST]\n"
        "Units kept of 10 at p \\= 0.3?{#=%0%3:0.5#Dropped, not kept.=7:0.5\n=%0%10#All units: that is inference.####g}"
    )

    numeric = question["numeric"]
    assert numeric["answer"] == "7"
    assert numeric["tolerance"] == 0.5
    assert numeric["distractors"] == [
        {"answer": "3", "misconceptions": ["DO-PKEEP"], "feedback": "Dropped, not kept."},
        {
            "answer": "10",
            "misconceptions": ["DO-TEST"],
            "feedback": "All units: that is inference.",
        },
    ]


PKEEP = "// [tag:misconception:DO-PKEEP] [tag:answer-2:DO-PKEEP]\n"


def test_a_range_is_its_middle_with_half_its_width():
    numeric = one(PKEEP + "A value?{#=-2..-1.5 =%0%1..1.5#w####g}")["numeric"]

    assert (numeric["answer"], numeric["tolerance"]) == ("-1.75", 0.25)


def test_an_exact_number_has_no_tolerance():
    numeric = one(PKEEP + "A value?{#2.5 =%0%1#w####g}")["numeric"]

    assert (numeric["answer"], numeric["tolerance"]) == ("2.5", 0.0)


@pytest.mark.parametrize(
    ("answers", "line", "says"),
    [
        ("#=2.5:0.1 =%50%2:1", 1, "Answer 2 gives 50%: a number here is right"),
        ("#=2.5:0.1\n~#Any other number is wrong.", 2, "Feedback for any other number (~#...)"),
        ("#=2.5:0.1\n=%0%*#other", 2, "'*' (any other number) has no equivalent"),
        ("#=2.5:0.1#Well done", 1, "The right number's feedback (#...) has no place here"),
        ("#=2.5:0.1 =2.6", 1, "one right number (at 100%) with its tolerance; this one has 2"),
        ("#=2.5:0.1\n=%0%2:0.3#x", 2, "Answer 2 has its own tolerance (0.3)"),
        ("#two", 1, "'two' is not a number"),
        ("#3..1", 1, "The range 3..1 ends below its start"),
    ],
)
def test_numeric_answers_we_cannot_keep_are_refused_naming_the_line(answers, line, says):
    place, message = refusal(f"::N::How many?{{{answers}####g}}")

    assert place == "question 1 'N' (line 1)"
    assert message.startswith(f"line {line}: ")
    assert says in message


def test_a_numeric_text_with_a_brace_is_refused():
    _, message = refusal("::N::Is \\{p\\} set?{#1####g}")

    assert "cannot hold a brace" in message


def test_multiple_response_weights_that_are_our_scoring_are_kept():
    question = one(
        "// [tag:misconception:DO-SPEED] [tag:answer-4:DO-SPEED]\n"
        "Which?{~%33.33333%a#r ~%33.33333%b#r ~%33.33333%c#r ~%-100%d#w####g}"
    )

    assert question["type"] == "multiple"
    assert [c["correct"] for c in question["choices"]] == [True, True, True, False]


@pytest.mark.parametrize(
    ("answers", "says"),
    [
        (
            "~%50%a ~%50%b ~%-100%c ~%-100%d",
            "Answer 3 weighs -100%, but a multiple-response question here scores each of its "
            "right answers 100/R % and takes 100/W % for each wrong one ticked (never below 0): "
            "with 2 right and 2 wrong, write ~%50% for each right answer and ~%-50% for each wrong one.",
        ),
        ("~%50%a ~%50%b ~c", "Answer 3 weighs 0%"),
        ("~%70%a ~%30%b ~%-100%c", "Answer 1 weighs 70%"),
        (
            "=a ~%50%b ~c",
            "Answer 2 weighs 50%: a single-choice question here scores an answer right (=) or wrong (~)",
        ),
        ("=a ~%-50%b", "Answer 2 weighs -50%: a single-choice question"),
        ("=a ~%150%b", "The weight 150% is outside -100% to 100%."),
    ],
)
def test_weights_our_scoring_cannot_keep_are_refused(answers, says):
    place, message = refusal(f"::W::Which?{{{answers}####g}}")

    assert place == "question 1 'W' (line 1)"
    assert message.startswith("line 1: ")
    assert says in message


def test_an_essay_is_refused_until_it_gives_what_an_explain_item_needs():
    _, message = refusal("// [tag:misconception:DO-ILLUSION]\n::E::Explain dropout.{}")

    assert message == (
        "An essay imports as an explain-it-back item, which needs its model answer "
        "(// [model-answer:...]) and the key ideas a learner checks an answer against "
        "(// [key-idea:...], one each) in the question's comments."
    )
    _, message = refusal("// [model-answer:It zeroes units.]\n::E::Explain dropout.{####g}")
    assert "needs the key ideas" in message
    assert "model answer" not in message.split("needs")[1]


def test_categories_become_banks_and_questions_before_any_go_to_the_default_bank():
    tf = "// [tag:misconception:DO-TEST] [tag:answer-1:DO-TEST]\n::{title}::Still dropping at test time?{{F#w####g}}\n\n"
    conversion = gift_read(
        tf.format(title="first")
        + "$CATEGORY: $course$/top/Units//Layers/Basics\n\n"
        + tf.format(title="second")
        + "$CATEGORY: $system$/Imported\n\n"
        + tf.format(title="third")
        + "$CATEGORY: $course$/top/Units//Layers/Basics\n\n"
        + tf.format(title="fourth"),
        default_bank="Week 3",
    )

    assert [
        (b["slug"], b["title"], [q["slug"] for q in b["questions"]]) for b in conversion.banks
    ] == [
        ("week-3", "Week 3", ["first"]),
        ("unitslayers--basics", "Units/Layers / Basics", ["second", "fourth"]),
        ("imported", "Imported", ["third"]),
    ]


def test_slugs_come_from_ids_then_titles_then_text_and_are_unique():
    tf = "// [tag:misconception:DO-TEST] [tag:answer-1:DO-TEST]{id}\n{title}Is dropout on at test time?{{F#w####g}}\n\n"
    conversion = gift_read(
        tf.format(id="", title="::Same title::")
        + tf.format(id="", title="::Same title::")
        + tf.format(id=" [id:Same title]", title="::Other::")
        + tf.format(id="", title="")
    )

    [bank] = conversion.banks
    assert [q["slug"] for q in bank["questions"]] == [
        "same-title-2",
        "same-title-3",
        "same-title",
        "is-dropout-on-at-test-time",
    ]


def test_a_repeated_id_refuses_the_later_question():
    tf = "// [id:q1] [tag:misconception:DO-TEST] [tag:answer-1:DO-TEST]\n::{title}::Test time?{{F#w####g}}\n\n"
    conversion = gift_read(tf.format(title="A") + tf.format(title="B"))

    assert conversion.refused == {
        "question 2 'B' (line 5)": "[id:q1] is already the id of question 1 'A' (line 2)."
    }


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "::S::Who drops units?{=dropout =the dropout layer}",
            "A short-answer question ({=answer =other answer}) has no equivalent here",
        ),
        ("::M::Match.{=train -> drop =test -> keep}", "A matching question (=item -> match)"),
        (
            "::W::Dropout is {=on ~off} during training.",
            "The answers stand inside the text (Moodle's missing-word form",
        ),
        (
            "::L::Dropout is off at test time.{t}",
            "(true/false is written in capitals: {T}, not {t})",
        ),
    ],
)
def test_types_with_no_equivalent_are_refused_by_name(text, says):
    place, message = refusal(text)

    assert place.startswith("question 1 '")
    assert place.endswith("(line 1)")
    assert says in message


def test_a_description_is_skipped_with_a_note():
    conversion = gift_read("::Intro::The next questions are about inference.")

    assert conversion.skipped == {
        "question 1 'Intro' (line 1)": "A description (text without answers) has nothing to answer; not imported."
    }


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("::T::Open\nbrace {=a\n~b", "line 2: The answer block opened with '{' is not closed"),
        ("::T::A stray } here {T}", "line 1: This '}' closes no answer block"),
        ("::Title never closed {T}", "line 1: The title opened with '::' is not closed"),
        ("::T::Nested {=a {~b}", "line 1: A '{' inside an answer block"),
        ("::T::One {T}\nand another {F}", "line 2: A question has one answer block"),
        ("::T::Weight?{\n=a\n~%half%b}", "line 3: A weight is written as a percentage"),
        ("::T::Empty?{=a ~ ~b}", "line 1: An empty answer."),
        ("::T::Lead?{\nfirst =a ~b}", "line 2: 'first' stands before the first answer"),
        ("::T::Both?{=%50%a ~b}", "line 1: '=' already marks an answer right"),
    ],
)
def test_a_malformed_question_is_refused_naming_its_line(text, says):
    conversion = gift_read(text)

    assert conversion.banks == []
    [message] = conversion.refused.values()
    assert message.startswith(says)


def test_validation_problems_are_named_in_gift_terms():
    place, message = refusal(
        "// [tag:misconception:DO-TEST]\n::Bare::Still dropping at inference?{=No ~Yes#y}"
    )
    assert place == "question 1 'Bare' (line 2)"
    assert message == "general feedback (after ####): This field may not be blank."

    place, message = refusal(
        "// [tag:misconception:DO-TEST]\n::Bare::Still dropping at inference?{\n=No\n~Yes\n~Sometimes#Only in MC dropout.\n####g}"
    )

    assert place == "question 1 'Bare' (line 2)"
    assert message.split("; ") == [
        "misconception tags (// [tag:misconception:CODE]): No wrong answer names DO-TEST: "
        "give it a distractor a learner holding that belief would choose, or stop probing it.",
        "answer 2 'Yes' (line 4): A wrong choice must name the misconception(s) it reveals. "
        "Tag it // [tag:answer-2:CODE].",
        "answer 2 'Yes' (line 4): A wrong choice needs feedback that explains what is true. "
        "Write it after # in the answer.",
        "answer 3 'Sometimes' (line 5): A wrong choice must name the misconception(s) it reveals. "
        "Tag it // [tag:answer-3:CODE].",
    ]


def test_unknown_codes_and_misplaced_tags_are_refused():
    _, unknown = refusal(
        "// [tag:misconception:DO-NOPE] [tag:answer-2:DO-NOPE]\n::U::Q?{=a ~b#w####g}"
    )
    assert "Unknown misconception code 'DO-NOPE'" in unknown
    _, beyond = refusal(
        "// [tag:misconception:DO-TEST] [tag:answer-3:DO-TEST]\n::U::Q?{=a ~b#w####g}"
    )
    assert beyond == "The tag answer-3:... names answer 3, but the question has 2 answers."
    _, right = refusal(
        "// [tag:misconception:DO-TEST] [tag:answer-1:DO-TEST]\n::U::Q?{=a ~b#w####g}"
    )
    assert (
        right
        == "The tag answer-1:... tags a right answer; only a wrong answer reveals a misconception."
    )


def test_comments_inside_a_question_are_not_text_and_tags_are_read_in_any_case():
    question = one(
        "::C::Which is true?{\n// the right one first\n=Dropout regularises.#Yes\n"
        "// [TAG:ignored] [tag:Misconception:do-speed]\n~It is faster.#No\n"
        "// [tag:answer-2:do-speed]\n####g}"
    )

    assert question["probes"] == ["DO-SPEED"]
    assert [c["text"] for c in question["choices"]] == ["Dropout regularises.", "It is faster."]
    assert question["choices"][1]["misconceptions"] == ["DO-SPEED"]


def test_a_file_with_refused_questions_still_gives_the_others_and_writes_nothing():
    conversion = gift_read(FULL_FILE + "\n::Short::Who drops units?{=dropout}\n")

    assert conversion.banks == [inference_bank(), purpose_bank()]
    assert list(conversion.refused) == ["question 7 'Short' (line 49)"]
    assert QuestionBank.objects.count() == 0


def test_idea_and_form_tags_must_fit_the_question():
    _, beyond = refusal(
        "// [tag:misconception:DO-ILLUSION] [tag:idea-3:DO-TEST]\n// [model-answer:m] [key-idea:one]\n::E::Explain.{####g}"
    )
    assert (
        beyond == "line 1: The tag idea-3:... names key idea 3, but the question has 1 key ideas."
    )
    _, not_essay = refusal("// [tag:idea-1:DO-TEST]\n::T::Q?{T####g}")
    assert not_essay == "line 1: Only an essay has key ideas to tag with idea-N."
    _, forms = refusal("// [tag:form:A] [tag:form:C]\n::T::Q?{T####g}")
    assert forms.startswith("line 1: Tags name form(s) A, C")
