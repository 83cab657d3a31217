import NIOCore

/// The key (and, for transaction markers, the value) of the single record in a control batch.
///
/// Key: version int16, type int16 (Kafka's `ControlRecordType`). Transaction markers (ABORT, COMMIT) have
/// a value of version int16 and coordinator epoch int32 (`EndTransactionMarker`); KRaft control records
/// carry their own schemas, left as bytes here.
public struct KafkaControlRecord: Hashable, Sendable {
    /// The control record key's version (0).
    public var version: Int16
    /// Kafka's `ControlRecordType`: 0 ABORT, 1 COMMIT, and KRaft's own types from 2.
    public var type: Int16
    /// Present for ABORT and COMMIT markers whose value decoded.
    public var coordinatorEpoch: Int32?

    /// A control record from its fields.
    public init(version: Int16, type: Int16, coordinatorEpoch: Int32? = nil) {
        self.version = version
        self.type = type
        self.coordinatorEpoch = coordinatorEpoch
    }

    /// Decodes a control record's key (and marker value); nil when the key is not a control key.
    public init?(_ record: KafkaRecord) {
        guard let key = record.key, key.readableBytes >= 4,
            let version = key.getInteger(at: key.readerIndex, endianness: .big, as: Int16.self),
            let type = key.getInteger(at: key.readerIndex + 2, endianness: .big, as: Int16.self)
        else { return nil }
        var epoch: Int32?
        if type == 0 || type == 1, let value = record.value, value.readableBytes >= 6 {
            epoch = value.getInteger(at: value.readerIndex + 2, endianness: .big, as: Int32.self)
        }
        self.init(version: version, type: type, coordinatorEpoch: epoch)
    }

    /// Kafka's `ControlRecordType` name, lowercased ("abort", "commit", "leaderChange", ...).
    public var typeName: String {
        switch type {
        case 0: return "abort"
        case 1: return "commit"
        case 2: return "leaderChange"
        case 3: return "snapshotHeader"
        case 4: return "snapshotFooter"
        case 5: return "kraftVersion"
        case 6: return "kraftVoters"
        default: return "unknown(\(type))"
        }
    }
}
