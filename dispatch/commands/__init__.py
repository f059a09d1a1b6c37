"""The bigger `dispatch` subcommands; dispatch/cli.py builds the parser and calls them."""
