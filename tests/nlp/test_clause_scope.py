"""Negation, hypothesis and topic-list scope on wordings the cue lists do not name.

These run the default taxonomy, because the point is that scope works on whatever themes a
partnership defines, phrased in ways nobody wrote a cue for. Tests that a real mention still tags
run the rules alone: the trained model weighs the rules' verdict afterwards and may overrule it
(see test_theme_model.py).
"""

from __future__ import annotations

import pytest
from spacy.language import Language

from nlp.pipeline import build_pipeline, new_pipeline


@pytest.fixture(scope="module")
def nlp() -> Language:
    return build_pipeline()


@pytest.fixture(scope="module")
def rules() -> Language:
    """The rules alone, for scope rules the trained model may not yet reflect."""
    return new_pipeline(theme_model="")


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        # a negator reaches to the end of its clause, through "any"
        ("The mother had no diagnosis of any mental illness.", "adult_mental_health"),
        ("Her friends described no controlling behaviour by him at any time.", "coercive_control"),
        ("Toxicology tests were negative for alcohol and illicit drugs.", "substance_misuse"),
        # through a short list
        ("There was no indication of neglect, self-harm or drug use.", "self_harm_suicide"),
        # the subject denied: "X was not ..."
        ("Domestic abuse was not a line the panel pursued further.", "domestic_abuse"),
        # a sentence that opens with a hypothesis, up to and after its modal
        (
            "If Jake had been out overnight, the police would have opened a missing person "
            "investigation.",
            "missing_from_home_care",
        ),
        # a list of topics is a passing mention
        (
            "Training for school staff this year covers online safety, county lines and "
            "female genital mutilation.",
            "child_criminal_exploitation",
        ),
        ("The practitioner did not see any signs of neglect.", "neglect"),
        # a denial that points back to the sentence before
        (
            "A neighbour alleged that the uncle had sexually abused a cousin. The allegation "
            "was found to be untrue and was withdrawn.",
            "child_sexual_abuse",
        ),
        ("It would be wrong to describe this as a case of neglect.", "neglect"),
        # what no one did was believe it
        (
            "No one who knew the family thought her son was taking money from her.",
            "economic_abuse",
        ),
    ],
)
def test_theme_only_in_negated_or_hypothetical_scope_does_not_tag(
    nlp: Language, text: str, theme: str
) -> None:
    doc = nlp(text)
    assert theme not in doc._.themes
    # every strong mention carries the cue that ruled it out (weak context words such as
    # "her friends" are not mentions on their own)
    marked = [h for h in doc._.theme_hits if h.theme == theme and not h.weak]
    assert marked and all(h.cue for h in marked if not h.excluded)


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        # a negated practice verb makes a gap about something real
        ("The health visitor did not ask about the father's heavy drinking.", "substance_misuse"),
        # "no one" opens a finding, not a denial
        ("No one asked the mother about her depression.", "adult_mental_health"),
        # the scope ends with its clause
        (
            "There was no evidence of neglect, and the stepfather later assaulted her in front "
            "of the children.",
            "domestic_abuse",
        ),
        # a practice theme whose absence is the finding
        (
            "The parents cancelled appointments and were never at home for visits.",
            "disguised_compliance",
        ),
        # named before the modal, the bruise was real
        (
            "If the GP had been told, the bruise on the baby would have been examined.",
            "bruising_non_mobile",
        ),
        # one theme in a sentence with a topic word is not a list
        ("The training did not help staff to recognise the neglect of Child P.", "neglect"),
    ],
)
def test_real_mentions_beside_negation_still_tag(rules: Language, text: str, theme: str) -> None:
    assert theme in rules(text)._.themes, text


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        # a negated verb of knowing: what was not known was real
        (
            "The school nurse did not know that the stepfather had a conviction for violence "
            "against a former partner.",
            "domestic_abuse",
        ),
        # "whether" after a practice question is the question's subject, not a hypothesis
        (
            "Nobody checked whether Mr Tate had the capacity to refuse the cleaning service.",
            "mental_capacity",
        ),
        # what a hypothesis would have brought to light was real
        (
            "Had the midwife asked about the baby's father, she would have learned that he had "
            "a conviction for violence against a former partner.",
            "domestic_abuse",
        ),
        # a practice theme in a counterfactual condition on a practice verb: nobody asked
        (
            "Had the school nurse asked about the father, the plan would have changed.",
            "fathers_invisible_men",
        ),
        # after ";" a hypothetical sentence says what did happen
        (
            "If the nursery had raised it sooner, a referral might have followed; as it was, the "
            "stepfather's drinking went unrecorded.",
            "substance_misuse",
        ),
        # the review's own view reaches only its part of the sentence
        (
            "The panel did not consider her death to be a suicide; she was killed by her son, who "
            "had been caring for her.",
            "adult_family_homicide",
        ),
        # "X is not consistently ..." is a practice gap, not a denial of X
        (
            "Young people's mental health needs are not consistently met in supported lodgings.",
            "child_mental_health",
        ),
        # "did not consider whether ..." is the gap itself
        (
            "The assessment did not consider whether Ms Dale understood the risks of living in "
            "squalor.",
            "self_neglect",
        ),
    ],
)
def test_real_mentions_under_knowing_question_or_counterfactual_tag(
    rules: Language, text: str, theme: str
) -> None:
    assert theme in rules(text)._.themes, text


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        # knowing of nothing: "any" keeps the denial
        ("The health visitor did not know of any violence between the parents.", "domestic_abuse"),
        (
            "No agency or relative knew of any controlling behaviour in the marriage.",
            "coercive_control",
        ),
        # "no record ... ever" denies
        (
            "There is no record that Mr Cole ever spoke of wanting to end his life.",
            "self_harm_suicide",
        ),
        # a denial after a long subject
        (
            "Domestic abuse, neglect and parental drinking were all explored at the assessment "
            "and none was found.",
            "domestic_abuse",
        ),
        (
            "The parents' drug and alcohol use, the home conditions and the mother's low mood were "
            "explored and ruled out early in the assessment.",
            "substance_misuse",
        ),
        # a list whose last item is long is still in the negation's scope
        (
            "The clinic letter contained no mention of low mood, panic or any other mental health "
            "difficulty, and her sister said she had been well.",
            "adult_mental_health",
        ),
        # a question the text answers was only a possibility
        (
            "The panel considered whether the boy was being exploited by the older youths and "
            "concluded that he was not.",
            "child_criminal_exploitation",
        ),
        # "did not find that" denies, unlike "did not know that"
        (
            "We did not find that the girls had been sexually exploited by the men.",
            "child_sexual_exploitation",
        ),
    ],
)
def test_denials_around_knowing_and_questions_do_not_tag(
    nlp: Language, text: str, theme: str
) -> None:
    doc = nlp(text)
    assert theme not in doc._.themes, text
    assert all(h.cue for h in doc._.theme_hits if h.theme == theme and not h.weak)


