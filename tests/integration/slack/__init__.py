"""The Slack channel and the reps' Slack buttons, against the real servers and a local Slack."""
