/// Offsets, timestamps and sizes come from untrusted captures: arithmetic on them saturates instead
/// of trapping (an offset near Int64.max is wrong, not a reason to crash).
extension Int64 {
    func adding(_ other: Int64) -> Int64 {
        let (r, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : r
    }

    func subtracting(_ other: Int64) -> Int64 {
        let (r, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : r
    }
}
