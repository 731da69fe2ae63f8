"""The panel's pages, one module per part of the site; each builds its routes from the `Panel`."""
