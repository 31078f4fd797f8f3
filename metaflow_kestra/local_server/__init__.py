"""Provision and run a real Kestra server on this machine (H2 + local storage).

Modules, one job each: `settings` (versions, ports, where things live),
`maven` (cached, checksum-verified downloads), `java` (find Java 21+),
`kestra_config` (the server's configuration file), `server` (start, stop,
status), `connection` (how clients find the running server).
"""
