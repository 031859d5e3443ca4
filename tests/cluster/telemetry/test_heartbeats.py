from tests.telemetry.test_heartbeats import *  # noqa: F403
