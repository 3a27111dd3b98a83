"""Rasa-side package: custom NLU components and channel connectors.

Any Rasa process that loads one of them (the model's NLU components, the
channels of ``credentials.yml``) sends the action server the slimmer calls of
``bot.action_calls``.
"""

from bot import action_calls

action_calls.register()
