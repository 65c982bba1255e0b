"""Stance cues: polarity, each cue group, negation, hedges, and accuracy on the eval set."""

from __future__ import annotations

from pathlib import Path

import pytest

from pledgewatch.matching.stance import Stance, pledge_polarity, suggest_stance

EVAL = Path(__file__).parent / "data" / "eval" / "dev" / "legacy"

XI = "China will not sell weapons to Russia."
ERA_LOAN = "The G7 will make about $50 billion available to Ukraine by the end of the year."
NDC = "The United States will cut its greenhouse gas emissions 50-52% below 2005 levels by 2030."
BOATS = "We will pass new laws to stop small boats."
TRUMP = "I will have that war settled in 24 hours."
TANKS = "Germany will deliver tanks to Ukraine."
NEUTRAL = "China will aim to have its carbon dioxide emissions peak before 2030."
RENEWABLES = "India will meet 50% of its energy requirements from renewable energy by 2030."
NATO = "Allies will aim to move towards spending 2% of GDP on defence within a decade."


def stance(pledge: str, title: str, *sentences: str) -> Stance:
    return suggest_stance(pledge, title, list(sentences))


@pytest.mark.parametrize(
    ("pledge", "polarity"),
    [
        (XI, "negative"),
        ("We will never raise income tax.", "negative"),
        ("The UK will no longer import Russian oil.", "negative"),
        # Stopping, ending or banning something is the act itself, a positive pledge
        # that wants less of what it names.
        (BOATS, "positive"),
        ("Leaders will halt and reverse forest loss by 2030.", "positive"),
        ("We will end the use of coal power.", "positive"),
        ("The government will ban single-use plastics.", "positive"),
        ("China won’t sell weapons to Russia.", "negative"),
        ("Germany refuses to send Taurus missiles.", "negative"),
        ("The chancellor ruled out a wealth tax.", "negative"),
        (ERA_LOAN, "positive"),
        (NDC, "positive"),
        ("We will provide Ukraine with air defence.", "positive"),
        ("Officials will meet within 24 hours of an attack.", "positive"),
        ("Germany will spend 2% of GDP on defence.", "positive"),
        ("India aims to get half its energy from renewables.", "positive"),
    ],
)
def test_pledge_polarity(pledge: str, polarity: str) -> None:
    assert pledge_polarity(pledge) == polarity


def test_by_the_end_of_the_year_is_not_a_pledge_to_end_something() -> None:
    assert pledge_polarity(ERA_LOAN) == "positive"


# --- cue groups ------------------------------------------------------------------


def test_report_of_the_ruled_out_act_suggests_broken_and_names_the_cues() -> None:
    result = stance(XI, "Chinese firms supplied drones to Russia, US says")
    assert result.label == "broken"
    assert '"supplied"' in result.reason
    assert "ruled-out" in result.reason


def test_the_same_act_for_a_positive_pledge_suggests_kept() -> None:
    pledge = "The US will deliver air defence systems to Ukraine."
    assert stance(pledge, "Pentagon delivers Patriot battery to Kyiv").label == "kept"


def test_traces_of_a_ruled_out_act_suggest_broken() -> None:
    result = stance(XI, "Chinese components found in Russian missiles downed over Kyiv")
    assert result.label == "broken"


def test_what_an_export_control_restricts_is_not_a_trace() -> None:
    result = stance(XI, "China tightens export controls on drone engines and parts")
    assert result.label == "kept"


def test_a_denial_suggests_kept_for_a_negative_pledge() -> None:
    result = stance(XI, "Beijing denies sending weapons to Moscow")
    assert result.label == "kept"
    assert "denial" in result.reason


def test_a_refusal_suggests_kept_for_a_negative_pledge_and_broken_for_a_positive_one() -> None:
    assert stance(XI, "China rejects Russian request for artillery").label == "kept"
    pledge = "Hungary will approve the EU's aid package for Ukraine."
    assert stance(pledge, "Orban refuses to back the package").label == "broken"


@pytest.mark.parametrize(
    "title",
    [
        "Germany misses NATO spending target again",
        "Ukraine loan falls short of the promised amount",
        "Loan to Kyiv delayed by dispute over sanctions",
        "Rwanda deportation plan ruled unlawful",
        "Government scraps flagship housing pledge",
    ],
)
def test_failure_cues_suggest_broken(title: str) -> None:
    assert stance(NATO, title).label == "broken"


def test_a_stop_is_broken_for_a_positive_pledge_and_kept_for_a_negative_one() -> None:
    pledge = "The US will provide long-term military assistance to Ukraine."
    assert stance(pledge, "Trump pauses all military aid to Kyiv").label == "broken"
    assert stance(XI, "China halts drone exports to Russia").label == "kept"


