"""The API's shapes as pydantic models: requests are validated by them (unknown fields,
wrong types and overlong strings refused) and the OpenAPI document is made from them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL")
    return value


def text(max_length: int, min_length: int = 0):
    return Annotated[str, StringConstraints(max_length=max_length, min_length=min_length),
                     AfterValidator(_no_nul)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(extra="forbid")


T = TypeVar("T")


# Queries -------------------------------------------------------------------------------


class ListQuery(BaseModel):
    """Paging: ``limit`` rows after ``cursor`` (the previous page's ``next_cursor``)."""

    model_config = ConfigDict(extra="ignore")
    limit: int = Field(50, ge=1, le=100, description="Rows per page (1–100).")
    cursor: text(200) | None = Field(None, description="next_cursor of the previous page.")


class ChangedQuery(ListQuery):
    updated_since: datetime | None = Field(
        None, description="Only rows changed at or after this time (ISO 8601 with zone).")


class RegistrationQuery(ChangedQuery):
    status: Literal["pending", "confirmed", "waitlisted", "cancelled"] | None = None


class Page(Output, Generic[T]):
    data: list[T]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; "
                                                "null on the last page.")


# Resources --------------------------------------------------------------------------------


class EventOut(Output):
    slug: str
    title: str
    description: str
    venue: str
    status: Literal["draft", "published", "closed", "archived"]
    starts_at: datetime
    ends_at: datetime
    capacity: int | None
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    url: str
    updated_at: datetime


class RoomOut(Output):
    id: int
    name: str
    capacity: int | None


class SpeakerOut(Output):
    id: int
    session_id: int
    name: str
    organization: str
    registration_id: int | None


class SessionOut(Output):
    id: int
    title: str
    description: str
    kind: str
    status: str
    starts_at: datetime
    ends_at: datetime
    room_id: int | None
    track: str | None
    signup_capacity: int | None
    speakers: list[SpeakerOut]
    updated_at: datetime


class RegistrationOut(Output):
    id: int
    name: str
    email: str
    organization: str | None
    job_title: str
    status: Literal["pending", "confirmed", "waitlisted", "cancelled"]
    badge_role: str
    checked_in_at: datetime | None
    directory_consent: bool
    answers: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class RegistrationIn(Input):
    name: text(200, 1)
    email: text(254, 1)
    organization: text(200, 1)
    job_title: text(200) = ""
    organization_kind: Literal["municipality", "region", "company", "knowledge",
                               "other"] | None = None
    answers: dict[Annotated[str, StringConstraints(pattern=r"^[0-9]{1,9}$")],
                  text(2000) | list[text(200)] | bool | None] = Field(
        default_factory=dict, max_length=100,
        description="Answers to the event's questions by question id.")
    directory_consent: bool = False
    notify: bool = Field(True, description="Send the participant the usual mails.")


class CancelIn(Input):
    notify: bool = True


class CheckInIn(Input):
    registration_id: int | None = Field(None, ge=1, le=2**31 - 1)
    ticket_code: text(64) | None = None


class CheckInOut(Output):
    registration_id: int
    checked_in_at: datetime
    first_time: bool = Field(description="False when the person was checked in before.")


class PollOptionOut(Output):
    id: int
    label: str


class PollOut(Output):
    id: int
    session_id: int | None
    question: str
    kind: str
    status: Literal["draft", "open", "closed"]
    options: list[PollOptionOut]
    opened_at: datetime | None
    closed_at: datetime | None


class PollResultsOut(Output):
    poll_id: int
    status: str
    votes: int
    results: dict[str, Any] = Field(description="The poll's tally, as on the projector.")


class SolutionOut(Output):
    id: int
    name: str
    summary: str
    provider: str | None
    maturity: str
    website: str
    updated_at: datetime


class ExperienceOut(Output):
    id: int
    solution_id: int
    organization: str
    status: str
    since: date | None
    effect_clinical: str
    effect_patient: str
    effect_economic: str
    effect_organisational: str
    updated_at: datetime


class LeadOut(Output):
    id: int
    solution_id: int | None
    organization: str | None
    registration_id: int | None
    stage: str
    drop_reason: str
    due_on: date | None
    adopted_at: datetime | None
    created_at: datetime
    updated_at: datetime


class LeadStageIn(Input):
    stage: Literal["new", "contacted", "meeting", "adopted_copy", "adopted_adaptation",
                   "adopted_inspiration", "dropped"]
    reason: text(300) = ""
    note: text(2000) = ""


class FieldError(Output):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] | None = None
