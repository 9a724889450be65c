"""The CLIPS peer: the same policy encoded by hand in CLIPS, run through clipspy.

An independent encoding of the rules of 西行规发〔2020〕1号 in the knowledge base
(``kb/documents/digital_economy_measures/rules/*.yaml``) — the facts, the
thresholds, the amounts and Article 14's 就高且不重复 — without the explanations, the
three-valued status or the missing facts that policykb also computes. It is the anchor the README's
"Speed" section compares ``policykb batch`` with, and it must agree with policykb on which
benefits each profile is granted (:mod:`vs_clips` checks that on every profile it times).

Usage::

    pip install 'policykb[bench]'        # clipspy
    python benchmarks/clips_peer.py [--count 20000] [--seed 2021]

Encoding choices, so that the comparison is fair to CLIPS:

- one ``enterprise`` fact per profile; an unknown fact is the symbol ``unknown`` (a list fact
  an empty multislot: every rule only asks whether a list *includes* a value, which an unknown
  list never does, so the granted benefits are the same);
- money is integer yuan, dates are ``yyyymmdd`` integers, areas are numbers; shares are integer
  arithmetic (``div``), so no float touches an amount except ``1500元 × area``, floored;
- each rule of the knowledge base is one ``defrule`` (an ``any`` is one defrule per branch, or
  an ``or``); 13(1)–13(3) benefits need the enterprise in Xicheng, the listing grant a listing
  date within the measures' term;
- the support-target rules presume the 2021 implementation rules' recognition conditions
  (from 2021-12-01) unless one is known to fail, as the knowledge base does; the other
  documents' own benefits are not encoded and are left out of the comparison.
- the environment is ``reset`` for each profile and built afresh every 1,000 profiles
  (:attr:`ClipsPeer.RENEW`: a long-used one slows down).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from fractions import Fraction
from pathlib import Path

import clips

HERE = Path(__file__).resolve().parent

BOOL_FACTS = (
    "registered_in_xicheng fits_core_area_function lawful_operation digital_economy_business "
    "digital_economy_recognized leading_demonstration_role key_enterprise_recognized "
    "outstanding_contribution_last_year cultivated_new_key_enterprise overseas_market_recognized "
    "foreign_joint_lab international_cooperation_project project_approved building_operator "
    "renovation_for_digital_economy industrial_base_recognized qualified_talent builds_innovation_platform "
    "undertakes_government_project consumption_scenario_application digital_platform_construction "
    "sme_digital_solutions organizes_industry_event pays_tax_in_xicheng independent_legal_entity "
    "digital_technology_business strong_innovation_capacity influential_research_lead good_development_prospects "
    "large_regional_contribution sound_management no_serious_violations_3y no_accidents_3y "
    "innovation_support_recognized").split()
ENUM_FACTS = ("industry establishment office_tenure listing rnd_institution_level key_lab_level "
              "matching_fund_project_level project_type project_field statistical_category").split()
NUMBER_FACTS = ("paid_in_capital cultivation_investment renovation_investment renovated_area_m2 "
                "introduced_contribution_increment").split()
LIST_FACTS = ("standards_led", "tech_domains", "enterprise_category")
#: The benefits of the document encoded here (the comparison with policykb is on these).
BENEFIT_IDS = ("settlement_subsidy", "cultivation_subsidy", "office_purchase_subsidy", "rent_subsidy",
               "key_enterprise_reward", "listing_grant", "innovation_support", "project_support",
               "building_renovation_support", "building_operator_reward", "industrial_base_support",
               "talent_services")

TEMPLATES = f"""
(deftemplate enterprise
  (slot application_date (default unknown))
  (slot listing_date (default unknown))
  {" ".join(f"(slot {name} (default unknown))" for name in BOOL_FACTS + ENUM_FACTS + NUMBER_FACTS)}
  {" ".join(f"(multislot {name})" for name in LIST_FACTS)})
