"""Which sales rep gets a lead: by language and segment, round robin, in working hours."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, time, timezone
from functools import lru_cache
from typing import Any, Dict, List, Mapping, Optional
from zoneinfo import ZoneInfo

import yaml

from common import settings

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ENV = re.compile(r"\$\{(\w+)\}")


def expand(value: Any) -> Any:
    """Replace ``${VAR}`` with the environment's value; a missing variable gives ``None``."""
    if isinstance(value, dict):
        return {k: expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v) for v in value]
    if isinstance(value, str) and _ENV.search(value):
        environment = settings.environment()
        missing = [name for name in _ENV.findall(value) if not environment.get(name)]
        if missing:
            return None
        return _ENV.sub(lambda m: environment[m.group(1)], value)
    return value


def load_config(path: Optional[str] = None) -> Dict[str, Any]:
    """The reps file (``REPS_FILE`` or ``config/reps.yml``), environment expanded (a new copy each time).

    The file is parsed again only when it changed (parsing it took about 5 ms, at every hand-off).
    """
    path = path or str(settings.reps_file())
    status = os.stat(path)
    return expand(_parsed(path, status.st_mtime_ns, status.st_size))


@lru_cache(maxsize=8)
def _parsed(path: str, _modified_ns: int, _size: int) -> Any:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


@dataclass
class Route:
    """Where a lead goes: one rep, or the team queue."""

    rep: Optional[Dict[str, Any]]
    queue: bool
    reason: str
    in_hours: bool

    @property
    def name(self) -> str:
        return (self.rep or {}).get("name") or "Sales team"


def in_working_hours(rep: Mapping[str, Any], now: datetime) -> bool:
    """Whether ``now`` falls in the rep's working hours, in their time zone."""
    hours = rep.get("working_hours") or {}
    local = now.astimezone(ZoneInfo(rep.get("timezone") or "UTC"))
    if DAYS[local.weekday()] not in (hours.get("days") or DAYS[:5]):
        return False
    start = time.fromisoformat(hours.get("start", "09:00"))
    end = time.fromisoformat(hours.get("end", "17:00"))
    return start <= local.time().replace(tzinfo=None) < end


def matching_reps(reps: List[Dict[str, Any]], language: Optional[str], segment: Optional[str]) -> List[Dict[str, Any]]:
    """Reps who speak the language and cover the segment; language alone if none cover it."""
    speakers = [r for r in reps if language in (r.get("languages") or [])] or list(reps)
    covering = [r for r in speakers if not r.get("segments") or segment in r["segments"]]
    return covering or speakers


def pick_rep(
    lead: Mapping[str, Any],
    now: Optional[datetime] = None,
    last_assigned: Optional[Mapping[str, datetime]] = None,
    config: Optional[Dict[str, Any]] = None,
) -> Route:
    """The rep for a lead (contract shape), or the team queue outside working hours."""
    config = config if config is not None else load_config()
    now = now or datetime.now(timezone.utc)
    last_assigned = last_assigned or {}
    language = lead.get("language")
    segment = (lead.get("need") or {}).get("category")
    candidates = matching_reps(config.get("reps") or [], language, segment)
    if not candidates:
        return Route(None, True, "No rep is configured.", False)
    available = [r for r in candidates if in_working_hours(r, now)]
    if not available:
        return Route(None, True, "Outside working hours: the team queue takes it.", False)
    never = datetime.min.replace(tzinfo=timezone.utc)
    chosen = min(available, key=lambda r: (last_assigned.get(r["id"], never), available.index(r)))
    return Route(chosen, False, f"Speaks {language}" + (f" and covers {segment}" if segment else "") + ".", True)