def test_the_object_of_a_stop_does_not_count_as_a_delivery() -> None:
    pledge = "Israel will allow humanitarian aid into Gaza."
    assert stance(pledge, "Israel halts aid deliveries into Gaza").label == "broken"


@pytest.mark.parametrize(
    "title",
    [
        "EU disburses first tranche of Ukraine loan",
        "US pays $20bn into World Bank fund for Ukraine",
        "G7 finance ministers finalise Ukraine loan",
    ],
)
def test_progress_cues_suggest_kept(title: str) -> None:
    assert stance(ERA_LOAN, title).label == "kept"


def test_progress_with_something_unwanted_suggests_broken() -> None:
    pledge = "China will peak its emissions before 2030 and reach carbon neutrality by 2060."
    assert stance(pledge, "Provinces approved 106 GW of coal plants last year").label == "broken"


def test_approving_a_plan_is_a_promise_not_the_promised_act() -> None:
    pledge = "The US will provide Ukraine with long-term security assistance."
    assert stance(pledge, "Pentagon approves a plan for air defence deliveries").label == "neutral"
    assert stance(pledge, "Pentagon approves air defence deliveries").label == "kept"


@pytest.mark.parametrize(
    "title",
    ["Only five of 28 allies meet the 2% guideline", "Spain spends well below the 2% target"],
)
def test_shortfalls_suggest_broken(title: str) -> None:
    assert stance(NATO, title).label == "broken"


def test_a_trend_votes_by_what_moves() -> None:
    assert stance(NDC, "US emissions fell 2% last year").label == "kept"
    assert stance(NDC, "US emissions rose 3% last year").label == "broken"
    aid = "We will spend 0.7% of gross national income on aid."
    assert stance(aid, "UK aid spending fell to 0.5% of national income").label == "broken"
    assert stance(BOATS, "Record number of migrants cross the Channel").label == "broken"


def test_a_trend_of_the_pledges_own_words_moves_with_the_pledge() -> None:
    pledge = "We will recruit 6,500 new teachers."
    assert stance(pledge, "Teacher numbers rise by 2,000").label == "kept"


def test_too_little_of_a_wanted_trend_is_news_against_it() -> None:
    assert stance(NDC, "US emissions barely fell last year").label == "broken"


def test_a_trend_of_something_beside_the_point_says_nothing() -> None:
    aid = "We will spend 0.7% of gross national income on aid."
    assert stance(aid, "Economy shrank in the third quarter").label == "neutral"


# --- negation, hedges, restatement --------------------------------------------------


@pytest.mark.parametrize(
    ("pledge", "title", "label"),
    [
        (ERA_LOAN, "EU has not disbursed any of the Ukraine loan", "broken"),
        (NATO, "Canada has not met the 2% guideline", "broken"),
        (XI, "Chinese firm no longer supplies drone parts to Russia", "kept"),
        (XI, "China has never sold weapons to Russia, spokesman says", "kept"),
        ("The US will provide military aid to Ukraine.", "Washington lifts pause on aid", "kept"),
    ],
)
def test_a_negation_turns_the_cue_round(pledge: str, title: str, label: str) -> None:
    assert stance(pledge, title).label == label


def test_the_reason_shows_the_negation() -> None:
    assert '"not met' in stance(NATO, "Canada has not met the 2% guideline").reason


@pytest.mark.parametrize(
    "title",
    [
        "China may supply drones to Russia, officials warn",
        "Beijing reportedly considering shipping artillery to Moscow",
        "China plans to sell fighter jets to Russia",
        "Zelensky accuses China of supplying gunpowder to Russia",
    ],
)
def test_hedged_claims_are_neutral(title: str) -> None:
    result = stance(XI, title)
    assert result.label == "neutral"
    assert "hedged" in result.reason


def test_a_restatement_is_neutral() -> None:
    result = stance(
        NATO,
        "NATO ministers reaffirm 2% spending pledge",
        "Defence ministers reaffirmed the guideline agreed in Wales and reiterated that "
        "allies would meet it.",
    )
    assert result.label == "neutral"


def test_no_cue_is_neutral_with_a_reason() -> None:
    result = stance(XI, "Xi and Putin hold talks in Beijing")
    assert result == Stance("neutral", "no cue of progress or failure")


def test_mixed_cues_are_neutral_and_name_both_sides() -> None:
    result = stance(NDC, "US emissions fell 2% but coal use rose 5%")
    assert result.label == "neutral"
    assert result.reason.startswith("mixed cues")


def test_a_shortfall_qualifies_a_wanted_trend_in_its_sentence() -> None:
    assert stance(NDC, "Emissions fell in 2024, but the 2030 goal was missed").label == "broken"
    assert stance(NDC, "On course for a 40% cut, short of the goal").label == "broken"


def test_the_title_outweighs_one_summary_sentence() -> None:
    result = stance(NDC, "US emissions fell 2% in 2023", "Coal use rose in the autumn.")
    assert result.label == "kept"


