"""Agency identity routes: verify, batch verify, lookup, predicates."""