(deftemplate offer (slot benefit) (slot amount))
(deftemplate holds (slot id))
(deftemplate denied (slot id))
(deftemplate benefit (slot id) (slot min (default nil)) (slot max (default nil)))
(deftemplate superseded (slot id))
"""

# Article 14 (validity), Articles 1-2 and 13(1) (who is a support target, a key enterprise).
DEFINITIONS = """
(defrule policy_in_force.validity_window
  (enterprise (application_date ?d&:(integerp ?d)&:(>= ?d 20210301)&:(<= ?d 20240229)))
  => (assert (holds (id policy_in_force))))
(defrule digital_economy_entity.definition
  (enterprise (digital_economy_business yes))
  => (assert (holds (id digital_economy_entity))))
(defrule support_target.ict
  (holds (id digital_economy_entity))
  (enterprise (fits_core_area_function yes) (lawful_operation yes) (digital_economy_recognized yes) (industry ict)
              (application_date ?d))
  (or (test (and (integerp ?d) (< ?d 20211201)))
      (not (denied (id meets_recognition_conditions))))
  => (assert (holds (id support_target))))
(defrule support_target.leading_role
  (holds (id digital_economy_entity))
  (enterprise (fits_core_area_function yes) (lawful_operation yes) (digital_economy_recognized yes)
              (industry finance|culture|business_services) (leading_demonstration_role yes) (application_date ?d))
  (or (test (and (integerp ?d) (< ?d 20211201)))
      (not (denied (id meets_recognition_conditions))))
  => (assert (holds (id support_target))))
(defrule key_digital_economy_enterprise.recognized
  (holds (id support_target))
  (enterprise (key_enterprise_recognized yes))
  => (assert (holds (id key_digital_economy_enterprise))))
"""

# The 2021 implementation rules' recognition conditions (第二条), which the support-target rules
# presume unless one is known to fail: each denial is a known false condition. They fire first
# (salience), so the presumption is settled before the support-target rules are matched.
RECOGNITION = """
(defrule recognition_registered_entity.denied (declare (salience 10))
  (or (enterprise (registered_in_xicheng no)) (enterprise (pays_tax_in_xicheng no))
      (enterprise (independent_legal_entity no)))
  => (assert (denied (id meets_recognition_conditions))))
(defrule recognition_statistical_category.denied (declare (salience 10))
  (enterprise (statistical_category ?c&~unknown&~digital_product_manufacturing&~digital_product_services
                                       &~digital_technology_application&~digital_factor_driven
                                       &~digital_efficiency_improvement))
  => (assert (denied (id meets_recognition_conditions))))
(defrule recognition_capability.denied (declare (salience 10))
  (or (enterprise (digital_technology_business no)) (enterprise (strong_innovation_capacity no))
      (enterprise (influential_research_lead no)) (enterprise (good_development_prospects no))
      (enterprise (large_regional_contribution no)) (enterprise (sound_management no)))
  => (assert (denied (id meets_recognition_conditions))))
(defrule recognition_clean_record.denied (declare (salience 10))
  (or (enterprise (no_serious_violations_3y no)) (enterprise (no_accidents_3y no)))
  => (assert (denied (id meets_recognition_conditions))))
(defrule new_or_relocated_key_enterprise.establishment
  (holds (id key_digital_economy_enterprise))
  (enterprise (establishment new|relocated))
  => (assert (holds (id new_or_relocated_key_enterprise))))
"""

# Articles 3-12: the supported directions (findings, no money).
DIRECTIONS = """
(defrule supported_key_task.innovation_platform
  (holds (id support_target))
  (enterprise (builds_innovation_platform yes) (tech_domains $? 5g|big_data|ai|blockchain $?))
  => (assert (holds (id supported_key_task))))
(defrule supported_key_task.government_project
  (holds (id support_target)) (enterprise (undertakes_government_project yes))
  => (assert (holds (id supported_key_task))))
(defrule supported_innovative_enterprise.category
  (holds (id support_target))
  (enterprise (enterprise_category $? head_spinoff|industry_leader|unicorn|hidden_champion|platform|high_tech|little_giant $?))
  => (assert (holds (id supported_innovative_enterprise))))
