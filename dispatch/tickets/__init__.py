"""The agents' queue of tickets: one constructor (services.open_ticket), the priority of each kind
(kinds.py) and the structured summaries the console words in the agent's language (summaries.py)."""
