from tests.telemetry.test_worker_crash import *  # noqa: F403