(defrule supported_new_generation_it.key_fields
  (holds (id support_target)) (enterprise (tech_domains $? 5g|network_security|big_data|blockchain $?))
  => (assert (holds (id supported_new_generation_it))))
(defrule supported_fintech.fintech_domain
  (holds (id support_target)) (enterprise (tech_domains $? fintech $?))
  => (assert (holds (id supported_fintech))))
(defrule supported_ecommerce.ecommerce_domain
  (holds (id support_target)) (enterprise (tech_domains $? ecommerce $?))
  => (assert (holds (id supported_ecommerce))))
(defrule supported_consumption_scenario.application
  (holds (id support_target)) (enterprise (consumption_scenario_application yes))
  => (assert (holds (id supported_consumption_scenario))))
(defrule supported_consumption_scenario.project_field
  (holds (id support_target)) (enterprise (project_field digital_consumption))
  => (assert (holds (id supported_consumption_scenario))))
(defrule supported_digital_culture.domain
  (holds (id support_target)) (enterprise (tech_domains $? digital_culture $?))
  => (assert (holds (id supported_digital_culture))))
(defrule supported_digital_culture.project_field
  (holds (id support_target)) (enterprise (project_field digital_culture))
  => (assert (holds (id supported_digital_culture))))
(defrule supported_scenario_application.smart_fields
  (holds (id support_target))
  (enterprise (project_field smart_city|smart_government|smart_education|smart_healthcare))
  => (assert (holds (id supported_scenario_application))))
(defrule supported_digital_transformation.platform_building
  (holds (id support_target)) (enterprise (digital_platform_construction yes))
  => (assert (holds (id supported_digital_transformation))))
(defrule supported_digital_transformation.sme_solutions
  (holds (id support_target))
  (enterprise (enterprise_category $? platform|industry_leader $?) (sme_digital_solutions yes))
  => (assert (holds (id supported_digital_transformation))))
(defrule supported_international_cooperation.joint_lab
  (holds (id support_target)) (enterprise (foreign_joint_lab yes))
  => (assert (holds (id supported_international_cooperation))))
(defrule supported_international_cooperation.exchange_project
  (holds (id support_target)) (enterprise (international_cooperation_project yes))
  => (assert (holds (id supported_international_cooperation))))
(defrule supported_international_cooperation.industry_event
  (holds (id support_target)) (enterprise (organizes_industry_event yes))
  => (assert (holds (id supported_international_cooperation))))
"""

# Article 13: the benefits and their amounts (integer yuan).
BENEFITS = """
(defrule settlement_subsidy.capital_threshold
  (holds (id policy_in_force)) (enterprise (registered_in_xicheng yes)) (holds (id new_or_relocated_key_enterprise))
  (enterprise (paid_in_capital ?c&:(numberp ?c)&:(>= ?c 100000000)))
  => (assert (benefit (id settlement_subsidy) (min 5000000) (max 20000000))))
(defrule cultivation_subsidy.resident_investor
  (holds (id policy_in_force))
  (enterprise (registered_in_xicheng yes) (cultivated_new_key_enterprise yes)
              (cultivation_investment ?i&:(numberp ?i)&:(> ?i 0)))
  => (bind ?a (min (div ?i 10) 10000000))
     (assert (benefit (id cultivation_subsidy) (min ?a) (max ?a))))
(defrule office_purchase_subsidy.bought_office
  (holds (id policy_in_force)) (enterprise (registered_in_xicheng yes)) (holds (id new_or_relocated_key_enterprise)) (enterprise (office_tenure purchased))
  => (assert (benefit (id office_purchase_subsidy))))
(defrule rent_subsidy.rented_office
  (holds (id policy_in_force)) (enterprise (registered_in_xicheng yes)) (holds (id new_or_relocated_key_enterprise)) (enterprise (office_tenure rented))
  => (assert (benefit (id rent_subsidy))))
(defrule key_enterprise_reward.outstanding_contribution
  (holds (id policy_in_force)) (enterprise (registered_in_xicheng yes)) (holds (id support_target)) (enterprise (outstanding_contribution_last_year yes))
  => (assert (benefit (id key_enterprise_reward))))
