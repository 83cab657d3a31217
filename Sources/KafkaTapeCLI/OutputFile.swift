import Foundation

/// Writes a whole output file (mode 0644) that must not replace an existing file unless `overwrite`:
/// `O_EXCL` makes the check and the creation one step. Errors are one line naming the option and path.
func writeOutputFile(_ path: String, option: String, contents: Data, overwrite: Bool) throws {
    let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL)
    let fd = open(path, flags, mode_t(0o644))
    guard fd >= 0 else { throw UsageError("\(option) \(path): \(describeOpenFailure(errno))") }
    defer { close(fd) }
    let failure: Int32? = contents.withUnsafeBytes { raw -> Int32? in
        guard var p = raw.baseAddress else { return nil }
        var left = raw.count
        while left > 0 {
            let n = write(fd, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            p += n
            left -= n
        }
        return nil
    }
    if let failure { throw UsageError("\(option) \(path): write failed: \(String(cString: strerror(failure)))") }
}

/// What went wrong opening a file, in the words people search for.
func describeOpenFailure(_ code: Int32) -> String {
    switch code {
    case EEXIST: return "file exists (use --overwrite to replace it)"
    case EACCES, EPERM: return "permission denied"
    case ENOENT: return "no such file or directory"
    case EISDIR: return "is a directory"
    default: return String(cString: strerror(code)).lowercased()
    }
}
