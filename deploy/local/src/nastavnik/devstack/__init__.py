"""Local all-in-one launcher: embedded NATS and PostgreSQL, the four services, a demo region."""