(defrule listing_grant.domestic
  (holds (id policy_in_force)) (enterprise (registered_in_xicheng yes)) (holds (id support_target))
  (enterprise (listing main_board|sme_board|chinext|star_market|neeq)
              (listing_date ?l&:(integerp ?l)&:(>= ?l 20210301)&:(<= ?l 20240229)))
  => (assert (benefit (id listing_grant) (min 1500000) (max 6000000))))
(defrule listing_grant.recognized_overseas
  (holds (id policy_in_force)) (enterprise (registered_in_xicheng yes)) (holds (id support_target))
  (enterprise (listing overseas) (overseas_market_recognized yes)
              (listing_date ?l&:(integerp ?l)&:(>= ?l 20210301)&:(<= ?l 20240229)))
  => (assert (benefit (id listing_grant) (min 1500000) (max 6000000))))
(defrule innovation_support.grounds
  (holds (id policy_in_force)) (enterprise (registered_in_xicheng yes)) (holds (id support_target))
  (or (enterprise (rnd_institution_level municipal|national))
      (enterprise (standards_led $? industry|national|international $?))
      (enterprise (key_lab_level municipal|national))
      (enterprise (foreign_joint_lab yes))
      (enterprise (international_cooperation_project yes))
      (enterprise (matching_fund_project_level municipal|national)))
  (enterprise (innovation_support_recognized yes))
  => (assert (benefit (id innovation_support))))
(defrule project_support.rnd_commercialization
  (holds (id policy_in_force)) (enterprise (registered_in_xicheng yes)) (holds (id support_target))
  (enterprise (project_approved yes) (project_type rnd_commercialization)
              (project_field new_generation_it|digital_culture|ecommerce|digital_consumption))
  => (assert (benefit (id project_support))))
(defrule project_support.scenario_demonstration
  (holds (id policy_in_force)) (enterprise (registered_in_xicheng yes)) (holds (id support_target))
  (enterprise (project_approved yes) (project_type scenario_demonstration)
              (project_field smart_city|smart_government|smart_education|smart_healthcare))
  => (assert (benefit (id project_support))))
(defrule building_renovation_support.renovation
  (holds (id policy_in_force))
  (enterprise (building_operator yes) (renovation_for_digital_economy yes)
              (renovation_investment ?i&:(numberp ?i)&:(> ?i 0)) (renovated_area_m2 ?m&:(numberp ?m)&:(> ?m 0)))
  => (assert (benefit (id building_renovation_support)
                      (max (min (div (* ?i 3) 10) (integer (* 1500 ?m)) 6000000)))))
(defrule building_operator_reward.contribution_increment
  (holds (id policy_in_force))
  (enterprise (building_operator yes) (introduced_contribution_increment ?i&:(numberp ?i)&:(> ?i 0)))
  => (assert (benefit (id building_operator_reward) (max (min (div ?i 10) 3000000)))))
(defrule industrial_base_support.recognized_base
  (holds (id policy_in_force)) (enterprise (industrial_base_recognized yes))
  => (assert (benefit (id industrial_base_support))))
(defrule talent_services.qualified_talent
  (holds (id policy_in_force)) (enterprise (qualified_talent yes))
  => (assert (benefit (id talent_services))))
(deffunction results ()
  "The granted, not superseded benefits as id max pairs, then the word holds, then the conclusions."
  (bind ?out (create$))
  (do-for-all-facts ((?b benefit)) (not (any-factp ((?s superseded)) (eq ?s:id ?b:id)))
    (bind ?out (create$ ?out ?b:id ?b:max)))
  (bind ?out (create$ ?out holds))
  (do-for-all-facts ((?h holds)) TRUE (bind ?out (create$ ?out ?h:id)))
  ?out)
(defrule highest_not_cumulative
  (benefit (id ?b) (max ?m&:(integerp ?m)))
  (offer (benefit ?b) (amount ?a&:(> ?a ?m)))
  => (assert (superseded (id ?b))))
