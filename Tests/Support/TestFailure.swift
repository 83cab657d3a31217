/// Why a test helper gave up: a process that did not start or answer, a socket that failed.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ s: String) { description = s }
}
