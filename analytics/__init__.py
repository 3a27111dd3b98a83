"""Conversation statistics from the events Rasa publishes to RabbitMQ (its own process: ``python -m analytics``)."""