def test_the_title_among_the_sentences_is_counted_once() -> None:
    title = "US emissions fell 2% in 2023"
    against = "Emissions from coal rose in the autumn."
    assert stance(NDC, title, title, against, against) == stance(NDC, title, against, against)


AID = "We will maintain our commitment to spend 0.7% of gross national income on aid."
MEET = "Senior officials will meet within 24 hours of an attack to consult on next steps."
COAL_MINES = "We will not approve new coal mines."
END_FORESTS = "We will end deforestation by 2030."
HOMES = "We will build 300,000 homes a year."


@pytest.mark.parametrize(
    ("pledge", "title", "label"),
    [
        # A trace after a restriction in another clause is still a trace.
        (
            XI,
            "China halted drone exports last year, but Russian drones found in Ukraine "
            "contained Chinese components",
            "broken",
        ),
        # A ban and a trace in one headline: mixed, not kept.
        (
            XI,
            "Beijing banned exports; investigators found Chinese engines in Russian missiles",
            "neutral",
        ),
        # Controls on something other than exports are no restriction of the act.
        (HOMES, "Government imposes rent controls on landlords", "neutral"),
        (HOMES, "Police regained control on the streets", "neutral"),
        # A negation before an aside still governs the verb after it.
        (TANKS, "Germany has not, so far, delivered the tanks", "broken"),
        # Speaking with someone is a meeting only for a pledge to meet.
        (TANKS, "Scholz spoke with reporters in Berlin", "neutral"),
        # Unveiling plans is a plan, not the act.
        (AID, "Government unveiled plans to cut aid", "neutral"),
        # A negation inside "talks ... held" is not a meeting held.
        (MEET, "Talks have not yet been held", "neutral"),
        # Only "goal" and "target" make a trend word a name: these are trends.
        ("We will close coal plants.", "Government cut plans for new coal plants", "kept"),
        # Measures against a bad thing are no growth of it.
        (BOATS, "Home Office launches crackdown on migrant smuggling gangs", "kept"),
        (END_FORESTS, "Brazil approves law to end deforestation in the Amazon", "kept"),
        (BOATS, "Channel crossings reach 13,400 in six months", "broken"),
        # A court blocking something is a stop of it, whoever blocks it.
        (COAL_MINES, "Court blocks Cumbria coal mine", "kept"),
        (XI, "Court blocks Chinese drone exports to Russia", "kept"),
        # Lagging and far off count only against a goal.
        (NATO, "Allies lag behind the 2% target", "broken"),
        # A figure hit counts when it is the pledge's own.
        (HOMES, "Mortgage rates hit 6%", "neutral"),
        # What the actor says it will do is a forecast, not a finding.
        (NATO, "Germany tells allies it will hit 2% for the first time", "neutral"),
        # Allowing the act a pledge rules out breaks it; being cleared is no step.
        (XI, "China green-lit arms sales to Russia", "broken"),
        (HOMES, "Minister cleared of breaking lobbying rules", "neutral"),
        (BOATS, "Government rushes through Rwanda bill", "neutral"),
        # Freezing counts only for aid, arms or money.
        (ERA_LOAN, "First tranche of G7 loan paid as EU freezes Russian assets", "kept"),
        (TANKS, "Germany's economy froze in the fourth quarter", "neutral"),
        # A stop governs what comes after it, or the subject of its passive.
        (TANKS, "All shipments of tanks, including those in transit, have been paused", "broken"),
        # Denials stay hedged, except a dismissal of the claim itself.
        (XI, "China may deny the report", "neutral"),
        (TANKS, "Kyiv alleges Germany has never delivered the promised tanks", "neutral"),
        # Refusals: of the promised act, broken; of the ruled-out one, kept, or a restatement.
        (
            "We will eliminate child poverty.",
            "Government will not eliminate child poverty",
            "broken",
        ),
        (XI, "China refused to sell weapons to Russia", "kept"),
        (XI, "China will not sell weapons to Russia, minister says", "neutral"),
        # Ordinals are no shortfall; "the return to" is no step.
        (HOMES, "Germany only 3rd largest donor of tanks", "neutral"),
        (TANKS, "Trump's return to the White House worries Kyiv", "neutral"),
        # Signing an order is the vehicle; what it orders decides.
        (NDC, "Trump signs order to quit Paris climate pact", "broken"),
        # The verb decides "own verb", not the words after it.
        (
            "The United States will provide Ukraine with military assistance.",
            "White House freezes military aid to Ukraine",
            "broken",
        ),
    ],
)
def test_review_cases(pledge: str, title: str, label: str) -> None:
    assert stance(pledge, title).label == label


def test_a_delivery_not_made_is_explained_as_such() -> None:
    result = stance(TANKS, "Germany has not delivered the tanks")
    assert result.label == "broken"
    assert result.reason.startswith("reports the promised act not done")
