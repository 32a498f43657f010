"""Reading a timezone from what a person types: an IANA name, a city, or a common choice."""

from __future__ import annotations

import difflib
from functools import lru_cache
from zoneinfo import available_timezones

COMMON = ("Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "America/Sao_Paulo",
          "Africa/Lagos", "Asia/Kolkata", "Asia/Singapore", "Australia/Sydney", "UTC")


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    """Lower-case lookups: the full name and the city part ("kolkata", "new york")."""
    table: dict[str, str] = {}
    for zone in sorted(available_timezones()):
        if zone.startswith(("Etc/", "SystemV/")) or "/" not in zone and zone != "UTC":
            continue
        table[zone.lower()] = zone
        city = zone.rsplit("/", 1)[-1].replace("_", " ").lower()
        table.setdefault(city, zone)
    table["utc"] = "UTC"
    return table


def find_timezone(text: str) -> tuple[str | None, list[str]]:
    """(the zone, []) when clear; (None, close matches) otherwise."""
    key = " ".join(text.strip().lower().replace("_", " ").split())
    zones = _zones()
    if key in zones:
        return zones[key], []
    if key.replace(" ", "_") in zones:
        return zones[key.replace(" ", "_")], []
    close = difflib.get_close_matches(key, list(zones), n=5, cutoff=0.7)
    return None, list(dict.fromkeys(zones[c] for c in close))
