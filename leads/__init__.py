"""The lead pipeline: storage, scoring, routing, delivery, notifications, the leads server and CLI."""
