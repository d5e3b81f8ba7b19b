"""The post-event report for a steering group: attendance, programme, poll results,
solutions with interest and experiences, follow-up status and reuse rate; SVG charts.

No participant is named: organizations, counts and the public programme only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import func, select

from eventhub import contributions
from eventhub.directory.models import (
    EXPERIENCE_STATUSES,
    Experience,
    Interest,
    Presentation,
    Solution,
)
from eventhub.events.models import REGION, Event, Organization
from eventhub.extensions import db
from eventhub.followup import dashboard
from eventhub.followup.mailing import ORG_KIND_LABELS
from eventhub.followup.models import STAGES
from eventhub.followup.services import (
    adoptions_per_month,
    require_staff,
    reuse_rates,
    stage_counts,
)
from eventhub.polls import charts
from eventhub.polls.models import KIND_LABELS, Poll
from eventhub.polls.tally import snapshot
from eventhub.programme.models import Session
from eventhub.programme.services import list_sessions
from eventhub.registration.models import CANCELLED, Registration

BRAND = "#0b5c54"


def empty_chart(why: str) -> Markup:
    """What stands where a chart would show nothing: why there is nothing to show."""
    return Markup('<p class="chart-empty">') + escape(why) + Markup("</p>")


def month_chart(months, title: str) -> Markup:
    """Vertical bars, one per month, the count above each bar (aria-hidden: a table
    beside it speaks); no adoptions yet: a sentence saying so."""
    if not any(n for _m, n in months):
        return empty_chart(_("Ingen leads er endt med genbrug endnu. Søjlerne kommer, når "
                             "det første lead flyttes til genbrug (kopi, tilpasning eller "
                             "inspiration)."))
    width, height, base, left = 640, 220, 180, 30
    top = max([n for _m, n in months] + [1])
    slot = (width - left - 10) / max(len(months), 1)
    bar = min(slot * 0.7, 48)
    parts = [f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" class="axis" '
             'stroke="#999"/>']
    for i, (month, n) in enumerate(months):
        x = left + i * slot + (slot - bar) / 2
        h = round((base - 30) * n / top)
        label = format_date(month, "MMM yy")
        parts.append(
            f'<g class="month"><rect x="{x:.1f}" y="{base - h}" width="{bar:.1f}" '
            f'height="{h}" rx="3" class="bar-fill" fill="{BRAND}"/>'
            f'<text x="{x + bar / 2:.1f}" y="{base - h - 6}" text-anchor="middle" '
            f'class="bar-value">{n}</text>'
            f'<text x="{x + bar / 2:.1f}" y="{base + 18}" text-anchor="middle" '
            f'class="bar-label">{escape(label)}</text></g>')
    return Markup(
        f'<svg class="chart months" viewBox="0 0 {width} {height}" role="img" '
        f'aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">'
        f'<title>{escape(title)}</title>' + "".join(parts) + "</svg>")


def paint(chart: Markup | None) -> Markup | None:
    """Colours as SVG attributes too: WeasyPrint ignores the page's CSS ``fill`` (and a
    browser's CSS still wins over attributes, so the page keeps its theme)."""
    if not chart:
        return chart
    return Markup(str(chart).replace('class="bar-fill"', f'class="bar-fill" fill="{BRAND}"')
                  .replace('class="word"', f'class="word" fill="{BRAND}"'))


def _bars(rows: list[tuple[str, int]], title: str, why_empty: str,
          total: int | None = None) -> Markup:
    """Horizontal bars through the polls' chart (count and share of ``total``); with
    nothing to count, ``why_empty``."""
    if not any(n for _l, n in rows):
        return empty_chart(why_empty)
    total = total if total is not None else sum(n for _l, n in rows)
    snap = {"options": [{"id": i, "label": label, "count": n,
                         "percent": round(100 * n / total) if total else 0}
                        for i, (label, n) in enumerate(rows)]}
    return paint(charts.bar_chart(snap, title))


@dataclass
class Attendance:
    label: str
    registered: int = 0
    checked_in: int = 0


def attendance(event: Event) -> tuple[list[Attendance], list[Attendance]]:
    """(by organization kind, by region) of registrations that are not cancelled."""
    regions = dict(db.session.execute(select(Organization.code, Organization.name).where(
        Organization.kind == REGION)).all())
    by_kind: dict[str, Attendance] = {}
    by_region: dict[str, Attendance] = {}
    rows = db.session.execute(
        select(Organization.kind, Organization.code, Organization.region_code,
               Registration.checked_in_at.is_not(None), func.count())
        .select_from(Registration)
        .outerjoin(Organization, Organization.id == Registration.organization_id)
        .where(Registration.event_id == event.id, Registration.status != CANCELLED)
        .group_by(Organization.kind, Organization.code, Organization.region_code,
                  Registration.checked_in_at.is_not(None))).all()
    none = _("Uden region")
    for kind, code, region_code, checked, n in rows:
        kind_label = str(ORG_KIND_LABELS.get(kind or "other", kind))
        region = regions.get(region_code or (code if kind == REGION else None), none)
        for table, key in ((by_kind, kind_label), (by_region, region)):
            item = table.setdefault(key, Attendance(key))
            item.registered += n
            item.checked_in += n if checked else 0
    order = list(map(str, ORG_KIND_LABELS.values()))
    kinds = sorted(by_kind.values(), key=lambda a: order.index(a.label)
                   if a.label in order else 99)
    regions_sorted = sorted(by_region.values(), key=lambda a: (a.label == none, a.label))
    return kinds, regions_sorted


