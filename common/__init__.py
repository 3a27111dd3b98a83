"""What more than one process needs: languages, settings, Slack signatures and payloads."""
