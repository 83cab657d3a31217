/// What every invariant sees besides the exchange: the shared model, the configuration, and a place
/// for notes (checks that were skipped and why).
public final class CheckContext {
    /// What the capture as a whole has shown so far (topics, offsets, advertised versions).
    public let model: CaptureModel
    /// The thresholds and the enabled invariants.
    public let configuration: CheckConfiguration
    /// Checks that could not run and why, each once, for the report.
    public private(set) var notes: [String] = []
    private var noteSet: Set<String> = []

    /// A context over `model` with `configuration`.
    public init(model: CaptureModel, configuration: CheckConfiguration) {
        self.model = model
        self.configuration = configuration
    }

    /// Adds a note once (repeats are ignored).
    public func note(_ text: String) {
        if noteSet.insert(text).inserted { notes.append(text) }
    }
}
