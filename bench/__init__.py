"""The benchmark: NLU quality per language, conversations, speed and resources against stock Rasa."""
