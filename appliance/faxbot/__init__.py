"""Faxbot: a static-config GitOps fax appliance."""
