"""The `faxbot` command line."""
