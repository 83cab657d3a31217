/// What every invariant sees besides the exchange: the shared model, the configuration, and a place
/// for notes (checks that were skipped and why).
public final class CheckContext {
    public let model: CaptureModel
    public let configuration: CheckConfiguration
    public private(set) var notes: [String] = []
    private var noteSet: Set<String> = []

    public init(model: CaptureModel, configuration: CheckConfiguration) {
        self.model = model
        self.configuration = configuration
    }

    /// Adds a note once (repeats are ignored).
    public func note(_ text: String) {
        if noteSet.insert(text).inserted { notes.append(text) }
    }
}
