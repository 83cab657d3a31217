// The `KafkaTape` library: one import for what the `kafkatape` command line does.
//
//   - capture files: `CaptureWriter`, `AsyncCaptureWriter`, `CaptureReader`, and the sinks the proxy and
//     replay write through, `ProxyCaptureSink` and `FileCaptureSink` (KafkaCapture)
//   - broker addresses: `HostPort`, `NodeAddressMap`, `AddressRewriter` (KafkaEndpoints)
//   - the proxy: `KafkaProxyServer`, `ProxyConfiguration`, `MetricsServer` (KafkaProxy)
//   - sessions, replay, serve, diff, matrix: `RecordedSession`, `Replayer`, `CaptureServer`,
//     `CaptureDiff`, `MatrixRunner`, `VersionMatrix` (KafkaReplay)
//   - checks: `CheckEngine`, `CheckReport`, `InvariantCatalog` (KafkaCheck), and `checkCapture(path:)`
//   - HTML pages: `CaptureReport`, `DiffPage` (KafkaReport)
//   - the codec: `KafkaFrameCodec`, the generated messages, record batches (KafkaProtocol)
//
// `KafkaProxyServer` and `CaptureServer` are swift-service-lifecycle `Service`s, so a server joins a
// `ServiceGroup` with graceful shutdown on SIGTERM like any other.

@_exported import KafkaCapture
@_exported import KafkaCheck
@_exported import KafkaEndpoints
@_exported import KafkaProtocol
@_exported import KafkaProxy
@_exported import KafkaReplay
@_exported import KafkaReport
