"""A small taxonomy for component tests, so they do not move when the default is re-tuned."""

from __future__ import annotations

from pathlib import Path

from nlp.taxonomy import Taxonomy, load_taxonomy

SMALL_TAXONOMY = """\
version: "test-1"
groups:
  harms: Harms
  practice: Practice
agencies:
  police: [police, police officer, PCSO]
  GP: [GP, general practitioner]
  children's social care: [social worker, children's social care, CSC]
glossary:
  LA: local authority
themes:
  - id: neglect
    label: Neglect
    group: harms
    description: Needs not met.
    phrases: [neglect, home conditions]
    weak_phrases: [hungry, dirty clothes, head lice]
    exclusions: [self-neglect, self neglect]
  - id: bruising
    label: Bruising
    group: harms
    description: Marks on babies.
    phrases: [bruise]
    abbreviations:
      NAI: non-accidental injury
    token_patterns:
      - [{LEMMA: mark}, {LOWER: "on"}, {LOWER: {IN: [the, his, her]}}, {LEMMA: ear}]
  - id: domestic_abuse
    label: Domestic abuse
    group: harms
    description: Abuse by a partner or family member.
    phrases: [domestic abuse]
    abbreviations:
      DA: domestic abuse
      MARAC: multi-agency risk assessment conference
  - id: coercive_control
    label: Coercive control
    group: harms
    description: A pattern of control.
    implies: [domestic_abuse]
    phrases: [coercive control]
  - id: information_sharing
    label: Information sharing
    group: practice
    description: Sharing what is known.
    absence_is_finding: true
    phrases: [information sharing, shared information]
"""


def small_taxonomy(tmp_path: Path, text: str = SMALL_TAXONOMY) -> Taxonomy:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(text, encoding="utf-8")
    return load_taxonomy(path)
