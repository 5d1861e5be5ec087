"""The floor: a bare Django view serving the same model, with no auth, no database and no middleware."""
