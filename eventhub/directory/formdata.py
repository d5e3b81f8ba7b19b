"""What the directory's forms hand to its services (shared by participants' and
organizers' pages)."""

from __future__ import annotations

from eventhub.directory import services
from eventhub.directory.forms import ExperienceForm, SolutionForm
from eventhub.events import services as events


def solution_data(form: SolutionForm) -> services.SolutionData:
    """A solution as typed; a provider named for the first time becomes an organization."""
    provider = None
    if form.provider.data and form.provider.data.strip():
        provider = events.find_or_create_organization(form.provider.data)
    return services.SolutionData(
        name=form.name.data, summary=form.summary.data, description=form.description.data,
        provider_id=provider.id if provider else None, categories=form.categories.data or [],
        target_group=form.target_group.data, maturity=form.maturity.data,
        website=form.website.data)


def experience_data(form: ExperienceForm) -> services.ExperienceData:
    """An organization's experience with a solution, as typed."""
    return services.ExperienceData(**{name: form[name].data for name in (
        "status", "since", "scale", "effect_clinical", "effect_patient", "effect_economic",
        "effect_organisational", "lessons", "evidence_url")})
