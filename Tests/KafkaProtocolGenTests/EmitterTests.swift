import Foundation
import Testing

@testable import KafkaProtocolGenCore

@Suite struct EmitterTests {
    /// Valid 0-4, flexible from 3, fields that come and go with the version.
    static let gated = """
        { "apiKey": 97, "type": "request", "name": "GatedRequest", "validVersions": "0-4", "flexibleVersions": "3+",
          "fields": [
            { "name": "Always", "type": "int32", "versions": "0+" },
            { "name": "Added", "type": "int64", "versions": "2+" },
            { "name": "Removed", "type": "int16", "versions": "0-1" },
            { "name": "Middle", "type": "bool", "versions": "1-3" },
            { "name": "Tagged", "type": "string", "versions": "3+", "taggedVersions": "3+", "tag": 7 },
            { "name": "LaterTag", "type": "int32", "versions": "4+", "taggedVersions": "4+", "tag": 2 }
          ] }
        """

    func emitter(_ text: String) throws -> Emitter {
        Emitter(spec: try parseSpec(text), kafkaVersions: "Kafka test")
    }

    /// The lines of `text` between the line containing `start` and the next line at that indentation
    /// that is `}`.
    func function(_ start: String, in text: String) throws -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let i = try #require(lines.firstIndex { $0.contains(start) }, "no \(start)")
        let indent = lines[i].prefix { $0 == " " }
        let end = try #require(lines[(i + 1)...].firstIndex { $0 == indent + "}" }, "\(start) does not end")
        return lines[i...end].joined(separator: "\n")
    }

    @Test func versionConditionsLeaveOutTheValidRangesEnds() throws {
        let e = try emitter(Self.gated)
        #expect(e.condition(try VersionSet(spec: "0+")) == nil)
        #expect(e.condition(try VersionSet(spec: "2+")) == "version >= 2")
        #expect(e.condition(try VersionSet(spec: "0-1")) == "version <= 1")
        #expect(e.condition(try VersionSet(spec: "1-3")) == "version >= 1 && version <= 3")
        #expect(e.condition(try VersionSet(spec: "4")) == "version == 4")
        #expect(e.condition(try VersionSet(spec: "none")) == "false")
        #expect(e.condition(VersionSet(bits: 0b01010)) == "(version == 1) || (version == 3)")
        // Versions outside the valid ones do not matter: 3-9 is "from 3" when the last valid one is 4.
        #expect(e.condition(try VersionSet(spec: "3-9")) == "version >= 3")
    }

    @Test func theEncoderWritesEachFieldOnlyInItsVersions() throws {
        let encode = try function("public func encode(to w: inout KafkaWriter, version: Int16)", in: try emitter(Self.gated).emitFile())
        let expected = """
                public func encode(to w: inout KafkaWriter, version: Int16) {
                    let flexible = version >= 3
                    w.writeInt32(self.always)
                    if version >= 2 {
                        w.writeInt64(self.added)
                    }
                    if version <= 1 {
                        w.writeInt16(self.removed)
                    }
                    if version >= 1 && version <= 3 {
                        w.writeBool(self.middle)
                    }
                    if flexible {
                        var tagged = KafkaTaggedFieldWriter()
                        if version == 4, let value = self.laterTag {
                            tagged.add(2) {
                                (tw: inout KafkaWriter) in
                                tw.writeInt32(value)
                            }
                        }
                        if version >= 3, let value = self.tagged {
                            tagged.add(7) {
                                (tw: inout KafkaWriter) in
                                tw.writeString(value, compact: flexible)
                            }
                        }
                        tagged.write(to: &w, unknown: self.unknownTaggedFields)
                    }
                }
            """
        #expect(encode == expected)
    }

    @Test func theDecoderReadsTheSameVersionsAndKeepsUnknownTags() throws {
        let decode = try function("public init(from r: inout KafkaReader, version: Int16)", in: try emitter(Self.gated).emitFile())
        #expect(decode.contains("let flexible = version >= 3"))
        #expect(decode.contains("if version >= 2 {\n            do {\n                self.added = try r.readInt64()"))
        #expect(decode.contains("if version <= 1 {\n            do {\n                self.removed = try r.readInt16()"))
        #expect(decode.contains("case 2 where version == 4:"))
        #expect(decode.contains("case 7 where version >= 3:"))
        #expect(decode.contains("self.unknownTaggedFields.append(KafkaTaggedField(tag: tag, data: tagReader.buffer))"))
        // Untagged fields come in spec order; tagged ones are never read in the untagged part.
        let always = try #require(decode.range(of: "self.always = "))
        let middle = try #require(decode.range(of: "self.middle = "))
        #expect(always.lowerBound < middle.lowerBound)
        #expect(!decode.contains("self.tagged = try r.readString"))
    }

    @Test func aTinyMessageIsEmittedExactly() throws {
        let spec = try parseSpec(
            """
            { "apiKey": 98, "type": "request", "name": "TinyRequest", "validVersions": "0-1", "flexibleVersions": "none",
              "fields": [
                { "name": "Id", "type": "int32", "versions": "0+", "default": "-1", "about": "The id." },
                { "name": "Label", "type": "string", "versions": "1+", "nullableVersions": "1+", "about": "A label." }
              ] }
            """, name: "TinyRequest.json")
        let text = try Emitter(spec: spec, kafkaVersions: "Kafka test").emitFile()
        let expected = """
            // DO NOT EDIT. Generated by KafkaProtocolGen from specs/TinyRequest.json (Kafka test).
            // Regenerate with tools/generate-protocol; tools/check-generated verifies this file.

            import NIOCore

            /// Kafka API key 98, versions 0-1.
            public struct TinyRequest: KafkaMessage {
                public static let apiKey: Int16 = 98
                public static let kind: KafkaMessageKind = .request
                public static let schemaName = "TinyRequest"
                public static let versions: ClosedRange<Int16> = 0...1
                public static let firstFlexibleVersion: Int16? = nil

                /// The id.
                /// (versions 0-1)
                public var id: Int32 = -1
                /// A label.
                /// (versions 1; nullable 1)
                public var label: String? = ""
                public var unknownTaggedFields: [KafkaTaggedField] = []

                public init() {}

                public init(from r: inout KafkaReader, version: Int16) throws(KafkaDecodingError) {
                    self.init()
                    do {
                        self.id = try r.readInt32()
                    }
                    catch { throw error.at("Id") }
                    if version == 1 {
                        do {
                            self.label = try r.readNullableString(compact: false)
                        }
                        catch { throw error.at("Label") }
                    }
                }

                public func encode(to w: inout KafkaWriter, version: Int16) {
                    w.writeInt32(self.id)
                    if version == 1 {
                        w.writeNullableString(self.label, compact: false)
                    }
                }

                public func kafkaValue(version: Int16) -> KafkaValue {
                    var o = KafkaObject()
                    o.append("Id", self.id.kafkaValue(version: version))
                    if version == 1 { o.append("Label", self.label.kafkaValue(version: version)) }
                    if !self.unknownTaggedFields.isEmpty { o.append("_unknownTaggedFields", self.unknownTaggedFields.kafkaValue(version: version)) }
                    return .object(o)
                }

                public mutating func setField(_ path: ArraySlice<KafkaFieldStep>, to value: KafkaValue, version: Int16) -> Bool {
                    guard case .field(let name)? = path.first else { return false }
                    let rest = path.dropFirst()
                    switch name {
                    case "Id": return self.id.setField(rest, to: value, version: version)
                    case "Label": guard version == 1 else { return false }; return self.label.setField(rest, to: value, version: version)
                    default: return false
                    }
                }
            }

            """
        #expect(text == expected)
    }

    @Test func structsAreEmittedOnceInFirstUseOrder() throws {
        let e = try emitter(SpecParsingTests.commented)
        #expect(try e.structs().map(\.name) == ["Part", "Owner"])
        let text = try e.emitFile()
        #expect(text.contains("extension WidgetRequest {\n    public struct Part: KafkaStruct {"))
        #expect(text.contains("extension WidgetRequest {\n    public struct Owner: KafkaStruct {"))
        #expect(text.components(separatedBy: "public struct Owner").count == 2)
        #expect(text.contains("/// (versions 0-2; map key)"))
        #expect(text.contains("/// (versions 0-2; entity brokerId)"))
        #expect(text.contains("public var hint: String? = nil"))
        #expect(text.contains("/// (versions 2; tag 0, absent when nil)"))
    }

    @Test func anUndefinedStructIsAnError() throws {
        let e = try emitter(
            """
            { "type": "data", "name": "Broken", "validVersions": "0", "flexibleVersions": "none",
              "fields": [ { "name": "X", "type": "Missing", "versions": "0+" } ] }
            """)
        #expect(throws: GenError.self) { try e.emitFile() }
    }

    @Test func flexibleVersionsMustBeASuffixOfTheValidOnes() throws {
        let e = try emitter(
            """
            { "type": "data", "name": "Odd", "validVersions": "0-4", "flexibleVersions": "1-2",
              "fields": [ { "name": "X", "type": "int8", "versions": "0+" } ] }
            """)
        #expect(throws: GenError.self) { try e.emitFile() }
    }

    @Test func defaultsBecomeSwiftLiterals() throws {
        let e = try emitter(SpecParsingTests.commented)
        let fields = e.spec.fields
        #expect(e.defaultExpression(try field("WidgetId", in: fields)) == "0")
        #expect(e.defaultExpression(try field("Retries", in: fields)) == "-1")
        #expect(e.defaultExpression(try field("Enabled", in: fields)) == "true")
        #expect(e.defaultExpression(try field("Ratio", in: fields)) == "2.5")
        #expect(e.defaultExpression(try field("Color", in: fields)) == "nil")
        #expect(e.defaultExpression(try field("Hint", in: fields)) == "nil")
        #expect(e.defaultExpression(try field("Parts", in: fields)) == "[]")
        #expect(e.propertyType(try field("Color", in: fields)) == "String?")
        #expect(e.propertyType(try field("Hint", in: fields)) == "String?")
        #expect(e.propertyType(try field("Parts", in: fields)) == "[Part]")
        #expect(e.swiftStringLiteral("a\"b\\c\nd") == #""a\"b\\c\nd""#)
    }

    @Test func propertyNames() {
        #expect(Emitter.propertyName("TopicName") == "topicName")
        #expect(Emitter.propertyName("IsrNodes") == "isrNodes")
        #expect(Emitter.propertyName("UUID") == "uuid")
        #expect(Emitter.propertyName("Default") == "`default`")
        #expect(Emitter.propertyName("Protocol") == "`protocol`")
        #expect(Emitter.propertyName("X") == "x")
        // What the comment on propertyName says: the capital that starts the next word stays.
        #expect(Emitter.propertyName("ACLs") == "acLs")
    }
}
