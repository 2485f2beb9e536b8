"""Collection operations: strategy and work lists, agents, compliance, experiments."""
