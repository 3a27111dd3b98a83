"""The benchmark's pure measures, on hand-computed examples."""

from __future__ import annotations

import pytest

from bench.metrics import (
    confused_pairs,
    entity_overlap_f1,
    entity_scores,
    entity_spans,
    intent_scores,
    latency_summary,
    percentile,
    ratio,
)
from bench.profile_turn import breakdown, predictions_in_last_turn, summary


def test_percentile_interpolates_between_ranks_like_numpy():
    values = [15, 20, 35, 40, 50]
    assert percentile(values, 0) == 15
    assert percentile(values, 50) == 35
    assert percentile(values, 100) == 50
    assert percentile(values, 40) == pytest.approx(29.0)  # rank 1.6: 20 + 0.6 * 15
    assert percentile(list(range(1, 101)), 99) == pytest.approx(99.01)
    assert percentile([7.5], 95) == 7.5


def test_percentile_ignores_input_order_and_refuses_nonsense():
    assert percentile([50, 15, 40, 20, 35], 50) == 35
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1, 2], 101)


def test_latency_summary():
    figures = latency_summary([100.0, 200.0, 300.0, 400.0])
    assert figures["p50_ms"] == pytest.approx(250.0)
    assert figures["p95_ms"] == pytest.approx(385.0)
    assert figures["mean_ms"] == 250.0 and figures["max_ms"] == 400.0
    assert latency_summary([])["p50_ms"] is None


def test_intent_scores_macro_f1_over_gold_intents():
    gold = ["greet", "greet", "inform", "inform", "deny"]
    predicted = ["greet", "inform", "inform", "nlu_fallback", "deny"]
    scores = intent_scores(gold, predicted)
    assert scores["accuracy"] == pytest.approx(3 / 5)
    # greet: P 1, R 0.5, F1 2/3; inform: P 0.5, R 0.5, F1 0.5; deny: F1 1
    assert scores["per_intent"]["greet"]["f1"] == pytest.approx(2 / 3)
    assert scores["per_intent"]["inform"]["precision"] == pytest.approx(0.5)
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 0.5 + 1) / 3)
    assert "nlu_fallback" not in scores["per_intent"]


def test_intent_scores_refuses_mismatched_lists():
    with pytest.raises(ValueError):
        intent_scores(["a"], [])
    assert intent_scores([], [])["macro_f1"] is None


def test_confused_pairs_most_frequent_first():
    gold = ["a", "a", "a", "b", "b", "c"]
    predicted = ["b", "b", "a", "a", "c", "c"]
    assert confused_pairs(gold, predicted) == [
        {"gold": "a", "predicted": "b", "count": 2},
        {"gold": "b", "predicted": "a", "count": 1},
        {"gold": "b", "predicted": "c", "count": 1},
    ]
    assert confused_pairs(gold, predicted, top=1) == [{"gold": "a", "predicted": "b", "count": 2}]


def test_entity_spans_drop_excluded_types_and_duplicates():
    found = [
        {"entity": "vendor", "start": 7, "end": 14, "value": "Zendesk", "extractor": "DIETClassifier"},
        {"entity": "vendor", "start": 7, "end": 14, "value": "Zendesk", "extractor": "RegexEntityExtractor"},
        {"entity": "language", "start": 0, "end": 0, "value": "en"},
    ]
    assert entity_spans(found, exclude=("language",)) == {("vendor", 7, 14)}


def test_entity_scores_micro_over_types_with_exact_spans():
    gold = [{("person", 0, 4), ("company", 10, 15)}, {("email", 3, 20)}, set()]
    predicted = [{("person", 0, 4), ("company", 10, 16)}, {("email", 3, 20)}, {("vendor", 0, 5)}]
    scores = entity_scores(gold, predicted)
    # 2 right out of 4 predicted and 3 expected
    assert scores["precision"] == pytest.approx(2 / 4)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert scores["per_type"]["company"]["f1"] == 0.0
    assert scores["per_type"]["email"]["f1"] == 1.0
    assert scores["per_type"]["vendor"]["support"] == 0


def test_overlap_f1_forgives_boundaries_but_not_types_or_double_counting():
    gold = [{("authority", 0, 20), ("person", 30, 40)}]
    found = [{("authority", 0, 10), ("authority", 12, 18), ("company", 30, 40)}]
    # one authority matches (the second cannot reuse it), the company is the wrong type
    precision, recall = 1 / 3, 1 / 2
    assert entity_overlap_f1(gold, found) == pytest.approx(2 * precision * recall / (precision + recall))
    assert entity_scores(gold, found)["f1"] == 0.0
    assert entity_overlap_f1([set()], [set()]) == 1.0


def test_entity_scores_nothing_expected_nothing_found_is_perfect():
    assert entity_scores([set(), set()], [set(), set()])["f1"] == 1.0


def test_ratio():
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(None, 2.0) is None and ratio(1.0, 0) is None


def test_turn_breakdown_takes_writes_out_of_the_action_server_time():
    timings = [
        {"kind": "webhook", "seconds": 0.030, "action": "action_extract_facts"},
        {"kind": "db_save", "seconds": 0.010},
        {"kind": "webhook", "seconds": 0.020, "action": "qualification_form"},
    ]
    turn = breakdown(total_ms=200.0, nlu_ms=60.0, timings=timings)
    assert turn["actions_ms"] == pytest.approx(40.0)
    assert turn["db_ms"] == pytest.approx(10.0)
    assert turn["policies_rest_ms"] == pytest.approx(90.0)
    assert turn["action_calls"] == ["action_extract_facts", "qualification_form"] and turn["db_writes"] == 1
    assert turn["policies_estimate_ms"] is None
    figures = summary(
        [{**turn, "language": "en", "position": 1, "text": "x"}, {**turn, "language": "fr", "position": 1, "text": "y"}]
    )
    assert figures["turns"] == 2
    assert figures["share"]["nlu_ms"] == pytest.approx(0.3)
    assert figures["policies_rest_by_position"] == {"1": pytest.approx(90.0)}
    assert figures["action_calls_per_turn"] == 2


def test_turn_breakdown_estimates_the_policies_from_one_prediction():
    turn = breakdown(total_ms=200.0, nlu_ms=60.0, timings=[], predict_ms=20.0, predictions=3)
    assert turn["policies_estimate_ms"] == pytest.approx(60.0)
    assert turn["policies_rest_ms"] == pytest.approx(140.0)


def test_predictions_counted_after_the_last_user_message():
    events = [
        {"event": "user"},
        {"event": "action"},
        {"event": "slot"},
        {"event": "user"},
        {"event": "action"},
        {"event": "bot"},
        {"event": "action"},
        {"event": "action"},
    ]
    assert predictions_in_last_turn(events) == 3
    assert predictions_in_last_turn([]) == 0
