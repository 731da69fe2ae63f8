"""The asyncio edge: the only place with sockets and loop timers."""
