/// What one framer's incomplete frame holds of the proxy-wide `BufferBudget`: its declared size (size
/// prefix included) from the moment the prefix is in until the frame is complete. Both framers
/// (client and upstream) keep one.
struct FrameReservation {
    /// Bytes held now.
    private(set) var bytes = 0

    /// Holds `needed` bytes instead of what is held now (0: nothing). False when the budget refused
    /// them: the connection has then recorded why and is closing, and nothing is held.
    mutating func settle(_ needed: Int, connection: ProxyConnection?, side: ProxyConnection.Side) -> Bool {
        guard needed != bytes else { return true }
        connection?.releaseBuffered(bytes)
        bytes = 0
        guard needed > 0 else { return true }
        guard connection?.reserveBuffered(needed, side: side) == true else { return false }
        bytes = needed
        return true
    }
}
