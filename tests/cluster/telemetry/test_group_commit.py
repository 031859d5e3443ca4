from tests.telemetry.test_group_commit import *  # noqa: F403
