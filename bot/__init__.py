"""Rasa-side package: custom NLU components and channel connectors."""
