import NIOCore

@testable import KafkaProtocol

/// SplitMix64: a tiny seeded generator so every round-trip run is reproducible.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True one time in `n`.
    mutating func chance(_ n: UInt64) -> Bool { next() % n == 0 }

    mutating func array<T>(depth: Int, _ element: (inout SeededRandom) -> T) -> [T] {
        let count = depth > 3 ? 0 : Int(next() % 4)
        var a: [T] = []
        for _ in 0..<count { a.append(element(&self)) }
        return a
    }

    mutating func bytes() -> ByteBuffer {
        let n = Int(next() % 24)
        var b = ByteBuffer()
        for _ in 0..<n { b.writeInteger(UInt8(truncatingIfNeeded: next())) }
        return b
    }

    mutating func string() -> String {
        let alphabet = Array("abcXYZ019_-. é€😀")
        let n = Int(next() % 12)
        return String((0..<n).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] })
    }

    /// Tags no schema defines, ascending, with random payloads.
    mutating func unknownTaggedFields() -> [KafkaTaggedField] {
        var tag = UInt32(1000 + next() % 50)
        var out: [KafkaTaggedField] = []
        for _ in 0..<Int(1 + next() % 2) {
            out.append(KafkaTaggedField(tag: tag, data: bytes()))
            tag += UInt32(1 + next() % 300)
        }
        return out
    }
}

protocol ArbitraryKafkaStruct: KafkaStruct {
    static func arbitrary(version: Int16, rng: inout SeededRandom, depth: Int) -> Self
}

protocol ArbitraryKafkaMessage: ArbitraryKafkaStruct, KafkaMessage {}

protocol ArbitraryPrimitive {
    static func arbitrary(_ rng: inout SeededRandom) -> Self
}

extension Int8: ArbitraryPrimitive { static func arbitrary(_ rng: inout SeededRandom) -> Int8 { Int8(truncatingIfNeeded: rng.next()) } }
extension Int16: ArbitraryPrimitive { static func arbitrary(_ rng: inout SeededRandom) -> Int16 { Int16(truncatingIfNeeded: rng.next()) } }
extension Int32: ArbitraryPrimitive { static func arbitrary(_ rng: inout SeededRandom) -> Int32 { Int32(truncatingIfNeeded: rng.next()) } }
extension Int64: ArbitraryPrimitive { static func arbitrary(_ rng: inout SeededRandom) -> Int64 { Int64(bitPattern: rng.next()) } }
extension UInt16: ArbitraryPrimitive { static func arbitrary(_ rng: inout SeededRandom) -> UInt16 { UInt16(truncatingIfNeeded: rng.next()) } }
extension UInt32: ArbitraryPrimitive { static func arbitrary(_ rng: inout SeededRandom) -> UInt32 { UInt32(truncatingIfNeeded: rng.next()) } }
extension Bool: ArbitraryPrimitive { static func arbitrary(_ rng: inout SeededRandom) -> Bool { rng.next() & 1 == 1 } }
extension Double: ArbitraryPrimitive {
    static func arbitrary(_ rng: inout SeededRandom) -> Double { Double(Int64(bitPattern: rng.next()) % 1_000_000) / 7.0 }
}
extension String: ArbitraryPrimitive { static func arbitrary(_ rng: inout SeededRandom) -> String { rng.string() } }
extension ByteBuffer: ArbitraryPrimitive { static func arbitrary(_ rng: inout SeededRandom) -> ByteBuffer { rng.bytes() } }
extension KafkaUUID: ArbitraryPrimitive {
    static func arbitrary(_ rng: inout SeededRandom) -> KafkaUUID { KafkaUUID(high: rng.next(), low: rng.next()) }
}
