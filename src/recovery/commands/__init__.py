"""Sub-commands of the ``recovery`` CLI: one module each, exposing ``command``."""
