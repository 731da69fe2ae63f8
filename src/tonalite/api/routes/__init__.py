"""One router per resource; each module's `router(...)` builds it from the services it needs."""