"""


class ClipsPeer:
    """A CLIPS environment holding the policy; :meth:`evaluate` screens one profile."""

    #: Evaluations before the environment is built afresh: one CLIPS environment driven through
    #: clipspy slows down steadily with use (from about 5,700 to under 1,000 profiles/s over
    #: 10,000 profiles, measured; gc and (release-mem) do not help), while building one takes
    #: about 16 ms. Renewing it every 1,000 keeps the rate flat, at a cost of ~16 µs a profile
    #: that is counted in the timing.
    RENEW = 1000

    def __init__(self):
        self.symbols = {}
        self._build()

    def _build(self) -> None:
        self.env = clips.Environment()
        for construct in (TEMPLATES, DEFINITIONS, RECOGNITION, DIRECTIONS, BENEFITS):
            for text in _constructs(construct):
                self.env.build(text)
        self.enterprise = self.env.find_template("enterprise")
        self.offer = self.env.find_template("offer")
        self.results = self.env.find_function("results")
        self.used = 0

    def evaluate(self, profile: dict) -> tuple[list[str], dict[str, int | None]]:
        """The conclusions and the granted (not superseded) benefits with their ceilings."""
        if self.used >= self.RENEW:
            self._build()
        self.used += 1
        env = self.env
        env.reset()
        self.enterprise.assert_fact(**self._slots(profile))
        for record in profile.get("other_district_support") or ():
            self.offer.assert_fact(benefit=self._symbol(record["benefit"]), amount=int(record["amount"]))
        env.run()
        # One call returns everything: iterating facts from Python through clipspy is slower.
        out = self.results()
        cut = out.index("holds")
        granted = {str(out[i]): out[i + 1] if isinstance(out[i + 1], int) else None for i in range(0, cut, 2)}
        return [str(c) for c in out[cut + 1:]], granted

    def _symbol(self, text: str):
        found = self.symbols.get(text)
        if found is None:
            found = self.symbols[text] = clips.Symbol(text)
        return found

    def _slots(self, profile: dict) -> dict:
        slots = {}
        for name, value in profile.items():
            if value is None:
                continue
            if name in BOOL_FACTS:
                slots[name] = self._symbol("yes" if value else "no")
            elif name in ENUM_FACTS:
                slots[name] = self._symbol(value)
            elif name in NUMBER_FACTS:
                slots[name] = _number(value)
            elif name in LIST_FACTS:
                slots[name] = [self._symbol(v) for v in value]
            elif name in ("application_date", "listing_date"):
                slots[name] = value.year * 10000 + value.month * 100 + value.day \
                    if isinstance(value, dt.date) else int(str(value).replace("-", ""))
        return slots


def _number(value):
    """An int stays an int; a decimal (``"1234.5"``) becomes the nearest CLIPS number."""
    if isinstance(value, int):
        return value
    exact = Fraction(str(value))
    return int(exact) if exact.denominator == 1 else float(exact)


def _constructs(text: str) -> list[str]:
    """Split a block of CLIPS source into its top-level constructs (build takes one at a time)."""
    out, depth, start = [], 0, None
    for index, char in enumerate(text):
        if char == "(":
            if depth == 0:
                start = index
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                out.append(text[start:index + 1])
    return out


def run(profiles: list[dict]) -> tuple[float, list]:
    """Screen ``profiles`` with one CLIPS environment; seconds taken and the results."""
    peer = ClipsPeer()
    peer.evaluate(profiles[0])   # warm up
    started = time.perf_counter()
    results = [peer.evaluate(p) for p in profiles]
    return time.perf_counter() - started, results


def main() -> int:
    sys.path.insert(0, str(HERE.parent))
    sys.path.insert(0, str(HERE))
    import engine
    from profiles import generate
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args()
    kb = engine.load()
    profiles = [generate(kb, i, args.seed) for i in range(args.count)]
    seconds, results = run(profiles)
    granted = sum(len(r[1]) for r in results)
    print(f"CLIPS peer: {args.count:,} profiles in {seconds:.2f} s, {args.count / seconds:,.0f}/s, "
          f"{granted:,} benefits granted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
