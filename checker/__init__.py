"""vhostmc: a model checker for the Linux vhost-net zero-copy TX path."""

__version__ = "0.1.0"
