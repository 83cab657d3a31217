import Foundation
import Testing

@testable import KafkaProtocolGenCore

/// Writes `text` to a temporary `.json` file and parses it the way the generator reads Kafka's spec
/// files (comments stripped, then JSON).
func parseSpec(_ text: String, name: String = "Test.json") throws -> MessageSpec {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kafkaprotocolgen-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return try MessageSpec(json: try loadSpec(url), source: "specs/" + name)
}

/// The field named `name` among `fields`.
func field(_ name: String, in fields: [Field]) throws -> Field {
    try #require(fields.first { $0.name == name }, "no field \(name) in \(fields.map(\.name))")
}

@Suite struct VersionSetTests {
    @Test func openRangeRunsToTheLastVersion() throws {
        let v = try VersionSet(spec: "3+")
        #expect(v.min == 3)
        #expect(v.max == VersionSet.maxVersion)
        #expect(!v.contains(2) && v.contains(3) && v.contains(63))
        #expect(v.ranges == [3...63])
    }

    @Test func closedRangeAndSingleVersion() throws {
        let range = try VersionSet(spec: "3-5")
        #expect(range.ranges == [3...5])
        #expect(range.description == "3-5")
        #expect(!range.contains(2) && range.contains(4) && !range.contains(6))
        let single = try VersionSet(spec: " 7 ")
        #expect(single.ranges == [7...7])
        #expect(single.description == "7")
    }

    @Test func noneAndEmptyAreEmpty() throws {
        #expect(try VersionSet(spec: "none").isEmpty)
        #expect(try VersionSet(spec: "").isEmpty)
        #expect(try VersionSet(spec: "none").min == nil)
    }

    @Test func malformedSpecsAreErrors() {
        for bad in ["x", "3-", "-3", "a+", "1-b", "1.5"] {
            #expect(throws: GenError.self, "\(bad)") { try VersionSet(spec: bad) }
        }
    }

    @Test func setOperationsAndRuns() throws {
        let a = try VersionSet(spec: "0-4")
        let b = try VersionSet(spec: "3+")
        #expect((a & b).ranges == [3...4])
        #expect((a | b).ranges == [0...63])
        #expect((a & ~b).ranges == [0...2])
        #expect(a.isSuperset(of: try VersionSet(spec: "1-2")))
        #expect(!a.isSuperset(of: b))
        let gappy = VersionSet(bits: 0b1011)
        #expect(gappy.ranges == [0...1, 3...3])
        #expect(gappy.description == "0-1,3")
    }
}

@Suite struct SpecParsingTests {
    /// A request in the shape of Kafka's files: the licence comment, comments between keys and after
    /// values, and `//` inside a string that must survive.
    static let commented = """
        // Licensed to the Apache Software Foundation (ASF) under one or more
        // contributor license agreements.

        {
          "apiKey": 99,
          "type": "request",
          "listeners": ["broker"],
          "name": "WidgetRequest",
          // Version 1 adds Color.
          // Version 2 is the first flexible version.
          "validVersions": "0-2",
          "flexibleVersions": "2+", // trailing comment
          "fields": [
            { "name": "WidgetId", "type": "int32", "versions": "0+", "entityType": "brokerId",
              "about": "See https://kafka.apache.org/protocol // not a comment" },
            { "name": "Color", "type": "string", "versions": "1+", "nullableVersions": "1+", "default": "null",
              "about": "The \\"color\\"." },
            { "name": "Retries", "type": "int16", "versions": "0+", "default": "-1" },
            { "name": "Enabled", "type": "bool", "versions": "0+", "default": true },
            { "name": "Ratio", "type": "float64", "versions": "0+", "default": 2.5 },
            { "name": "Hint", "type": "string", "versions": "2+", "taggedVersions": "2+", "tag": 0, "ignorable": true },
            { "name": "Parts", "type": "[]Part", "versions": "0+", "fields": [
              { "name": "Name", "type": "string", "versions": "0+", "mapKey": true },
              { "name": "Owner", "type": "Owner", "versions": "1+" }
            ]}
          ],
          "commonStructs": [
            { "name": "Owner", "versions": "0+", "fields": [
              { "name": "OwnerId", "type": "uuid", "versions": "0+" }
            ]}
          ]
        }
        """

    @Test func commentsAreStrippedButNotInsideStrings() throws {
        let spec = try parseSpec(Self.commented)
        #expect(spec.name == "WidgetRequest")
        #expect(spec.kind == "request")
        #expect(spec.apiKey == 99)
        #expect(spec.sources == ["specs/Test.json"])
        #expect(try field("WidgetId", in: spec.fields).about == "See https://kafka.apache.org/protocol // not a comment")
        #expect(try field("Color", in: spec.fields).about == "The \"color\".")
    }

    @Test func validAndFlexibleVersions() throws {
        let spec = try parseSpec(Self.commented)
        #expect(spec.valid.ranges == [0...2])
        #expect(spec.flexible.ranges == [2...63])
        #expect(!spec.latestVersionUnstable)
    }

