"""``REPORT.md`` and the plots, from the results dict alone (``results.json``).

Every figure appears with its target next to it; a missing figure (phase not
run or failed) is shown as such, never invented.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from bench.metrics import ratio
from bench.settings import LANGUAGES, TARGETS

CONFIGURATIONS = (
    ("stock", "stock `rasa init` bot"),
    ("assistant", "assistant"),
    ("assistant_workers", "assistant, Sanic workers + Redis"),
)


def _get(data: Any, *path: Any) -> Any:
    """``data[path[0]][path[1]]...``, or ``None`` as soon as a step is missing."""
    for step in path:
        if not isinstance(data, dict) or step not in data:
            return None
        data = data[step]
    return data


def _levels(results: Dict[str, Any], configuration: str) -> Dict[str, Any]:
    return _get(results, "speed", configuration, "levels") or {}


def _highest_level(results: Dict[str, Any]) -> Optional[str]:
    levels = _levels(results, "assistant") or _levels(results, "stock")
    return max(levels, key=int) if levels else None


def _position_ratio(levels: Dict[str, Any], level: Optional[str], last: int = 15) -> Tuple[Optional[float], int]:
    """p50 latency of message ``last`` (or of the last position measured, returned too) over message 1's."""
    positions = _get(levels, level, "by_position") or {}
    if "1" not in positions:
        return None, last
    later = str(last) if str(last) in positions else max(positions, key=int)
    return ratio(positions[later]["p50_ms"], positions["1"]["p50_ms"]), int(later)


def check_targets(results: Dict[str, Any], targets: Dict[str, float] = TARGETS) -> List[Dict[str, Any]]:
    """Each target with its measured value and whether it is met (``None``: not measured)."""
    checks: List[Dict[str, Any]] = []

    def add(name: str, value: Optional[float], target: float, at_least: bool, unit: str = "×") -> None:
        met = None if value is None else (value >= target if at_least else value <= target)
        checks.append(
            {
                "group": "speed" if unit else "nlu",
                "name": name,
                "value": value,
                "target": target,
                "comparison": "≥" if at_least else "≤",
                "unit": unit,
                "met": met,
            }
        )

    for language in LANGUAGES:
        heldout = _get(results, "nlu", language, "heldout")
        which = ""
        if not heldout and _get(results, "nlu", language, "deployed_heldout"):
            heldout, which = _get(results, "nlu", language, "deployed_heldout"), " (deployed model)"
        add(
            f"intent macro-F1, held-out, {language.upper()}{which}",
            _get(heldout, "macro_f1"),
            targets["intent_macro_f1"],
            True,
            "",
        )
        add(
            f"entity F1, held-out, {language.upper()}{which}",
            _get(heldout, "entity_f1"),
            targets["entity_f1"],
            True,
            "",
        )
    top = _highest_level(results)
    assistant, stock = _levels(results, "assistant"), _get(_levels(results, "stock"), top) or {}
    add(
        f"one process, throughput at {top or 50} conversations, × stock Rasa",
        ratio(_get(assistant, top, "messages_per_second"), stock.get("messages_per_second")),
        targets["throughput_vs_stock_min"],
        True,
        "×",
    )
    add(
        f"one process, p95 latency at {top or 50} conversations, × stock Rasa's",
        ratio(_get(assistant, top, "p95_ms"), stock.get("p95_ms")),
        targets["p95_vs_stock_max"],
        False,
        "×",
    )
    growth, position = _position_ratio(assistant, top)
    add(
        f"one process, p50 latency of message {position} × message 1's, at {top or 50} conversations"
        + ("" if growth is None or position == 15 else " (no conversation of this run reached message 15)"),
        growth,
        targets["fifteenth_vs_first_max"],
        False,
        "×",
    )
    add(
        "peak memory (VmHWM) of the Rasa process, one process, MB",
        _get(results, "speed", "memory", "assistant_rasa", "hwm_mb"),
        targets["rasa_process_mb_max"],
        False,
        " MB",
    )
    scaled = _get(results, "scale", "configurations") or []
    add(
        f"peak memory (VmHWM) of each Rasa process, {'/'.join(str(c['processes']) for c in scaled) or '1/2/4'} "
        "processes on PostgreSQL + Redis, largest, MB",
        max((max(c["rasa_hwm_mb"]) for c in scaled if c.get("rasa_hwm_mb")), default=None),
        targets["rasa_process_mb_max"],
        False,
        " MB",
    )
    workers = _levels(results, "assistant_workers")
    if top and _get(workers, top):  # the Sanic workers set-up of section 6, reported beside the default one
        add(
            f"Sanic workers + Redis, throughput at {top} conversations, × stock Rasa",
            ratio(_get(workers, top, "messages_per_second"), stock.get("messages_per_second")),
            targets["throughput_vs_stock_min"],
            True,
            "×",
        )
    return checks


