"""Local stand-ins for third-party services: real HTTP servers on loopback speaking their protocols."""
