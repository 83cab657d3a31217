import Foundation

/// A fresh directory under the system temp dir, removed when `body` returns.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let dir = Harness.tempDirectory().path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

/// A fresh directory under the system temp dir, removed when `body` returns.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let dir = Harness.tempDirectory().path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try await body(dir)
}
