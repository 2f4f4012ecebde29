"""Review-style sentences, written for these tests, that the default taxonomy must get right.

Each is a wording real reviews use for a theme, or a negated or passing mention that must
not count. A change to the taxonomy or the cues that breaks one should be a deliberate one.
"""

from __future__ import annotations

import pytest
from spacy.language import Language

from nlp.pipeline import build_pipeline, new_pipeline


@pytest.fixture(scope="module")
def nlp() -> Language:
    """The rules alone: these wordings test the taxonomy and the negation scope."""
    return new_pipeline(theme_model="")


@pytest.fixture(scope="module")
def full() -> Language:
    """The default pipeline, with the trained model when one is shipped."""
    return build_pipeline()


TAGGED = [
    (
        "neglect",
        "Staff at the nursery noticed that Kai often arrived hungry and in soiled nappies.",
    ),
    (
        "domestic_abuse",
        "She arrived at A&E with a broken wrist and said her husband had twisted her arm.",
    ),
    (
        "coercive_control",
        "He monitored her spending, chose her clothes and would not let her work.",
    ),
    (
        "economic_abuse",
        "Her son had taken control of her pension and she had no money for heating.",
    ),
    (
        "adult_mental_health",
        "The father had been diagnosed with schizophrenia and had stopped his medication.",
    ),
    ("substance_misuse", "Empty cans and bottles were seen at every home visit."),
    (
        "child_sexual_abuse",
        "The girl disclosed that her grandfather had been sexually abusing her.",
    ),
    (
        "child_sexual_exploitation",
        "She was picked up from the children's home by adult men in cars.",
    ),
    (
        "child_criminal_exploitation",
        "He owed money to a dealer and was made to carry drugs to pay it back.",
    ),
    (
        "online_harm",
        "He was blackmailed after sending intimate pictures to someone he met on Instagram.",
    ),
    (
        "missing_from_home_care",
        "The police were called each time she failed to return to her placement.",
    ),
    ("children_missing_education", "He was removed from the school roll to be educated at home."),
    ("nai_infants", "The three-month-old had unexplained fractures of the ribs and arm."),
    ("sudi_safe_sleep", "The parents had been drinking and the baby was sleeping in their bed."),
    ("child_mental_health", "Amira had been waiting eight months for an appointment with CAMHS."),
    ("self_harm_suicide", "Jake took an overdose of paracetamol two weeks before his death."),
    ("send_disability", "Mia has Down's syndrome and communicates using signs."),
    (
        "fathers_invisible_men",
        "Little was known about the mother's partner, who was often at the house.",
    ),
    (
        "older_people_carers",
        "Mr Price, who had dementia, was cared for by his daughter with no outside help.",
    ),
    ("self_neglect", "His flat had no working toilet and he had not seen a doctor in years."),
    (
        "transitions_to_adulthood",
        "At 18, Jordan's case was closed by children's services with no referral to adult "
        "services.",
    ),
    ("voice_of_child", "Practitioners spoke to the parents but never to Lily."),
    (
        "professional_curiosity",
        "The injuries were put down to rough play without anyone checking the story.",
    ),
    ("information_sharing", "The police did not let the school know about the arrest."),
    (
        "multi_agency_working",
        "Health, police and social care each held a different piece of the picture.",
    ),
    ("escalation_challenge", "The nurse felt she could not disagree with the consultant."),
    ("risk_assessment", "The risk posed by the father was judged to be low despite his history."),
    (
        "think_family",
        "The adult services working with the mother did not consider the children at home.",
    ),
    ("thresholds", "The school's concerns were judged to be below the threshold for social care."),
    (
        "child_protection_process",
        "An initial child protection conference was held within fifteen days.",
    ),
    ("early_help", "The family was offered parenting support through the children's centre."),
    (
        "supervision_workload",
        "Her supervision sessions were repeatedly cancelled because of pressures on the team.",
    ),
    (
        "disguised_compliance",
        "The parents cancelled appointments and were never at home for planned visits.",
    ),
    (
        "race_ethnicity_culture",
        "Assumptions about the family's culture stopped practitioners from asking questions.",
    ),
    (
        "neglect",
        "The children's basic care was poor: they were often unwashed, hungry and late for school.",
    ),
    (
        "neglect",
        "Dental problems, head lice and an untreated skin condition were all noted by the school.",
    ),
    (
        "domestic_abuse",
        "Police were called to the flat eleven times for arguments between the couple.",
    ),
    (
        "domestic_abuse",
        "She had fled to a refuge with the children after he threatened her with a knife.",
    ),
    (
        "coercive_control",
        "She was not allowed to leave the house without telling him where she was going.",
    ),
    (
        "economic_abuse",
        "He took out credit cards in her name and left her with thousands of pounds of debt.",
    ),
    (
        "adult_mental_health",
        "The mother had a history of severe anxiety and had been under the crisis team.",
    ),
    ("substance_misuse", "The father admitted using cannabis every day."),
    (
        "toxic_trio",
        "Domestic abuse, mental ill-health and drug use were all present in the household.",
    ),
    ("child_sexual_abuse", "The uncle was later convicted of sexual offences against both girls."),
    (
        "child_sexual_exploitation",
        "Older men were giving her drugs and alcohol and taking her to parties.",
    ),
    (
        "child_criminal_exploitation",
        "Police found him in a flat in another county, where he was being used to sell heroin.",
    ),
    ("online_harm", "She was sent explicit messages by an adult she met on Snapchat."),
    (
        "missing_from_home_care",
        "He went missing from his foster placement six times in two months.",
    ),
    (
        "nai_infants",
        "The baby had a head injury that the doctors said could not have been caused by a fall.",
    ),
    ("bruising_non_mobile", "The eight-week-old baby had a bruise on his chest."),
    (
        "sudi_safe_sleep",
        "The baby was found unresponsive in the morning after sleeping in her parents' bed.",
    ),
    (
        "child_mental_health",
        "The teenager had been waiting months for CAMHS while her anxiety got worse.",
    ),
    ("self_harm_suicide", "He had told his friend that he wanted to kill himself."),
    ("send_disability", "The boy had a learning disability and little speech."),
    (
        "race_ethnicity_culture",
        "The family were asylum seekers and had no recourse to public funds.",
    ),
    ("fathers_invisible_men", "The father was not invited to any of the meetings about his son."),
    ("older_people_carers", "Her husband, her only carer, was himself 85 and in poor health."),
    (
        "adult_family_homicide",
        "Mrs Lee was killed by her adult son, who had been violent towards her for years.",
    ),
    ("self_neglect", "Ms Wood lived in squalor and declined every offer of help."),
    (
        "transitions_to_adulthood",
        "Support from the leaving care service ended abruptly when he turned 21.",
    ),
    ("voice_of_child", "No one asked Ben what it was like at home."),
    ("professional_curiosity", "The explanation for the injury was accepted without question."),
    ("information_sharing", "The GP was unaware that the children were on child protection plans."),
    (
        "multi_agency_working",
        "There was no multi-agency meeting to bring the different concerns together.",
    ),
    (
        "escalation_challenge",
        "The school did not use the escalation policy when it disagreed with the decision.",
    ),
    ("risk_assessment", "The DASH was completed but the answers were not used to assess the risk."),
    ("think_family", "The impact of the mother's illness on the children was not considered."),
    ("thresholds", "Six referrals were made but each was closed without assessment."),
    (
        "domestic_abuse",
        "Kerry had told a friend that Lee had hit her several times and she was scared of him.",
    ),
    ("domestic_abuse", "The MARAC heard the case twice in the year before her death."),
    ("coercive_control", "Friends described how he cut her off from everyone she knew."),
    (
        "economic_abuse",
        "He controlled all the household money and she had to ask him for bus fare.",
    ),
    ("adult_mental_health", "He had been sectioned under the Mental Health Act in 2019."),
    ("substance_misuse", "His drinking had increased after he lost his job."),
    ("self_harm_suicide", "She had attempted to take her own life twice before."),
    ("older_people_carers", "The couple, both in their eighties, had no support from services."),
    ("self_neglect", "Neighbours reported a strong smell and rubbish piling up in his garden."),
    ("mental_capacity", "Staff assumed he had capacity because he could answer simple questions."),
    (
        "adult_family_homicide",
        "Andrew killed his father after years of escalating conflict at home.",
    ),
    (
        "multi_agency_working",
        "Inspectors found strong partnership working between the police and children's services.",
    ),
    (
        "leadership_learning_culture",
        "Leaders know their services well and have a clear plan for improvement.",
    ),
    (
        "supervision_workload",
        "Social workers said their managers were accessible and supervision was regular.",
    ),
    (
        "thresholds",
        "Decisions at the front door are timely and the application of thresholds is consistent.",
    ),
    ("early_help", "Families receive early help quickly when needs first emerge."),
    ("child_protection_process", "Strategy meetings are not always attended by health."),
    ("voice_of_child", "Children's views are clearly recorded and influence their plans."),
    ("information_sharing", "Agencies did not share what they knew with each other."),
    ("risk_assessment", "Assessments are thorough and analyse risk well."),
    ("professional_curiosity", "Workers did not explore why the children were so often absent."),
    ("escalation_challenge", "Partners challenge each other well when they disagree."),
    ("disguised_compliance", "The father avoided every visit by saying he was at work."),
    ("fathers_invisible_men", "Fathers are not routinely included in assessments."),
    ("transitions_to_adulthood", "Care leavers are well supported by their personal advisers."),
    ("race_ethnicity_culture", "Assessments rarely consider children's identity and heritage."),
    (
        "send_disability",
        "Disabled children are not always seen alone because of their communication needs.",
    ),
    (
        "missing_from_home_care",
        "Return home interviews are not consistently offered to children who go missing.",
    ),
    (
        "child_criminal_exploitation",
        "Young people at risk from county lines are identified quickly.",
    ),
]

