"""Sub-command groups of the ``clmsync`` command line, one module per area."""
