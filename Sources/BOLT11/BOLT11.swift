// BOLT11: see docs/ARCHITECTURE.md. Filled by its issue.
