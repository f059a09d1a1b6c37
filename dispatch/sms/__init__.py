"""The SMS channel: inbound webhooks, the reply parser, dialogues, and outbound sending."""