def _number(value: Any, digits: int = 3, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def _met(met: Optional[bool]) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[met]


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _error(results: Dict[str, Any], phase: str) -> Optional[str]:
    section = results.get(phase)
    if section is None:
        return "not run in this benchmark (see `BENCH_PHASES`)."
    if isinstance(section, dict) and "error" in section:
        return f"failed: `{section['error']}` (see `bench/results/logs/{phase}-error.log`)."
    return None


def _with_unit(value: Optional[float], unit: str) -> str:
    if value is None:
        return "—"
    if unit == "×":
        return f"{value:.2f}×"
    if unit:
        return f"{value:.0f}{unit}"
    return f"{value:.3f}"


def _target_rows(checks: Iterable[Dict[str, Any]]) -> List[List[str]]:
    """One row per target: the figure, its value, the target, whether it is met."""
    return [
        [
            c["name"],
            _with_unit(c["value"], c["unit"]),
            f"{c['comparison']} {_with_unit(c['target'], c['unit'])}",
            _met(c["met"]),
        ]
        for c in checks
    ]


def _section_targets(results: Dict[str, Any]) -> str:
    return "## Targets\n\n" + _table(["figure", "measured", "target", ""], _target_rows(results.get("targets", [])))


def _pairs(pairs: Sequence[Dict[str, Any]]) -> str:
    return ", ".join(f"{p['gold']} → {p['predicted']} ({p['count']})" for p in pairs) or "none"


def _section_nlu(results: Dict[str, Any]) -> str:
    text = ["## 1. Understanding, per language"]
    problem = _error(results, "nlu")
    if problem:
        return "\n\n".join(text + [f"NLU evaluation {problem}"])
    nlu = results["nlu"]
    folds = next((_get(nlu, l, "cv", "folds") for l in LANGUAGES if _get(nlu, l, "cv")), None)
    mode = _get(results, "meta", "nlu_mode") or "full"
    trained = (
        "Each language is trained on `data/nlu/{lang}.yml` + `regex.yml` + `lookups.yml` with the "
        "pipeline of `config.yml`. "
        + (
            f"Cross-validation: {folds} stratified folds, figures pooled over the test parts. "
            if folds
            else f"No cross-validation in this run (`BENCH_NLU={mode}`). "
        )
        + (
            "Held-out: a model trained on all of the language's training data, tested on "
            "`bench/heldout/{lang}.yml`, which no model is trained on; and the deployed model on the same sets. "
            if mode in ("all", "heldout")
            else "Held-out: the deployed model (`models/lead-assistant.tar.gz`, all three languages) tested on "
            "`bench/heldout/{lang}.yml`, which no model is trained on. "
        )
    )
    text.append(
        (
            trained
            if mode != "deployed"
            else "No model is trained in this run (`BENCH_NLU=deployed`): the held-out sets `bench/heldout/{lang}.yml` "
            "are read by the deployed model only. "
        )
        + "Entity F1 is micro over entity types, an entity counting when its type and span match exactly; "
        "the `language` entity the tokenizer adds at prediction time is left out. Macro-F1 averages the F1 of the "
        "intents of the test set (`nlu_fallback` answers count as misses)."
    )
    rows = []
    for language in LANGUAGES:
        cv, held, deployed = (_get(nlu, language, key) or {} for key in ("cv", "heldout", "deployed_heldout"))
        rows.append(
            [
                language.upper(),
                _get(nlu, language, "training_examples") or "—",
                held.get("examples") or deployed.get("examples") or "—",
                _number(cv.get("accuracy")),
                _number(cv.get("macro_f1")),
                _number(cv.get("entity_f1")),
                _number(held.get("accuracy")),
                _number(held.get("macro_f1")),
                _number(held.get("entity_f1")),
                _number(held.get("entity_f1_overlap")),
                _number(deployed.get("macro_f1")),
                _number(deployed.get("entity_f1")),
                _number(deployed.get("entity_f1_overlap")),
            ]
        )
    text.append(
        _table(
            [
                "lang",
                "train ex.",
                "held-out ex.",
                "CV acc.",
                "CV macro-F1",
                "CV entity F1",
                "held-out acc.",
                "held-out macro-F1",
                "held-out entity F1",
                "(overlap)",
                "deployed model: held-out macro-F1",
                "deployed: entity F1",
                "(overlap)",
            ],
            rows,
        )
    )
    text.append(
        '"(overlap)": the lenient entity F1, where a found entity counts when it overlaps an expected '
        "one of the same type; the gap to the exact F1 is the share of wrong boundaries."
    )
    text.append(
        f"Targets on the held-out set: intent macro-F1 ≥ {TARGETS['intent_macro_f1']}, entity F1 ≥ "
        f'{TARGETS["entity_f1"]}. "Deployed model" is `models/lead-assistant.tar.gz` (all three languages '
        "together), for comparison."
    )
    text.append("![NLU scores](nlu_scores.png)")
    text.append("### Most confused intents (gold → predicted, count)")
    text.append(
        _table(
            ["lang", "cross-validation", "held-out"],
            [
                [
                    l.upper(),
                    _pairs(_get(nlu, l, "cv", "confused_pairs") or []) if _get(nlu, l, "cv") else "—",
                    _pairs(
                        (_get(nlu, l, "heldout") or _get(nlu, l, "deployed_heldout") or {}).get("confused_pairs") or []
                    ),
                ]
                for l in LANGUAGES
            ],
        )
    )
    held = {l: _get(nlu, l, "heldout") or _get(nlu, l, "deployed_heldout") or {} for l in LANGUAGES}
    kinds = sorted({kind for l in LANGUAGES for kind in (held[l].get("per_entity") or {})})
    if kinds:
        text.append("### Entity F1 per type, held-out")
        text.append(
            _table(
                ["lang"] + kinds,
                [[l.upper()] + [_number(_get(held[l], "per_entity", k, "f1"), 2) for k in kinds] for l in LANGUAGES],
            )
        )
    samples = [(l, m) for l in LANGUAGES for m in (held[l].get("entity_mistakes") or [])[:3]]
    if samples:
        text.append("### A few held-out entity mistakes")
        text.append(
            _table(
                ["lang", "message", "expected", "found"],
                [
                    [
                        l.upper(),
                        m["text"].replace("|", "\\|"),
                        "; ".join(m["expected"]) or "—",
                        "; ".join(m["found"]) or "—",
                    ]
                    for l, m in samples
                ],
            )
        )
    return "\n\n".join(text)


def _section_stories(results: Dict[str, Any]) -> str:
    text = ["## 2. Conversations (test stories)"]
    problem = _error(results, "stories")
    if problem:
        return "\n\n".join(text + [f"The story test {problem}"])
    rows = [
        [
            l.upper(),
            _get(results, "stories", l, "stories"),
            _get(results, "stories", l, "correct"),
            _number(_get(results, "stories", l, "share"), 2),
            _number(_get(results, "stories", l, "action_accuracy")),
            ", ".join(_get(results, "stories", l, "failed") or []) or "—",
        ]
        for l in LANGUAGES
    ]
    text.append(
        "`tests/integration/stories/test_{lang}.yml` run through the deployed model, as `rasa test core` does: a story "
        "is correct when every action is predicted as written."
    )
    text.append(_table(["lang", "stories", "correct", "share", "action accuracy", "failed stories"], rows))
    return "\n\n".join(text)


def _section_conversations(results: Dict[str, Any]) -> str:
    text = ["## 2b. Whole prospect conversations"]
    problem = _error(results, "conversations")
    if problem:
        return "\n\n".join(text + [problem])
    rows = [
        (
            l,
            _get(results, "conversations", l, "conversations"),
            f"{_get(results, 'conversations', l, 'right')}/{_get(results, 'conversations', l, 'fields')}",
            _number(_get(results, "conversations", l, "share"), 3),
            _get(results, "conversations", l, "repeats"),
            _get(results, "conversations", l, "loops"),
        )
        for l in LANGUAGES
        if _get(results, "conversations", l) is not None
    ]
    text.append(
        "The conversations of `tests/integration/conversations/data/{lang}.yml` (new prospects, written apart from "
        "the training data) played over the REST channel; each expected field of the lead the leads API returns is "
        "checked. *Repeats*: a question asked again right after it was asked; *loops*: asked a third time in a row "
        "(target 0). `make test` fails below 90 % of fields right; the aim is 98 %."
    )
    text.append(_table(["lang", "conversations", "fields right", "share", "repeats", "loops"], rows))
    wrong = [w for l in LANGUAGES for w in (_get(results, "conversations", l, "wrong") or [])]
    if wrong:
        text.append("Fields wrong:\n\n" + "\n".join(f"- {w}" for w in wrong[:60]))
    return "\n\n".join(text)


def _tracebacks(results: Dict[str, Any]) -> List[tuple]:
    """(server, count) for every server whose log has tracebacks."""
    found = []
    for key, label in CONFIGURATIONS:
        section = _get(results, "speed", key) or {}
        for name, summary in ((label, section), (f"{label}: action server", section.get("actions_server") or {})):
            if summary.get("tracebacks_in_log"):
                found.append((name, summary["tracebacks_in_log"]))
    return found


def _section_speed(results: Dict[str, Any]) -> str:
    text = ["## 3. Speed and capacity"]
    problem = _error(results, "speed")
    if problem:
        return "\n\n".join(text + [f"The speed measurement {problem}"])
    text.append(
        "Full path: REST channel → NLU → policies → action server → lead database, the conversations kept as "
        "`make run` keeps them (the SQL tracker store of `bot/tracker_store.py`, on the lead database; the stock bot "
        "keeps them in memory, Rasa's default). A separate load-generator process "
        "(`bench/load.py`, aiohttp, loopback only) holds N conversations at once; each visitor plays whole scripted "
        "qualifications (EN, FR, PL, 10–15 messages) and sends each message as soon as the previous one is answered. "
        "The stock `rasa init` bot gets conversations of the same lengths from its own domain. Latency is per "
        "message; throughput is answered messages per second of the run. Each server is warmed up first."
    )
    stock = _levels(results, "stock")
    rows = []
    for key, label in CONFIGURATIONS:
        for level, figures in sorted(_levels(results, key).items(), key=lambda item: int(item[0])):
            reference = stock.get(level, {})
            rows.append(
                [
                    label,
                    level,
                    figures["messages"],
                    _number(figures["p50_ms"], 0),
                    _number(figures["p95_ms"], 0),
                    _number(figures["p99_ms"], 0),
                    _number(figures["messages_per_second"], 1),
                    figures["errors"],
                    _number(ratio(figures["p50_ms"], reference.get("p50_ms")), 2, "×"),
                    _number(ratio(figures["messages_per_second"], reference.get("messages_per_second")), 2, "×"),
                ]
            )
    text.append(
        _table(
            [
                "configuration",
                "conversations",
                "messages",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "msg/s",
                "errors",
                "p50 vs stock",
                "msg/s vs stock",
            ],
            rows,
        )
    )
    qualifications = _get(results, "speed", "assistant", "qualifications")
    if qualifications:
        text.append(
            f"Scripted conversations of the single-conversation run that ended with a submitted lead: "
            f"{qualifications['lead_submitted']} of {qualifications['conversations']}."
        )
    logged = [f"{name} ({count})" for name, count in _tracebacks(results)]
    text.append("Tracebacks in the server logs (`bench/results/logs/`): " + (", ".join(logged) or "none") + ".")
    workers = _get(results, "speed", "assistant_workers")
    if workers and workers.get("skipped"):
        text.append(f"Sanic workers configuration skipped: {workers['skipped']}.")
    text.append("![latency](latency.png)\n\n![throughput](throughput.png)")
    return "\n\n".join(text)


def _section_resources(results: Dict[str, Any]) -> str:
    text = ["## 4. Resources"]
    memory = _get(results, "speed", "memory") or {}
    names = {
        "assistant_rasa": "assistant: Rasa server",
        "assistant_actions": "assistant: action server",
        "stock_rasa": "stock bot: Rasa server",
        "workers_rasa": "assistant: Rasa server, all workers",
    }
    rows = [
        [
            label,
            _number(_get(memory, key, "hwm_mb"), 0),
            _number(_get(memory, key, "peak_rss_mb"), 0),
            _get(memory, key, "processes") or "—",
        ]
        for key, label in names.items()
        if key in memory
    ]
    if rows:
        text.append(
            "Sampled every 0.5 s from `/proc/<pid>/status` while the servers ran (start-up, warm-up and "
            "load). VmHWM is the kernel's own high-water mark per process (summed over a process tree); "
            f"target for each Rasa process: ≤ {TARGETS['rasa_process_mb_max']:.0f} MB."
        )
        text.append(_table(["process", "peak (VmHWM) MB", "largest sampled RSS MB", "processes"], rows))
    else:
        text.append("Memory was not measured in this run.")
    res = results.get("resources") or {}
    recorded = res.get("recorded_training")
    nlu_training = res.get("nlu_training") or {}
    stock = _get(results, "speed", "stock") or {}
    text.append(
        _table(
            ["figure", "value"],
            [
                ["model size (`models/lead-assistant.tar.gz`)", _number(res.get("model_mb"), 1, " MB")],
                ["stock bot model size", _number(stock.get("model_mb"), 1, " MB")],
                [
                    "full model training (`make train`, recorded)",
                    f"{recorded['seconds']:.0f} s ({recorded['recorded_at']})"
                    if recorded
                    else "not recorded: the model predates the timing in `make train`",
                ],
                [
                    "NLU trainings of this run (all folds and held-out models)",
                    f"{nlu_training['models']} models: {nlu_training['train_seconds']:.0f} s wall, "
                    f"{nlu_training['train_cpu_seconds']:.0f} s CPU"
                    if nlu_training
                    else "no model trained",
                ],
                ["stock bot: `rasa init` with its training", _number(stock.get("init_and_train_seconds"), 0, " s")],
            ],
        )
    )
    return "\n\n".join(text)


def _section_profile(results: Dict[str, Any]) -> str:
    text = ["## 5. Where the time of a turn goes"]
    profile = _get(results, "speed", "assistant", "profile")
    if not profile:
        return "\n\n".join(text + ["The turn profile was not measured in this run."])
    summary = profile["summary"]
    text.append(
        f"Every message of the three scripts, one conversation at a time ({summary['turns']} turns). NLU: "
        "`POST /model/parse` of the same text; action server: its `/webhook` calls, timed inside the server, without "
        "the lead writes; database: `LeadWriter.save`; policies and the rest (tracker store, lock, HTTP, response "
        "rendering): the remainder."
    )
    labels = {
        "nlu_ms": "NLU",
        "actions_ms": "action server (without DB)",
        "db_ms": "database writes",
        "policies_rest_ms": "policies and the rest",
        "total_ms": "whole turn",
    }
    rows = [
        [
            labels[p],
            _number(summary[p]["mean"], 1),
            _number(summary[p]["p50"], 1),
            _number(100 * summary["share"][p], 0, " %") if p in summary["share"] else "100 %",
        ]
        for p in ("nlu_ms", "actions_ms", "db_ms", "policies_rest_ms", "total_ms")
    ]
    text.append(_table(["part", "mean ms", "median ms", "share of mean"], rows))
    estimate = summary.get("policies_estimate")
    if estimate:
        policies, remainder = estimate["policies_ms_mean"], estimate["remainder_ms_mean"]
        share = (
            f"so the policies account for at most about {policies:.0f} of the {remainder:.0f} ms"
            if policies < remainder
            else f"{policies:.0f} ms in all, more than the {remainder:.0f} ms left: most of a `/predict` is not the "
            "policies but what it shares with a turn"
        )
        text.append(
            f'Inside "policies and the rest": a turn makes {estimate["predictions_mean"]:.1f} action predictions '
            f"on average (`action_listen` included) and one `POST /conversations/<id>/predict` takes "
            f"{estimate['predict_ms_mean']:.0f} ms, {share} (each `/predict` also pays for HTTP and fetching "
            "the tracker). The rest is the tracker store, the lock, "
            "sending the tracker to the action server "
            f"({summary.get('action_calls_per_turn', 0):.1f} calls per turn, "
            f"{summary.get('action_request_kb_mean', 0):.0f} kB each on average) and reading its answers."
        )
    growth = summary.get("policies_rest_by_position") or {}
    if len(growth) > 2:
        first, last = min(growth, key=int), max(growth, key=int)
        text.append(
            f'"Policies and the rest" along the conversation: {growth[first]:.0f} ms at message '
            f"{first}, {growth[last]:.0f} ms at message {last} (mean over the scripts that long; right-hand "
            "plot)."
        )
    work = summary.get("work_by_position") or {}
    if work:
        text.append(
            "The work of a turn by message number, counted (unlike the times above, counts and sizes do not "
            "depend on what else the machine was doing): calls to the action server, kB of JSON sent to it "
            "(the tracker, and the domain unless it is selective), action predictions (`action_listen` "
            "included) and lead writes, each the mean over the scripts that long."
        )
        text.append(
            _table(
                ["message", "turns", "action calls", "kB per call", "kB per turn", "predictions", "lead writes"],
                [
                    [
                        position,
                        w["turns"],
                        _number(w["action_calls"], 1),
                        _number(w["kb_per_call"], 1),
                        _number(w["kb_per_turn"], 0),
                        _number(w["predictions"], 1),
                        _number(w["db_writes"], 1),
                    ]
                    for position, w in sorted(work.items(), key=lambda item: int(item[0]))
                ],
            )
        )
    example = profile.get("example") or {}
    if example:
        text.append(
            f'Example turn ({example["language"].upper()}, "{example["text"]}", intent '
            f"`{example.get('intent')}`): {example['total_ms']:.0f} ms in all — NLU {example['nlu_ms']:.0f}, "
            f"actions {example['actions_ms']:.0f} ({', '.join(filter(None, example['action_calls']))}), "
            f"database {example['db_ms']:.0f} ({example['db_writes']} write), policies and the rest "
            f"{example['policies_rest_ms']:.0f} ms."
        )
    text.append("![turn profile](turn_profile.png)")
    return "\n\n".join(text)


def _section_faster(results: Dict[str, Any]) -> str:
    workers = _get(results, "speed", "assistant_workers") or {}
    text = [
        "## 6. Going faster",
        (
            "**Sanic workers.** `SANIC_WORKERS=N rasa run ...` starts N server processes, each with its own copy "
            "of the model. Rasa only allows it with a lock store that is not in memory, and the conversations "
            "must live in a tracker store all workers share; the benchmark generates such an endpoints file "
            "(Redis at 127.0.0.1:6379 for both, keys under a private prefix, deleted afterwards)."
        ),
    ]
    if workers.get("endpoints"):
        text.append("```yaml\n" + workers["endpoints"].strip() + "\n```")
    if workers.get("levels"):
        text.append(f'Measured above as "assistant, Sanic workers + Redis" ({workers.get("workers")} workers).')
    elif workers.get("skipped"):
        text.append(f"Not measured in this run: {workers['skipped']}.")
    text.append(
        "**What the assistant already does.** Lighter policies: the dialogue is rules and a form, so "
        "`config.yml` runs no TEDPolicy. A lighter NLU: a logistic regression for intents and a CRF for entities "
        "instead of DIET (see section 1 for what they understand, section 4 for the training time). Rasa "
        "validates every action server answer with `jsonschema.validate()`, which with jsonschema 4.x checks the "
        "schema itself against the 2020-12 meta-schema on every call; `requirements.txt` pins jsonschema 3.2 "
        "(within Rasa's range), several times faster. Lead writes use pooled database connections on SQLite and "
        "PostgreSQL and go straight to the database unless writes wait in the outbox."
    )
    return "\n\n".join(text)


def _section_run(results: Dict[str, Any]) -> str:
    meta = results.get("meta", {})
    text = [
        "## Run",
        _table(
            ["", ""],
            [
                ["started", meta.get("started")],
                ["commit", meta.get("commit") or "—"],
                ["wall time", _number((meta.get("wall_seconds") or 0) / 60, 1, " min")],
                ["CPUs", meta.get("cpus")],
                [
                    "load average at start / end",
                    f"{_number(meta.get('load_average_at_start'), 2)} / {_number(meta.get('load_average_at_end'), 2)}",
                ],
                ["Rasa / Python", f"{meta.get('rasa')} / {meta.get('python')}"],
                ["lead database", meta.get("database")],
            ],
        ),
    ]
    phases = results.get("phase_seconds") or {}
    if phases:
        text.append(
            _table(
                ["phase", "wall time"], [[name, _number(seconds / 60, 1, " min")] for name, seconds in phases.items()]
            )
        )
    rows = []
    for language in LANGUAGES:
        for fold in _get(results, "nlu", language, "cv", "fold_timings") or []:
            rows.append(
                [
                    language.upper(),
                    f"fold {fold['fold']}",
                    fold["train_examples"],
                    _number(fold["train_seconds"], 0),
                    _number(fold["train_cpu_seconds"], 0),
                ]
            )
        held = _get(results, "nlu", language, "heldout")
        if held:
            rows.append(
                [
                    language.upper(),
                    "held-out model",
                    held.get("train_examples"),
                    _number(held.get("train_seconds"), 0),
                    _number(held.get("train_cpu_seconds"), 0),
                ]
            )
    if rows:
        jobs = meta.get("nlu_jobs") or 1
        text.append(
            "NLU trainings (the expensive part)"
            + (
                f", {jobs} evaluations at once on {meta.get('cpus')} CPUs: wall times include waiting for a core:"
                if jobs > 1
                else ", one after another:"
            )
        )
        text.append(_table(["lang", "model", "examples", "wall s", "CPU s"], rows))
    return "\n\n".join(text)


def _counted(events: Optional[Dict[str, int]]) -> str:
    """``counted / stored`` events, or a dash when the run did not count them."""
    if not events:
        return "—"
    return f"{events['counted']} / {events['stored']}"


def _section_scaling(results: Dict[str, Any]) -> str:
    text = ["## 7. Scaling out: several Rasa processes"]
    scale = results.get("scale")
    if not scale:
        return "\n\n".join(text + ["Not measured in this run (`BENCH_PHASES` without `scale`)."])
    if scale.get("error") or scale.get("skipped"):
        reason = str(scale.get("error") or scale.get("skipped")).splitlines()[0]
        return "\n\n".join(text + [f"Not measured: {reason}."])
    text.append(
        "Separate `rasa run` processes with the endpoints of `make scale` (SQL tracker store on the local "
        "PostgreSQL, the atomic Redis lock store, the batched pika event broker on the local RabbitMQ, whose "
        "events the statistics consumer counts meanwhile), one action server per Rasa process (two at most), the lead "
        "database on the same PostgreSQL. The load generator sends each conversation's messages to the "
        "processes in turn, so that consecutive messages of one conversation are read by different processes. "
        "Everything runs on this one machine: the processes share its CPUs with each other, with PostgreSQL, "
        "Redis, RabbitMQ and with the load generator."
    )
    top = _highest_level(results)
    stock = _get(_levels(results, "stock"), top) or {}
    configurations = scale.get("configurations") or []
    single = next((c for c in configurations if c["processes"] == 1), None)
    rows = []
    for c in configurations:
        level = c["level"]
        rows.append(
            [
                c["processes"],
                c["action_servers"],
                level["concurrency"],
                level["messages"],
                _number(level["messages_per_second"], 1),
                _number(ratio(level["messages_per_second"], _get(single, "level", "messages_per_second")), 2, "×"),
                _number(ratio(level["messages_per_second"], stock.get("messages_per_second")), 2, "×"),
                _number(level["p50_ms"], 0),
                _number(level["p95_ms"], 0),
                level["errors"],
                _number(max(c["rasa_hwm_mb"]), 0),
                f"{100 * c['generator_cpu_share_of_one_core']:.0f} %",
                f"{100 * c['machine_idle_share']:.0f} %",
                _counted(c.get("events")),
            ]
        )
    text.append(
        _table(
            [
                "Rasa processes",
                "action servers",
                "conversations",
                "messages",
                "msg/s",
                "× 1 process",
                "× stock",
                "p50 ms",
                "p95 ms",
                "errors",
                "peak MB per Rasa process",
                "load generator CPU (of one core)",
                "machine idle",
                "events counted / stored",
            ],
            rows,
        )
    )
    text.append(
        "Events counted / stored: the events the Rasa processes stored so far in the run (Rasa's `events` "
        "table) and how many of them the statistics consumer counted from RabbitMQ once the processes stopped."
    )
    checks = results.get("targets") or check_targets(results)
    rows = _target_rows(c for c in checks if c.get("group") == "speed")
    if rows:
        text.append("The targets of one process and of each process (also in the Targets section):")
        text.append(_table(["figure", "measured", "target", ""], rows))
    text.append(
        "![throughput against processes](scaling_throughput.png)\n\n![latency by position](latency_by_position.png)"
    )
    return "\n\n".join(text)


def render(results: Dict[str, Any]) -> str:
    """The whole report as Markdown."""
    head = ["# Benchmark report"]
    stale = _get(results, "meta", "model_older_than")
    if stale:
        head.append(
            f"> **The deployed model is older than its training data** ({', '.join(stale)} changed since): "
            "its figures do not reflect them. `make bench` retrains it first."
        )
    if _get(results, "meta", "quick"):
        head.append(
            "> **QUICK RUN (`BENCH_QUICK=1`)**: fewer folds, shorter load. "
            "These are NOT the real figures; run `make bench` for them."
        )
    sections = [
        _section_targets(results),
        _section_nlu(results),
        _section_stories(results),
        _section_conversations(results),
        _section_speed(results),
        _section_resources(results),
        _section_profile(results),
        _section_faster(results),
        _section_scaling(results),
        _section_run(results),
    ]
    return "\n\n".join(head + sections) + "\n"


def _concurrency_axis(axis: Any, results: Dict[str, Any]) -> None:
    """A log axis labelled with the load levels themselves."""
    levels = sorted({int(c) for key, _ in CONFIGURATIONS for c in _levels(results, key)})
    axis.set_xscale("log")
    axis.set_xticks(levels)
    axis.set_xticklabels([str(level) for level in levels])
    axis.minorticks_off()


def plot(results: Dict[str, Any], folder: Path) -> List[Path]:
    """The PNG plots the report links to; only those with data are drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn: List[Path] = []
    quick = " (QUICK RUN, not real figures)" if _get(results, "meta", "quick") else ""

    def save(figure, name: str) -> None:
        path = folder / name
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
        drawn.append(path)

    configurations = [(key, label) for key, label in CONFIGURATIONS if _levels(results, key)]
    if configurations:
        figure, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
        for axis, part in zip(axes, ("p50_ms", "p95_ms", "p99_ms")):
            for key, label in configurations:
                levels = sorted(_levels(results, key).items(), key=lambda item: int(item[0]))
                axis.plot([int(c) for c, _ in levels], [f[part] or 0 for _, f in levels], marker="o", label=label)
            axis.set_title(part.replace("_ms", "") + " latency")
            axis.set_xlabel("conversations at once")
            _concurrency_axis(axis, results)
            axis.set_yscale("log")
        axes[0].set_ylabel("ms per message")
        axes[0].legend()
        figure.suptitle("Latency per message" + quick)
        save(figure, "latency.png")

        figure, axis = plt.subplots(figsize=(6, 4))
        for key, label in configurations:
            levels = sorted(_levels(results, key).items(), key=lambda item: int(item[0]))
            axis.plot(
                [int(c) for c, _ in levels], [f["messages_per_second"] or 0 for _, f in levels], marker="o", label=label
            )
        _concurrency_axis(axis, results)
        axis.set_xlabel("conversations at once")
        axis.set_ylabel("messages per second")
        axis.set_ylim(bottom=0)
        axis.set_title("Throughput" + quick)
        axis.legend()
        save(figure, "throughput.png")

    if isinstance(results.get("nlu"), dict) and "error" not in results["nlu"] and results["nlu"]:
        series = [
            ("CV macro-F1", ("cv", "macro_f1")),
            ("held-out macro-F1", ("heldout", "macro_f1")),
            ("deployed: held-out macro-F1", ("deployed_heldout", "macro_f1")),
            ("CV entity F1", ("cv", "entity_f1")),
            ("held-out entity F1", ("heldout", "entity_f1")),
            ("deployed: held-out entity F1", ("deployed_heldout", "entity_f1")),
        ]
        series = [
            (label, path)
            for label, path in series
            if any(_get(results, "nlu", l, *path) is not None for l in LANGUAGES)
        ]
        figure, axis = plt.subplots(figsize=(10, 4))
        width = 0.8 / max(1, len(series))
        for index, (label, path) in enumerate(series):
            values = [_get(results, "nlu", l, *path) or 0 for l in LANGUAGES]
            axis.bar([i + index * width for i in range(len(LANGUAGES))], values, width, label=label)
        axis.axhline(TARGETS["intent_macro_f1"], color="black", linestyle="--", linewidth=1, label="intent target")
        axis.axhline(TARGETS["entity_f1"], color="grey", linestyle=":", linewidth=1, label="entity target")
        axis.set_xticks([i + 0.4 - width / 2 for i in range(len(LANGUAGES))], [l.upper() for l in LANGUAGES])
        axis.set_ylim(0, 1.05)
        axis.set_title("Understanding per language" + quick)
        axis.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
        save(figure, "nlu_scores.png")

    summary = _get(results, "speed", "assistant", "profile", "summary")
    if summary:
        parts = [
            ("nlu_ms", "NLU"),
            ("actions_ms", "actions"),
            ("db_ms", "database"),
            ("policies_rest_ms", "policies + rest"),
        ]
        figure, (axis, growth_axis) = plt.subplots(1, 2, figsize=(12, 3.2), gridspec_kw={"width_ratios": [3, 2]})
        left = 0.0
        for key, label in parts:
            value = summary[key]["mean"]
            axis.barh([0], [value], left=left, label=f"{label} {value:.0f} ms")
            left += value
        axis.set_yticks([])
        axis.set_xlabel("ms (mean turn)")
        axis.set_title("Where a turn's time goes" + quick)
        axis.legend(ncol=2, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3))
        growth = summary.get("policies_rest_by_position") or {}
        positions = sorted(growth, key=int)
        growth_axis.plot([int(p) for p in positions], [growth[p] for p in positions], marker="o")
        growth_axis.set_xlabel("message number in the conversation")
        growth_axis.set_ylabel("policies + rest, ms")
        growth_axis.set_ylim(bottom=0)
        growth_axis.set_title("Policies and the rest along a conversation")
        save(figure, "turn_profile.png")

    configurations = _get(results, "scale", "configurations") or []
    if configurations:
        figure, axis = plt.subplots(figsize=(6, 4))
        counts = [c["processes"] for c in configurations]
        axis.plot(
            counts, [c["level"]["messages_per_second"] or 0 for c in configurations], marker="o", label="assistant"
        )
        top = _highest_level(results)
        stock = _get(_levels(results, "stock"), top, "messages_per_second")
        if stock:
            axis.axhline(stock, color="grey", linestyle="--", label="stock Rasa, one process")
        axis.set_xticks(counts)
        axis.set_xlabel("Rasa processes (PostgreSQL + Redis)")
        axis.set_ylabel("messages per second")
        axis.set_ylim(bottom=0)
        axis.set_title("Throughput against processes" + quick)
        axis.legend()
        save(figure, "scaling_throughput.png")

    series = []
    top = _highest_level(results)
    if _get(_levels(results, "assistant"), top, "by_position"):
        series.append(("one process (in-memory locks)", _get(_levels(results, "assistant"), top, "by_position")))
    for c in configurations:
        if c["level"].get("by_position"):
            series.append((f"{c['processes']} process(es), PostgreSQL + Redis", c["level"]["by_position"]))
    if series:
        figure, axis = plt.subplots(figsize=(7, 4))
        for label, positions in series:
            keys = sorted(positions, key=int)
            axis.plot([int(k) for k in keys], [positions[k]["p50_ms"] or 0 for k in keys], marker="o", label=label)
        axis.set_xlabel("message number in the conversation")
        axis.set_ylabel("p50 latency, ms")
        axis.set_ylim(bottom=0)
        axis.set_title(f"Latency against message position, {top} conversations" + quick)
        axis.legend(fontsize=8)
        save(figure, "latency_by_position.png")
    return drawn


def write(results: Dict[str, Any], folder: Path) -> Path:
    """Write ``REPORT.md`` and the plots into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    plot(results, folder)
    path = folder / "REPORT.md"
    path.write_text(render(results), encoding="utf-8")
    return path
