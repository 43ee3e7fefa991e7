"""Transition systems vhostmc checks: the PATCHv9 zero-copy TX path and its revisions."""
