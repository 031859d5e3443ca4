"""A local multi-instance LearnFlow on loopback, for the fault tests and the benches (see harness.cluster)."""

from harness.cluster import Cluster, ManagedProcess, Stores

__all__ = ["Cluster", "ManagedProcess", "Stores"]