@dataclass
class SolutionReport:
    solution: Solution
    sessions: list[str]
    learn: int
    use: int
    experiences: list[Experience] = field(default_factory=list)


def solutions_presented(event: Event) -> list[SolutionReport]:
    rows = db.session.execute(
        select(Solution, Session.title).join(Presentation, Presentation.solution_id == Solution.id)
        .join(Session, Session.id == Presentation.session_id)
        .where(Session.event_id == event.id).order_by(Solution.name, Session.starts_at)).all()
    found: dict[int, SolutionReport] = {}
    for solution, title in rows:
        found.setdefault(solution.id, SolutionReport(solution, [], 0, 0)).sessions.append(title)
    if not found:
        return []
    for sid, kind, n in db.session.execute(
            select(Interest.solution_id, Interest.kind, func.count())
            .join(Registration, Registration.id == Interest.registration_id)
            .where(Interest.solution_id.in_(found), Registration.event_id == event.id)
            .group_by(Interest.solution_id, Interest.kind)):
        setattr(found[sid], "learn" if kind == "learn" else "use", n)
    for exp in db.session.scalars(
            select(Experience).join(Organization, Organization.id == Experience.organization_id)
            .where(Experience.solution_id.in_(found), Experience.draft.is_(False))
            .order_by(Experience.status, Organization.name)):
        found[exp.solution_id].experiences.append(exp)
    return list(found.values())


def poll_results(event: Event) -> list[dict[str, Any]]:
    results = []
    for poll in db.session.scalars(select(Poll).where(Poll.event_id == event.id)
                                   .order_by(Poll.position, Poll.id)):
        snap = snapshot(poll)
        chart = None
        if "options" in snap and not snap.get("voters"):
            chart = empty_chart(_("Ingen har stemt i denne afstemning."))
        elif "options" in snap:
            chart = paint(charts.bar_chart(snap, poll.question))
        elif snap.get("words"):
            chart = paint(charts.word_cloud(snap, poll.question))
        elif "words" in snap:
            chart = empty_chart(_("Ingen har givet et ord i denne afstemning."))
        results.append({"poll": poll, "snap": snap, "chart": chart,
                        "kind": KIND_LABELS[poll.kind]})
    return results


def build(actor, event: Event) -> dict[str, Any]:
    """Everything the report template needs."""
    require_staff(actor, event)
    kinds, regions = attendance(event)
    total, per_solution = reuse_rates(event)
    months = adoptions_per_month(event)
    stages = stage_counts(event)
    figures = dashboard.figures(event)
    return {
        "event": event,
        "figures": figures,
        "kinds": kinds,
        "regions": regions,
        "kind_chart": _bars([(a.label, a.registered) for a in kinds],
                            _("Deltagere efter type organisation"),
                            _("Ingen er tilmeldt endnu, så der er ingen at tælle.")),
        "region_chart": _bars([(a.label, a.registered) for a in regions],
                              _("Deltagere efter region"),
                              _("Ingen tilmeldte kommer fra en kommune eller region, der "
                                "hører til en region.")),
        "sessions": list_sessions(event, include_cancelled=False),
        "polls": poll_results(event),
        "solutions": solutions_presented(event),
        "experience_statuses": EXPERIENCE_STATUSES,
        "stages": stages,
        "stage_labels": STAGES,
        "stage_chart": _bars([(str(STAGES[s]), n) for s, n in stages.items()],
                             _("Leads efter fase"),
                             _("Der er ingen leads endnu. Hent dem fra interesserne, eller "
                               "opret dem i opfølgningen.")),
        "reuse_total": total,
        "reuse": per_solution,
        # Each bar: adopted leads, with the solution's reuse rate in brackets.
        "reuse_chart": paint(charts.bar_chart({"options": [
            {"id": i, "label": r.name, "count": r.adopted, "percent": r.rate or 0}
            for i, r in enumerate(per_solution)]}, _("Genbrug pr. løsning")))
        if per_solution else None,
        "months": months,
        "month_chart": month_chart(months, _("Genbrug pr. måned efter arrangementet")),
        # Sections other domains add (add_section): [(template, its context)].
        "sections": [(template, fn(event)) for template, fn in
                     contributions.of(REPORT_SECTIONS)],
    }


REPORT_SECTIONS = "followup.report_sections"


def add_section(app, template: str, context) -> None:
    """Show ``template`` at the end of the report (page and PDF), given ``context(event)``
    (a domain above follow-up adds its figures this way in its ``init_app``)."""
    contributions.add(app, REPORT_SECTIONS, (template, context))
