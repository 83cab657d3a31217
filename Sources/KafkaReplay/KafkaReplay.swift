// Replay, serve (mock broker), normalisation and diff.
