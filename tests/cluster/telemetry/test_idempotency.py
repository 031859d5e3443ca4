from tests.telemetry.test_idempotency import *  # noqa: F403