@pytest.mark.parametrize(
    ("text", "theme", "tags"),
    [
        # a glossary that opens with its heading, without an abbreviation
        (
            "Glossary. Economic abuse: behaviour that stops a person getting, using or keeping "
            "money, such as taking their wages.",
            "economic_abuse",
            False,
        ),
        (
            "Her husband took her wages every week and left her without money for food.",
            "economic_abuse",
            True,
        ),
        # someone named for their expertise, not for the case
        (
            "Dr Osei, a paediatrician with expertise in abusive head trauma, advised the panel.",
            "nai_infants",
            False,
        ),
        (
            "The paediatrician advised the social worker that the baby's skull fracture had been "
            "inflicted.",
            "nai_infants",
            True,
        ),
        # a possibility the text answers and sets aside
        (
            "The panel heard that Ms Lowe, then seventeen, might have been sexually exploited by "
            "the men at the flat, and concluded that she had not.",
            "child_sexual_exploitation",
            False,
        ),
        (
            "The review concluded that Ms Lowe had been sexually exploited by the men at the flat.",
            "child_sexual_exploitation",
            True,
        ),
        (
            "County lines activity was considered as an explanation for his late nights and found "
            "not to apply.",
            "child_criminal_exploitation",
            False,
        ),
    ],
)
def test_passing_and_answered_mentions(nlp: Language, text: str, theme: str, tags: bool) -> None:
    assert (theme in nlp(text)._.themes) is tags, text


@pytest.mark.parametrize(
    ("text", "theme", "tags"),
    [
        # the review's verdict on what came before it denies it, practice themes included
        (
            "Liaison between the nursery and the housing officer is not criticised in this "
            "review; both kept in regular touch.",
            "multi_agency_working",
            False,
        ),
        (
            "Liaison between the nursery and the housing officer was poor: neither knew what the "
            "other was doing, and no joint plan was agreed.",
            "multi_agency_working",
            True,
        ),
        # "at no point" denies what follows it; "no point at which" a practice theme too
        (
            "At no point did the boys' mother show signs of depression or any other mental "
            "illness.",
            "adult_mental_health",
            False,
        ),
        (
            "There was no point at which the threshold for a social work assessment was met.",
            "thresholds",
            False,
        ),
        (
            "At no point did anyone at the front door look back at the earlier contacts.",
            "thresholds",
            True,
        ),
    ],
)
def test_verdicts_and_at_no_point(rules: Language, text: str, theme: str, tags: bool) -> None:
    assert (theme in rules(text)._.themes) is tags, text