NOT_TAGGED = [
    # who took part, what is set aside for the reader, what later work will cover
    "The panel comprised the independent chair, a detective inspector and the head of the "
    "domestic abuse service.",
    "Panel members included the manager of the local IDVA service and the named nurse for "
    "adult mental health.",
    "A briefing on online grooming will be published in the autumn.",
    # a theme that only names someone's post or a course
    "The contextual safeguarding lead chaired the final meeting of the panel.",
    "Neglect training for school staff has been well received.",
    "The escalation policy and the threshold document are reproduced in Appendix C.",
    "MASH: Multi-Agency Safeguarding Hub, where police, health and children's social care "
    "share information about new contacts.",
    # a practice theme whose existence is denied, not found missing
    "There is nothing to suggest that any professional felt unable to challenge another's "
    "decision.",
    "Supervision was not an issue in this case.",
    # what would have followed from a condition that did not happen
    "If the children had been at home, a strategy discussion would have been held.",
    "There was no suggestion that the children were being neglected.",
    "The police had no record of domestic abuse involving either partner.",
    "She did not have any mental health problems.",
    "He had never been in trouble with the police or involved with gangs.",
    "There was no evidence of any online contact with strangers.",
    "The review found no indication of sexual abuse.",
    "At no stage did anyone raise concerns about her weight or eating.",
    "The family had no previous involvement with children's social care.",
    "He was not known to have any learning needs.",
    "The panel did not find evidence of coercive control.",
    "There were no concerns about how the baby was sleeping.",
    "The death was not linked to any self-harm.",
    "Alcohol played no part in the events.",
    "Kerry had never told anyone about any abuse.",
    "Tests showed no alcohol or drugs in her system.",
    "There is no suggestion that honour was a factor.",
    "Mr Patel had no mental health history.",
    "She was not a carer and lived alone.",
    "No financial abuse was identified.",
    "Andrew had no history of violence towards his father.",
    "The family was not known to mental health services.",
    "None of the children had ever gone missing.",
    "Inspectors did not review services for care leavers.",
    "Ellie had no history of going missing.",
    "The GP found no signs of self-harm.",
    "The mother had never used drugs, according to her family and her GP.",
    "There was no indication of any financial abuse.",
    "No safeguarding concerns were identified about his care of his mother.",
    "Her immigration status was settled and was not a barrier to services.",
    "The baby had no marks or bruises when examined.",
    "The family had not previously been known to any agency.",
    "A referral to CAMHS was not needed because her mood improved quickly.",
    "The children were not considered to be at risk of exploitation.",
    "Toxicology found no alcohol or drugs in his blood.",
    "She had good relationships with her teachers and no problems at school.",
    "The father was fully involved in the assessment and was seen at every visit.",
    "Mr Ali had full capacity and made his own choices about his care.",
    "The police found no evidence of coercive or controlling behaviour.",
    "The school reported that his attendance was excellent.",
    "The panel is satisfied that race and culture did not influence the decisions made.",
    "He had no contact with youth justice services.",
    "Nobody suggested that domestic abuse was a factor.",
    "Exploitation was explored with Leah and she denied it.",
    "The coroner found no link between the bed-sharing and the death.",
    "The post-mortem found no evidence that the baby had been shaken.",
    "His school had no record of any exclusions.",
    "It was confirmed that the marks were a birthmark and not a bruise.",
    "The mother had stopped drinking several years before the birth.",
    "Her GP had never prescribed antidepressants.",
    "Sexual exploitation was considered at the strategy meeting and ruled out.",
    "The police found nothing to suggest Dan had been groomed online.",
    "Although the term coercive control is used in the police log, the panel saw no pattern of "
    "control.",
    "The review does not consider the care proceedings, which were concluded in 2020.",
    "Before the pandemic the family had lived in Leeds.",
    "Fatima's faith was important to her but it is not relevant to the events under review.",
    "There has never been any suggestion that the father was violent.",
    "The baby's father was present at every visit and was involved in all the planning.",
    "She did not need an interpreter as she spoke fluent English.",
    "There was no history of missing episodes.",
    "Nobody had any concerns about Luke's emotional wellbeing before his death.",
    "Mrs Ward did not have dementia.",
    "He was not considered to be at risk of suicide at that time.",
]


@pytest.mark.parametrize(("theme", "text"), TAGGED)
def test_wording_is_tagged(nlp: Language, theme: str, text: str) -> None:
    assert theme in nlp(text)._.themes


@pytest.mark.parametrize("text", NOT_TAGGED)
def test_negated_or_passing_mention_is_not_tagged(nlp: Language, text: str) -> None:
    assert nlp(text)._.themes == {}


@pytest.mark.parametrize("text", NOT_TAGGED)
def test_default_pipeline_never_tags_what_rules_ruled_out(full: Language, text: str) -> None:
    doc = full(text)
    ruled_out = {h.theme for h in doc._.theme_hits if not h.counts and not h.excluded}
    assert not set(doc._.themes) & ruled_out
