"""Admin person reads and unmerge: /api/v1/persons/{id}..."""
