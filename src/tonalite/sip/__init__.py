"""SIP, sans-IO: no asyncio, socket, time or database import anywhere in this package."""
