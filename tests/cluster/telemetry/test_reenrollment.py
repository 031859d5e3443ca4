from tests.telemetry.test_reenrollment import *  # noqa: F403
