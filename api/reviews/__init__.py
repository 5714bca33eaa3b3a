"""Admin review queue: GET/POST /api/v1/reviews..."""
