import CZKRunbookBytes
import Foundation

/// SHA-256 (FIPS 180-4), streaming, because the toolchain ships no hash on Linux and the agent takes no
/// third-party packages. Used for backups, journaled runbook copies and bundle manifests.
///
/// Whole blocks go to the CPU's SHA extensions where it has them (our C target); the portable Swift
/// rounds are the fallback, and both are tested against the same vectors.
public struct SHA256: Sendable {
    public enum Implementation: Sendable { case hardware, portable }

    /// Whether this CPU has the SHA extensions.
    public static let hardwareAvailable = zkrunbook_sha256_hardware_available() != 0

    public let implementation: Implementation
    private var state: [UInt32] = [
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]
    private var buffer: [UInt8] = []
    private var length: UInt64 = 0


    /// The fastest implementation this CPU allows, or the one asked for (`.hardware` only where available).
    public init(_ implementation: Implementation? = nil) {
        self.implementation = Self.hardwareAvailable && implementation != .portable ? .hardware : .portable
    }

    public mutating func update(_ data: Data) {
        data.withUnsafeBytes { update(bytes: $0) }
    }

    /// Hashes `bytes`; whole 64-byte blocks are read in place, without copying.
    public mutating func update(bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var offset = 0
        if !buffer.isEmpty {
            let take = min(64 - buffer.count, bytes.count)
            buffer.append(contentsOf: bytes[0..<take])
            offset = take
            if buffer.count == 64 {
                buffer.withUnsafeBytes { compress($0.baseAddress!, blocks: 1) }
                buffer.removeAll(keepingCapacity: true)
            }
        }
        let blocks = (bytes.count - offset) / 64
        if blocks > 0 {
            compress(bytes.baseAddress! + offset, blocks: blocks)
            offset += blocks * 64
        }
        if offset < bytes.count { buffer.append(contentsOf: bytes[offset...]) }
    }

    public mutating func finalize() -> [UInt8] {
        let bitLength = length &* 8
        var padding: [UInt8] = [0x80]
        while (buffer.count + padding.count) % 64 != 56 { padding.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { padding.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        let tail = buffer + padding
        tail.withUnsafeBytes { compress($0.baseAddress!, blocks: $0.count / 64) }
        buffer.removeAll()
        return state.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (24 - 8 * UInt32($0))) } }
    }

    /// The digest as 64 lowercase hex digits, the form every manifest, checksum file and fact uses.
    public mutating func finalizeHex() -> String {
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in finalize() { HexDigits.append(byte, to: &text) }
        return String(decoding: text, as: UTF8.self)
    }

    public static func hex(_ data: Data) -> String {
        var hasher = SHA256()
        hasher.update(data)
        return hasher.finalizeHex()
    }

    /// The digest of a file, read in 1 MiB chunks into one buffer, so memory stays flat whatever its size
    /// and no chunk is allocated.
    public static func hex(fileAt path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CocoaError(.fileReadNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var hasher = SHA256()
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: path]) }
            if count == 0 { break }
            hasher.update(bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        return hasher.finalizeHex()
    }

    private mutating func compress(_ start: UnsafeRawPointer, blocks: Int) {
        if implementation == .hardware {
            state.withUnsafeMutableBufferPointer { zkrunbook_sha256_blocks_hardware($0.baseAddress!, start.assumingMemoryBound(to: UInt8.self), blocks) }
            return
        }
        for index in 0..<blocks { compressPortably(start + 64 * index) }
    }

    private mutating func compressPortably(_ block: UnsafeRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for t in 0..<16 {
                let i = t * 4
                w[t] = UInt32(block.load(fromByteOffset: i, as: UInt8.self)) << 24
                    | UInt32(block.load(fromByteOffset: i + 1, as: UInt8.self)) << 16
                    | UInt32(block.load(fromByteOffset: i + 2, as: UInt8.self)) << 8
                    | UInt32(block.load(fromByteOffset: i + 3, as: UInt8.self))
            }
            for t in 16..<64 {
                let s0 = w[t - 15].rotatedRight(7) ^ w[t - 15].rotatedRight(18) ^ (w[t - 15] >> 3)
                let s1 = w[t - 2].rotatedRight(17) ^ w[t - 2].rotatedRight(19) ^ (w[t - 2] >> 10)
                w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
            }
            withUnsafePointer(to: zkrunbook_sha256_round_constants) { table in
                let k = UnsafeRawPointer(table).assumingMemoryBound(to: UInt32.self)
                var (a, b, c, d, e, f, g, h) = (state[0], state[1], state[2], state[3], state[4], state[5], state[6], state[7])
                for t in 0..<64 {
                    let s1 = e.rotatedRight(6) ^ e.rotatedRight(11) ^ e.rotatedRight(25)
                    let choice = (e & f) ^ (~e & g)
                    let t1 = h &+ s1 &+ choice &+ k[t] &+ w[t]
                    let s0 = a.rotatedRight(2) ^ a.rotatedRight(13) ^ a.rotatedRight(22)
                    let majority = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = s0 &+ majority
                    (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
                }
                state[0] &+= a
                state[1] &+= b
                state[2] &+= c
                state[3] &+= d
                state[4] &+= e
                state[5] &+= f
                state[6] &+= g
                state[7] &+= h
            }
        }
    }
}

extension UInt32 {
    fileprivate func rotatedRight(_ count: UInt32) -> UInt32 { (self >> count) | (self << (32 - count)) }
}
