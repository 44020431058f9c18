"""Which portals a command is about: the profiles named, or else every scheduled portal and every portal
the archive holds captures from (what ``crawl``, ``coverage`` and ``serve`` all mean by "the portals")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from spiders.profiles import PortalProfile, ProfileError
from spiders.registry import known as known_profiles

if TYPE_CHECKING:
    from archive import PortalScope


def portals_in(archive_dir: Path | str, names: Sequence[str] | None = None) -> list[PortalProfile]:
    """The profiles named (ProfileError for a name no profile has), or with no names every portal the
    scheduler harvests or the archive has captures from (the archive must exist then)."""
    from archive import Archive
    from scheduler import ScheduleConfig, scheduled_portals

    where = Path(archive_dir)
    known = known_profiles(where)  # TOML profiles and the archive's registry
    if names:
        if missing := [n for n in names if n not in known]:
            shown = sorted(known)[:50]
            raise ProfileError(f"no portal profile named {', '.join(missing)}; known: "
                               f"{', '.join(shown) or 'none'}{' …' if len(known) > len(shown) else ''} "
                               f"(add one with `nianbao portals add`, or many with `nianbao portals import`)")
        return [known[n] for n in names]
    scheduled = scheduled_portals(where, ScheduleConfig.load(where))
    with Archive.open(where, readonly=True) as a:
        hosts = set(a.hosts())
    return [p for n, p in known.items() if n in scheduled or hosts & set(p.allowed_hosts)]


def scopes(profiles: Iterable[PortalProfile]) -> list[PortalScope]:
    """What the archive's coverage needs of each profile."""
    from archive import PortalScope

    return [PortalScope(p.name, p.allowed_hosts, p.agency, p.deadline) for p in profiles]
