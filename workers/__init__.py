"""Redis Stream consumers: telemetry folding, live leaderboards, live analytics.

Workers use `app`'s stores and services and publish through the realtime bus; only `app.cli` and the
tests import this package.
"""
