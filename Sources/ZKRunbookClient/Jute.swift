import Foundation

/// Writes ZooKeeper's jute encoding: big-endian integers, length-prefixed strings and buffers (-1 for
/// null), a byte per boolean, count-prefixed vectors. Byte by byte, no Foundation bridging.
struct JuteWriter {
    private(set) var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(128) }

    mutating func int(_ value: Int32) {
        let raw = UInt32(bitPattern: value)
        bytes += [UInt8(raw >> 24), UInt8(raw >> 16 & 0xFF), UInt8(raw >> 8 & 0xFF), UInt8(raw & 0xFF)]
    }

    mutating func long(_ value: Int64) {
        let raw = UInt64(bitPattern: value)
        int(Int32(bitPattern: UInt32(raw >> 32)))
        int(Int32(bitPattern: UInt32(raw & 0xFFFF_FFFF)))
    }

    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func buffer(_ value: [UInt8]?) {
        guard let value else { return int(-1) }
        int(Int32(value.count))
        bytes += value
    }

    mutating func string(_ value: String?) { buffer(value.map { Array($0.utf8) }) }

    mutating func vector<Element>(_ values: [Element], _ write: (inout JuteWriter, Element) -> Void) {
        int(Int32(values.count))
        for value in values { write(&self, value) }
    }

    /// The packet: a 4-byte length, then the body.
    var framed: [UInt8] {
        var frame = JuteWriter()
        frame.int(Int32(bytes.count))
        return frame.bytes + bytes
    }
}

/// Reads jute; every read is bounds-checked, and a length that does not fit what is left is an error,
/// never a crash or a huge allocation.
struct JuteReader {
    struct Truncated: Error, CustomStringConvertible {
        var what: String
        var description: String { "the reply ends inside \(what)" }
    }

    let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func int(_ what: String = "an int") throws(Truncated) -> Int32 {
        guard remaining >= 4 else { throw Truncated(what: what) }
        let value = UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
        offset += 4
        return Int32(bitPattern: value)
    }

    mutating func long(_ what: String = "a long") throws(Truncated) -> Int64 {
        let high = UInt64(UInt32(bitPattern: try int(what)))
        let low = UInt64(UInt32(bitPattern: try int(what)))
        return Int64(bitPattern: high << 32 | low)
    }

    mutating func bool(_ what: String = "a boolean") throws(Truncated) -> Bool {
        guard remaining >= 1 else { throw Truncated(what: what) }
        offset += 1
        return bytes[offset - 1] != 0
    }

    mutating func buffer(_ what: String = "a buffer") throws(Truncated) -> [UInt8]? {
        let length = try int(what)
        if length < 0 { return nil }
        guard Int(length) <= remaining else { throw Truncated(what: what) }
        offset += Int(length)
        return Array(bytes[(offset - Int(length))..<offset])
    }

    mutating func string(_ what: String = "a string") throws(Truncated) -> String? {
        try buffer(what).map { String(decoding: $0, as: UTF8.self) }
    }

    mutating func vector<Element>(_ what: String, _ read: (inout JuteReader) throws(Truncated) -> Element) throws(Truncated) -> [Element] {
        let count = try int(what)
        guard count >= 0 else { return [] }
        // Each element takes at least 4 bytes: a count larger than that cannot be real.
        guard Int(count) <= remaining / 4 + 1 else { throw Truncated(what: what) }
        var values: [Element] = []
        values.reserveCapacity(Int(count))
        for _ in 0..<count { values.append(try read(&self)) }
        return values
    }
}
