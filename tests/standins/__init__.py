"""Local stand-ins for third-party services: real HTTP servers on loopback that speak the provider's protocol."""