    @Test func fieldVersionsNullabilityAndDefaults() throws {
        let spec = try parseSpec(Self.commented)
        let id = try field("WidgetId", in: spec.fields)
        #expect(id.type == .primitive("int32"))
        #expect(id.versions.ranges == [0...63])
        #expect(id.nullable.isEmpty)
        #expect(id.entityType == "brokerId")
        let color = try field("Color", in: spec.fields)
        #expect(color.versions.ranges == [1...63])
        #expect(color.nullable.ranges == [1...63])
        #expect(color.defaultValue == "null")
        #expect(try field("Retries", in: spec.fields).defaultValue == "-1")
        #expect(try field("Enabled", in: spec.fields).defaultValue == "true")
        #expect(try field("Ratio", in: spec.fields).defaultValue == "2.5")
    }

    @Test func taggedFields() throws {
        let spec = try parseSpec(Self.commented)
        let hint = try field("Hint", in: spec.fields)
        #expect(hint.tag == 0)
        #expect(hint.versions.ranges == [2...63])
        #expect(try field("Color", in: spec.fields).tag == nil)
    }

    @Test func taggedVersionsMustMatchVersions() {
        let text = """
            { "type": "request", "name": "BadRequest", "validVersions": "0-3", "flexibleVersions": "0+",
              "fields": [ { "name": "T", "type": "int32", "versions": "1+", "taggedVersions": "2+", "tag": 1 } ] }
            """
        #expect(throws: GenError.self) { try parseSpec(text) }
    }

    @Test func inlineStructsMapKeysAndCommonStructs() throws {
        let spec = try parseSpec(Self.commented)
        let parts = try field("Parts", in: spec.fields)
        #expect(parts.type == .array(.structure("Part")))
        #expect(parts.type.structName == "Part")
        let inline = try #require(parts.fields)
        #expect(inline.map(\.name) == ["Name", "Owner"])
        #expect(try field("Name", in: inline).mapKey)
        #expect(!(try field("Owner", in: inline).mapKey))
        #expect(try field("Owner", in: inline).type == .structure("Owner"))
        #expect(spec.commonStructOrder == ["Owner"])
        #expect(spec.commonStructs["Owner"]?.map(\.name) == ["OwnerId"])
        #expect(spec.commonStructs["Owner"]?.first?.type == .primitive("uuid"))
    }

    @Test func fieldTypes() throws {
        #expect(try FieldType("[]int32") == .array(.primitive("int32")))
        #expect(try FieldType("[][]string") == .array(.array(.primitive("string"))))
        #expect(try FieldType("records") == .primitive("records"))
        #expect(try FieldType("[]int32").structName == nil)
        #expect(throws: GenError.self) { try FieldType("int128") }
    }

    @Test func missingNameOrTypeIsAnError() {
        #expect(throws: GenError.self) { try parseSpec(#"{ "type": "request", "validVersions": "0" }"#) }
        #expect(throws: GenError.self) {
            try parseSpec(#"{ "type": "data", "name": "D", "validVersions": "0", "fields": [ { "name": "X", "versions": "0+" } ] }"#)
        }
        #expect(throws: (any Error).self) { try parseSpec("{ \"name\": ") }
    }

    @Test func aFieldLevelFlexibleVersionsOverride() throws {
        // RequestHeader's ClientId is the one field with its own flexibleVersions ("none").
        let spec = try parseSpec(
            """
            { "type": "header", "name": "RequestHeader", "validVersions": "0-2", "flexibleVersions": "2+",
              "fields": [ { "name": "ClientId", "type": "string", "versions": "1+", "nullableVersions": "1+",
                            "flexibleVersions": "none" } ] }
            """)
        let clientId = try field("ClientId", in: spec.fields)
        #expect(clientId.flexibleOverride == VersionSet.empty)
        #expect(Emitter(spec: spec, kafkaVersions: "test").compactExpression(clientId) == "false")
    }

    @Test func anOlderSpecAddsItsRemovedVersionsAndFields() throws {
        let new = try parseSpec(
            """
            { "apiKey": 5, "type": "request", "name": "ThingRequest", "validVersions": "2-4", "flexibleVersions": "3+",
              "fields": [
                { "name": "A", "type": "int32", "versions": "0+" },
                { "name": "C", "type": "string", "versions": "4+" } ] }
            """, name: "New.json")
        let old = try parseSpec(
            """
            { "apiKey": 5, "type": "request", "name": "ThingRequest", "validVersions": "0-3", "flexibleVersions": "3+",
              "fields": [
                { "name": "A", "type": "int32", "versions": "0+" },
                { "name": "B", "type": "int64", "versions": "0-1", "nullableVersions": "1" } ] }
            """, name: "Old.json")
        new.merge(older: old)
        #expect(new.valid.ranges == [0...4])
        // Flexible versions are cut to the merged valid ones.
        #expect(new.flexible.ranges == [3...4])
        #expect(new.sources == ["specs/New.json", "specs/Old.json"])
        // B only exists in versions the new spec dropped; it goes back after its predecessor A.
        #expect(new.fields.map(\.name) == ["A", "B", "C"])
        #expect(try field("B", in: new.fields).versions.ranges == [0...1])
        #expect(try field("B", in: new.fields).nullable.ranges == [1...1])
        #expect(try field("A", in: new.fields).versions.ranges == [0...4])
        #expect(try field("C", in: new.fields).versions.ranges == [4...4])
    }
}
