"""The check-in door's tests share one event with tickets and a signed-in door device."""

from __future__ import annotations

import pytest

from tests.support.client import Client
from tests.support.door import make_door_event, staff_client


@pytest.fixture
def event_id(app):
    return make_door_event(app)


@pytest.fixture
def staff(app, event_id) -> Client:
    return staff_client(app, event_id)
