"""registry/libraries."""