@pytest.mark.parametrize(
    ("text", "theme", "tags"),
    [
        # a numbered part of the report that presents something is about the report
        ("Chapter 6 looks at how the Mental Capacity Act was applied.", "mental_capacity", False),
        (
            "Culture, faith and language are considered in section 4 of this report.",
            "race_ethnicity_culture",
            False,
        ),
        (
            "The partnership's neglect strategy is attached at Appendix D.",
            "neglect",
            False,
        ),
        # a statutory section is not a part of the report
        (
            "Section 47 enquiries were started after the baby's skull fracture was found.",
            "child_protection_process",
            True,
        ),
        # an opening label before a colon that names a list
        (
            "Review panel: independent chair; named nurse; manager, the drug and alcohol "
            "service; detective sergeant, public protection.",
            "substance_misuse",
            False,
        ),
        (
            "Areas for the audit: 1. Neglect; 2. Voice of the child; 3. Early help.",
            "neglect",
            False,
        ),
        # a finding with a colon is still a finding
        (
            "Finding 2: the drug and alcohol service did not know that the father was drinking "
            "heavily again.",
            "substance_misuse",
            True,
        ),
    ],
)
def test_sentences_about_the_document(rules: Language, text: str, theme: str, tags: bool) -> None:
    assert (theme in rules(text)._.themes) is tags, text


@pytest.mark.parametrize(
    ("text", "theme", "tags"),
    [
        # a question answered with a denial rules out what was asked about
        (
            "Ms Obi was asked about drug use at each antenatal visit and each time said there "
            "was none.",
            "substance_misuse",
            False,
        ),
        (
            "Ms Obi was asked about drug use at each antenatal visit and told the midwife she "
            "was using cocaine most weekends.",
            "substance_misuse",
            True,
        ),
        # a semicolon after the answer does not cast doubt on it
        (
            "The health visitor asked about alcohol use at every contact and it was denied; "
            "the review has found nothing to contradict this.",
            "substance_misuse",
            False,
        ),
        # a denial the text goes on to doubt stays
        (
            "Mr Ross was asked about his drinking and denied it, but his liver tests showed "
            "heavy alcohol use.",
            "substance_misuse",
            True,
        ),
    ],
)
def test_questions_answered_with_a_denial(
    rules: Language, text: str, theme: str, tags: bool
) -> None:
    assert (theme in rules(text)._.themes) is tags, text


@pytest.mark.parametrize(
    ("text", "theme", "tags"),
    [
        # the review's own machinery: who contributed, what is scheduled, a table caption
        (
            "Written contributions were received from the perinatal mental health team and the "
            "youth offending service.",
            "adult_mental_health",
            False,
        ),
        (
            "An audit of neglect cases across the county is scheduled for the spring.",
            "neglect",
            False,
        ),
        (
            "Table 2. Reasons for contact: neglect, 412; domestic abuse, 388; other, 97.",
            "domestic_abuse",
            False,
        ),
        # the review's own people and their credentials
        (
            "The review was led by an independent reviewer, formerly a manager in a drug and "
            "alcohol service.",
            "substance_misuse",
            False,
        ),
        (
            "The father was referred to the drug and alcohol service after a positive hair test.",
            "substance_misuse",
            True,
        ),
        # a finding label is not a list heading
        (
            "Key finding: the children were living with domestic abuse for three years before "
            "any agency knew.",
            "domestic_abuse",
            True,
        ),
    ],
)
def test_administrative_sentences(rules: Language, text: str, theme: str, tags: bool) -> None:
    assert (theme in rules(text)._.themes) is tags, text


@pytest.mark.parametrize(
    ("text", "theme", "tags"),
    [
        # an inspection or audit stating its remit names its themes in passing
        (
            "The inspection covered the response to children who go missing from home or care.",
            "missing_from_home_care",
            False,
        ),
        (
            "Inspectors looked at the help given to children living with domestic abuse in four "
            "localities.",
            "domestic_abuse",
            False,
        ),
        # unless the sentence goes on to what was found
        (
            "Inspectors looked at the help given to children living with domestic abuse and saw "
            "that many waited months.",
            "domestic_abuse",
            True,
        ),
    ],
)
def test_an_inspection_stating_its_remit(
    rules: Language, text: str, theme: str, tags: bool
) -> None:
    assert (theme in rules(text)._.themes) is tags, text


@pytest.mark.parametrize(
    ("text", "theme", "tags"),
    [
        # what would have happened under a condition that follows did not happen
        (
            "The school nurse said she would have referred him to CAMHS if he had ever "
            "mentioned feeling low.",
            "child_mental_health",
            False,
        ),
        (
            "The school nurse referred him to CAMHS when he told her he had been feeling low "
            "for months.",
            "child_mental_health",
            True,
        ),
    ],
)
def test_what_would_have_happened_under_a_later_condition(
    rules: Language, text: str, theme: str, tags: bool
) -> None:
    assert (theme in rules(text)._.themes) is tags, text


@pytest.mark.parametrize(
    ("text", "theme", "tags"),
    [
        # denials that hold for practice themes too: nothing was needed, nothing was in doubt
        (
            "Escalation was never needed: the school's worry was acted on the same morning.",
            "escalation_challenge",
            False,
        ),
        (
            "There was never any doubt about Mr Ali's capacity to decide where he lived.",
            "mental_capacity",
            False,
        ),
        # a practice gap stays
        (
            "The school disagreed with the decision to close the case but never escalated it.",
            "escalation_challenge",
            True,
        ),
    ],
)
def test_denials_that_hold_for_practice_themes(
    rules: Language, text: str, theme: str, tags: bool
) -> None:
    assert (theme in rules(text)._.themes) is tags, text
