"""Properties vhostmc checks, each a named, documented predicate over the state."""
