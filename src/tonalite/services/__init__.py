"""Control-plane logic shared by the API, the panel, the CLI and the features; owns tenancy checks."""
