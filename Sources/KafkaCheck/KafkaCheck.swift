// Protocol invariant checks over captures.
