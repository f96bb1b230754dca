"""System-wide tests (every endpoint, the README, fuzzing) that span all the apps."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def callers(auth_client, staff_client, bot_client):
    """One client per kind of caller the API knows."""
    return {"anonymous": APIClient(), "user": auth_client, "staff": staff_client, "api_key": bot_client}
