"""The Rasa action server: reading facts, the form, the qualification order, answers."""
