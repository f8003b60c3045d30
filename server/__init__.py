"""What runs: domain logic, the store node, central, settings and the CLI."""
