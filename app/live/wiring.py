from __future__ import annotations

from app.live.hub import AppAuthorizer, AppTokenVerifier, has_presence
from app.live.publisher import HubEventPublisher
from app.runtime import Runtime
from realtime.hub import Hub


async def start_hub(runtime: Runtime) -> Hub:
    """Start this process's hub and route domain events through it."""
    hub = Hub(
        runtime.redis,
        runtime.settings.hub_config(),
        verifier=AppTokenVerifier(runtime),
        authorizer=AppAuthorizer(runtime),
        presence_for=has_presence,
    )
    await hub.start()
    runtime.hub = hub
    runtime.events = HubEventPublisher(hub)
    return hub
