"""Telephony logic; speaks to the call core and the services, never to SIP or sockets."""
