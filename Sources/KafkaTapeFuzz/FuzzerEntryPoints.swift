#if FUZZING
extension FuzzTarget {
    /// The target chosen by the first argument; set in main before `LLVMFuzzerRunDriver` starts, read
    /// by the callback on the thread the driver runs inputs on.
    nonisolated(unsafe) static var selected: FuzzTarget = .frame
}

/// Runs one input against the selected target.
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else {
        FuzzTarget.selected.run(UnsafeRawBufferPointer(start: nil, count: 0))
        return 0
    }
    FuzzTarget.selected.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// `-sanitize=fuzzer` links libFuzzer's `FuzzerMain.o`, whose `main` references this symbol. Our
/// `main` (SwiftPM's `--defsym main=KafkaTapeFuzz_main`) is the one that runs and calls
/// `LLVMFuzzerRunDriver`, but the link still needs the symbol; it runs the same target.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzOneInput(data, size)
}
#endif
