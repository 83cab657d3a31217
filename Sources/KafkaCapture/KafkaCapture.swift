// The capture file format (see docs/capture-format.md).
