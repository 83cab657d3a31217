/// XXH32, as the LZ4 frame format uses for its header checksum. Only needed to repair and reproduce
/// the header checksum Kafka's magic-0 LZ4 writer got wrong (KAFKA-3160), so it is small, not fast.
enum XXHash32 {
    private static let p1: UInt32 = 2_654_435_761
    private static let p2: UInt32 = 2_246_822_519
    private static let p3: UInt32 = 3_266_489_917
    private static let p4: UInt32 = 668_265_263
    private static let p5: UInt32 = 374_761_393

    static func hash<C: Collection>(_ bytes: C, seed: UInt32 = 0) -> UInt32 where C.Element == UInt8 {
        let b = Array(bytes)
        func lane(_ i: Int) -> UInt32 {
            UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
        }
        func rotl(_ x: UInt32, _ r: UInt32) -> UInt32 { x << r | x >> (32 - r) }
        func round(_ acc: UInt32, _ input: UInt32) -> UInt32 { rotl(acc &+ input &* p2, 13) &* p1 }

        var i = 0
        var h: UInt32
        if b.count >= 16 {
            var v1 = seed &+ p1 &+ p2
            var v2 = seed &+ p2
            var v3 = seed
            var v4 = seed &- p1
            while i + 16 <= b.count {
                v1 = round(v1, lane(i))
                v2 = round(v2, lane(i + 4))
                v3 = round(v3, lane(i + 8))
                v4 = round(v4, lane(i + 12))
                i += 16
            }
            h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
        } else {
            h = seed &+ p5
        }
        h = h &+ UInt32(truncatingIfNeeded: b.count)
        while i + 4 <= b.count {
            h = rotl(h &+ lane(i) &* p3, 17) &* p4
            i += 4
        }
        while i < b.count {
            h = rotl(h &+ UInt32(b[i]) &* p5, 11) &* p1
            i += 1
        }
        h ^= h >> 15
        h = h &* p2
        h ^= h >> 13
        h = h &* p3
        h ^= h >> 16
        return h
    }
}
