"""Pure measures: percentiles, intent F1, entity F1 and confusions.

Nothing here touches Rasa, the network or the clock, so every function can be
checked on small hand-made inputs.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

#: An entity as it is compared: (entity type, start offset, end offset).
EntitySpan = Tuple[str, int, int]


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    """The ``q``-th percentile (0-100) with linear interpolation between ranks.

    The same definition as ``numpy.percentile``'s default; ``None`` for no values.
    """
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(latencies_ms: Sequence[float]) -> Dict[str, Optional[float]]:
    """p50, p95, p99, mean and max of per-message latencies in milliseconds."""
    return {
        "p50_ms": percentile(latencies_ms, 50),
        "p95_ms": percentile(latencies_ms, 95),
        "p99_ms": percentile(latencies_ms, 99),
        "mean_ms": sum(latencies_ms) / len(latencies_ms) if latencies_ms else None,
        "max_ms": max(latencies_ms) if latencies_ms else None,
    }


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def intent_scores(gold: Sequence[str], predicted: Sequence[str]) -> Dict[str, Any]:
    """Accuracy, macro-F1 and per-intent precision/recall/F1.

    The macro average runs over the intents of the gold labels: a prediction of
    a label that never appears in the gold set (such as ``nlu_fallback``) only
    lowers the recall of the intent it should have been.
    """
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted labels differ in length")
    if not gold:
        return {"accuracy": None, "macro_f1": None, "per_intent": {}, "examples": 0}
    pairs = list(zip(gold, predicted))
    per_intent: Dict[str, Dict[str, float]] = {}
    for label in sorted(set(gold)):
        true_positive = sum(1 for g, p in pairs if g == label and p == label)
        predicted_as = sum(1 for _, p in pairs if p == label)
        support = sum(1 for g, _ in pairs if g == label)
        precision = true_positive / predicted_as if predicted_as else 0.0
        recall = true_positive / support
        per_intent[label] = {"precision": precision, "recall": recall, "f1": _f1(precision, recall), "support": support}
    correct = sum(1 for g, p in pairs if g == p)
    return {
        "accuracy": correct / len(pairs),
        "macro_f1": sum(s["f1"] for s in per_intent.values()) / len(per_intent),
        "per_intent": per_intent,
        "examples": len(pairs),
    }


def confused_pairs(gold: Sequence[str], predicted: Sequence[str], top: int = 5) -> List[Dict[str, Any]]:
    """The most frequent (gold intent → predicted intent) mistakes, most frequent first."""
    counts = Counter((g, p) for g, p in zip(gold, predicted) if g != p)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"gold": g, "predicted": p, "count": n} for (g, p), n in ranked[:top]]


def entity_spans(entities: Iterable[Dict[str, Any]], exclude: Iterable[str] = ()) -> Set[EntitySpan]:
    """The distinct (type, start, end) spans of Rasa entity dicts, without excluded types."""
    skipped = set(exclude)
    return {
        (e["entity"], int(e["start"]), int(e["end"]))
        for e in entities
        if e.get("entity") not in skipped and e.get("start") is not None and e.get("end") is not None
    }


def entity_scores(gold: Sequence[Set[EntitySpan]], predicted: Sequence[Set[EntitySpan]]) -> Dict[str, Any]:
    """Micro precision/recall/F1 over entity types, an entity counting when type and span match exactly.

    Also gives the F1 of each entity type. Two extractors finding the same span
    count once (the inputs are sets).
    """
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted entity lists differ in length")
    true_positive: Counter = Counter()
    gold_count: Counter = Counter()
    predicted_count: Counter = Counter()
    for expected, found in zip(gold, predicted):
        for span in expected:
            gold_count[span[0]] += 1
        for span in found:
            predicted_count[span[0]] += 1
        for span in expected & found:
            true_positive[span[0]] += 1
    tp, n_gold, n_pred = sum(true_positive.values()), sum(gold_count.values()), sum(predicted_count.values())
    precision = tp / n_pred if n_pred else (1.0 if not n_gold else 0.0)
    recall = tp / n_gold if n_gold else 1.0
    per_type = {}
    for kind in sorted(set(gold_count) | set(predicted_count)):
        p = true_positive[kind] / predicted_count[kind] if predicted_count[kind] else 0.0
        r = true_positive[kind] / gold_count[kind] if gold_count[kind] else 0.0
        per_type[kind] = {"precision": p, "recall": r, "f1": _f1(p, r), "support": gold_count[kind]}
    return {
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall) if n_gold or n_pred else 1.0,
        "entities": n_gold,
        "per_type": per_type,
    }


def entity_overlap_f1(gold: Sequence[Set[EntitySpan]], predicted: Sequence[Set[EntitySpan]]) -> Optional[float]:
    """A lenient entity F1: a found entity counts when it overlaps an expected one of the same type.

    Each expected entity is matched at most once. Next to the exact-span F1, it
    tells wrong boundaries apart from entities missed or invented.
    """
    matched = n_gold = n_pred = 0
    for expected, found in zip(gold, predicted):
        n_gold, n_pred = n_gold + len(expected), n_pred + len(found)
        free = sorted(expected, key=lambda span: span[1])
        for kind, start, end in sorted(found, key=lambda span: span[1]):
            hit = next((g for g in free if g[0] == kind and g[1] < end and start < g[2]), None)
            if hit:
                free.remove(hit)
                matched += 1
    if not n_gold and not n_pred:
        return 1.0
    precision = matched / n_pred if n_pred else 0.0
    recall = matched / n_gold if n_gold else 0.0
    return _f1(precision, recall)


def ratio(value: Optional[float], reference: Optional[float]) -> Optional[float]:
    """``value / reference``, or ``None`` when either is missing or the reference is zero."""
    if value is None or reference in (None, 0):
        return None
    return value / reference
