"""The web control panel: Jinja2 templates and htmx."""
