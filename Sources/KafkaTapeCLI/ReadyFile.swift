import ArgumentParser
import Foundation

/// `--ready-file PATH`, shared by `record` and `serve`: once listening, the bound bootstrap address
/// (`HOST:PORT` and a newline) is written to PATH atomically (a temporary file in the same folder,
/// then a rename), so a pytest fixture or a Go `TestMain` can wait for the file instead of polling
/// the port or parsing stderr. The file is removed again when the command stops.
struct ReadyFileOption: ParsableArguments {
    @Option(help: "Once listening, write HOST:PORT of the bootstrap listener to this file (atomically); removed at exit.")
    var readyFile: String?

    func validate() throws {
        guard let readyFile else { return }
        let dir = (readyFile as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.isEmpty ? "." : dir, isDirectory: &isDir), isDir.boolValue else {
            throw ValidationError("--ready-file \(readyFile): the folder \(dir.isEmpty ? "." : dir) does not exist")
        }
    }

    /// Writes `address` to the ready file, if one was asked for.
    func announce(_ address: String) throws {
        guard let readyFile else { return }
        let url = URL(fileURLWithPath: readyFile)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        do {
            try Data((address + "\n").utf8).write(to: temporary)
            if rename(temporary.path, url.path) != 0 {
                throw UsageError("--ready-file \(readyFile): cannot rename into place: \(String(cString: strerror(errno)))")
            }
        } catch let e as UsageError {
            throw e
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw UsageError("--ready-file \(readyFile): \(error.localizedDescription)")
        }
    }

    /// Removes the ready file (the server is no longer there).
    func withdraw() {
        guard let readyFile else { return }
        try? FileManager.default.removeItem(atPath: readyFile)
    }
}
