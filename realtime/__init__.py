"""The WebSocket hub (docs/ARCHITECTURE.md): protocol, connections, channels, bus relay, history, presence.

A generic hub that knows nothing about courses: the app hands it an authorizer, a token verifier and
handlers for application ops. It never imports `app` or `workers`, so it can be tested and measured alone.
"""
