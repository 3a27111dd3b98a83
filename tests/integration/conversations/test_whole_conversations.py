"""Whole prospect conversations in EN, FR and PL, judged field by field on the lead the leads API returns.

The servers run for real (testkit.conversations); every language's
conversations are played concurrently. The run fails when fewer than 90 % of
the expected fields are right in a language, or when a question is asked more
than twice in a row.
"""

from __future__ import annotations

from typing import Dict, List

import pytest

from common.languages import LANGUAGES
from testkit.conversations import Result, assistant, run_language, summary

#: The share of lead fields that must be right, per language (the aim is 98 %).
MIN_SHARE = 0.90
MIN_CONVERSATIONS = 15


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Dict[str, List[Result]]:
    folder = tmp_path_factory.mktemp("conversations")
    with assistant(folder) as urls:
        return {language: run_language(urls, language) for language in LANGUAGES}


def _report(results: List[Result]) -> str:
    lines = []
    for result in results:
        for failure in result.failures():
            lines.append(f"{result.name}: {failure}")
        if result.loops:
            lines.append(f"{result.name}: a question asked three times in a row\n" + "\n".join(result.transcript))
    return "\n".join(lines)


@pytest.mark.parametrize("language", LANGUAGES)
def test_enough_fields_of_the_lead_are_right(results, language):
    figures = summary(results[language])
    assert figures["conversations"] >= MIN_CONVERSATIONS
    assert all(r.lead is not None for r in results[language]), [r.name for r in results[language] if r.lead is None]
    assert figures["share"] >= MIN_SHARE, (
        f"{language}: {figures['right']}/{figures['fields']} fields right ({figures['share']:.0%})\n"
        + _report(results[language])
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_question_is_asked_more_than_twice_in_a_row(results, language):
    looping = [r for r in results[language] if r.loops]
    assert not looping, _report(looping)
