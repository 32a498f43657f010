"""The console transcript fixtures of tests/flows, for the corpus tests."""

from tests.flows.conftest import chat, dispatcher  # noqa: F401
