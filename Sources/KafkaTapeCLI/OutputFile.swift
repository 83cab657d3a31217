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

/// Refuses, before any long work, an output file that `writeOutputFile` would fail to write at the end
/// of it: one that exists (without `overwrite`), is a directory, or lies in a folder that does not exist
/// or cannot be written. Errors are one line naming the option and path. (The file is not created here:
/// a run that fails must not leave an empty one behind.)
func refuseUnwritableOutput(_ path: String, option: String, overwrite: Bool) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
        if isDirectory.boolValue { throw UsageError("\(option) \(path): \(describeOpenFailure(EISDIR))") }
        if !overwrite { throw UsageError("\(option) \(path): \(describeOpenFailure(EEXIST))") }
        if access(path, W_OK) != 0 { throw UsageError("\(option) \(path): \(describeOpenFailure(errno))") }
        return
    }
    let folder = (path as NSString).deletingLastPathComponent
    let dir = folder.isEmpty ? "." : folder
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw UsageError("\(option) \(path): the folder \(dir) does not exist")
    }
    if access(dir, W_OK | X_OK) != 0 { throw UsageError("\(option) \(path): \(describeOpenFailure(errno))") }
}
