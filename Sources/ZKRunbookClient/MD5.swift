import Foundation

/// MD5 (RFC 1321), for SASL DIGEST-MD5 only: the mechanism ZooKeeper's JAAS `DigestLoginModule` speaks
/// defines its response with it. Never for anything that needs collision resistance.
public struct MD5 {
    private var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476)
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    public init() {}

    public static func digest(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var md5 = MD5()
        md5.update(bytes)
        return md5.finish()
    }

    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        digest(bytes).map { byte in String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16) }.joined()
    }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            pending.append(byte)
            length &+= 1
            if pending.count == 64 {
                block(pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
    }

    public mutating func finish() -> [UInt8] {
        let bits = length &* 8
        update([0x80])
        while pending.count != 56 { update([0]) }
        update((0..<8).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) })
        return [state.0, state.1, state.2, state.3].flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
    }

    private static let shifts: [UInt32] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ]
    /// floor(abs(sin(i + 1)) * 2^32), as RFC 1321's table T.
    private static let constants: [UInt32] = (0..<64).map { UInt32(truncatingIfNeeded: Int64(abs(sin(Double($0 + 1))) * 4_294_967_296)) }

    private mutating func block(_ chunk: [UInt8]) {
        var words = [UInt32](repeating: 0, count: 16)
        for index in 0..<16 {
            let base = index * 4
            words[index] = UInt32(chunk[base]) | UInt32(chunk[base + 1]) << 8 | UInt32(chunk[base + 2]) << 16 | UInt32(chunk[base + 3]) << 24
        }
        var (a, b, c, d) = state
        for round in 0..<64 {
            var f: UInt32
            let g: Int
            switch round {
            case 0..<16: (f, g) = ((b & c) | (~b & d), round)
            case 16..<32: (f, g) = ((d & b) | (~d & c), (5 * round + 1) % 16)
            case 32..<48: (f, g) = (b ^ c ^ d, (3 * round + 5) % 16)
            default: (f, g) = (c ^ (b | ~d), (7 * round) % 16)
            }
            f = f &+ a &+ Self.constants[round] &+ words[g]
            (a, d, c) = (d, c, b)
            let shift = Self.shifts[round]
            b = b &+ ((f << shift) | (f >> (32 - shift)))
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
    }
}
