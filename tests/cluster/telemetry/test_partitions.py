from tests.telemetry.test_partitions import *  # noqa: F403
