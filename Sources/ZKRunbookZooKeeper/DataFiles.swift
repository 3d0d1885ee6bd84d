import CZKRunbookBytes
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What is wrong with a snapshot or transaction log file: which file, at which byte, what was expected.
public struct DataFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var offset: Int?
    public var message: String

    public init(_ path: String, at offset: Int? = nil, _ message: String) { (self.path, self.offset, self.message) = (path, offset, message) }

    public var description: String { "\(path)" + (offset.map { " at byte \($0)" } ?? "") + ": " + message }
}

/// Adler-32, as java.util.zip.Adler32 computes it (the checksum of ZooKeeper's snapshots and log entries);
/// the sums are our C code's, SIMD where the CPU allows.
public struct Adler32: Sendable {
    private var a: UInt32 = 1
    private var b: UInt32 = 0

    public init() {}

    public var value: UInt32 { (b << 16) | a }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let combined = zkrunbook_adler32((b << 16) | a, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        (a, b) = (combined & 0xffff, combined >> 16)
    }
}

/// Which nodes' data a read keeps: one path in `every`, chosen by a hash of the path (the same paths in a
/// snapshot, its logs and the restored tree); 0 keeps none.
public struct DataSample: Sendable, Equatable {
    public var every: Int

    public init(every: Int) { self.every = every }

    public static let none = DataSample(every: 0)

    public func includes(_ path: String) -> Bool {
        guard every > 0 else { return false }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in path.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash % UInt64(every) == 0
    }
}

/// A bounds-checked reader of jute's big-endian encoding over a file's bytes.
struct JuteCursor {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var offset = 0
    /// The Adler-32 of the bytes before `summed`, kept as the cursor goes (seals check the whole prefix).
    private var running = Adler32()
    private var summed = 0
    /// Mapped pages before this offset were handed back: memory stays flat over a large file.
    private var released = 0

    init(bytes: UnsafeRawBufferPointer, path: String) { (self.bytes, self.path) = (bytes, path) }

    mutating func need(_ count: Int, _ what: String) throws(DataFileError) {
        guard count >= 0, offset + count <= bytes.count else {
            throw DataFileError(path, at: offset, "the file ends inside \(what) (\(bytes.count - offset) byte(s) left, \(count) needed): truncated or corrupt")
        }
    }

    /// `width` bytes, big-endian.
    mutating func bigEndian(_ width: Int, _ what: String) throws(DataFileError) -> UInt64 {
        try need(width, what)
        var value: UInt64 = 0
        for index in 0..<width { value = value << 8 | UInt64(bytes[offset + index]) }
        offset += width
        return value
    }

    mutating func int(_ what: String) throws(DataFileError) -> Int32 { Int32(bitPattern: UInt32(truncatingIfNeeded: try bigEndian(4, what))) }

    mutating func long(_ what: String) throws(DataFileError) -> Int64 { Int64(bitPattern: try bigEndian(8, what)) }

    mutating func byte(_ what: String) throws(DataFileError) -> UInt8 {
        try need(1, what)
        defer { offset += 1 }
        return bytes[offset]
    }

    /// A buffer or string: its length (-1: null) and where its bytes start; the cursor moves past it.
    mutating func buffer(_ what: String) throws(DataFileError) -> Range<Int>? {
        let length = try int(what + " length")
        if length < 0 { return nil }
        try need(Int(length), what)
        defer { offset += Int(length) }
        return offset..<(offset + Int(length))
    }

    /// A buffer's bytes (null reads as empty, as ZooKeeper hands it to a client).
    func array(_ range: Range<Int>?) -> [UInt8] { range.map { Array(UnsafeRawBufferPointer(rebasing: bytes[$0])) } ?? [] }

    mutating func string(_ what: String) throws(DataFileError) -> String? {
        guard let range = try buffer(what) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    mutating func skipACLs(_ what: String) throws(DataFileError) {
        let count = try int(what)
        guard count >= -1, count < 1 << 20 else { throw DataFileError(path, at: offset, "\(what): \(count) entries is not a count") }
        for _ in 0..<max(0, count) {
            _ = try int("an ACL's perms")
            _ = try buffer("an ACL's scheme")
            _ = try buffer("an ACL's id")
        }
    }

    /// `body` over the file's bytes, mapped rather than read (a snapshot may be gigabytes).
    static func mapped<T>(_ path: String, _ body: (UnsafeRawBufferPointer) throws(DataFileError) -> T) throws(DataFileError) -> T {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw DataFileError(path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw DataFileError(path, "cannot stat: \(String(cString: strerror(errno)))") }
        let size = Int(info.st_size)
        guard size > 0 else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), base != MAP_FAILED else {
            throw DataFileError(path, "cannot map: \(String(cString: strerror(errno)))")
        }
        defer { munmap(base, size) }
        _ = madvise(base, size, MADV_SEQUENTIAL)
        return try body(UnsafeRawBufferPointer(start: base, count: size))
    }

    /// The Adler-32 of every byte before `end` (at or after the last such call).
    mutating func adler32(upTo end: Int) -> UInt32 {
        if end > summed {
            running.update(UnsafeRawBufferPointer(rebasing: bytes[summed..<end]))
            summed = end
        }
        return running.value
    }

    /// Hands the mapped pages behind the cursor back to the kernel, every 16 MiB; `summing`: a file sealed
    /// as a whole (a snapshot) is summed first up to there, so no page is needed twice.
    mutating func keepMemoryFlat(summing: Bool = true) {
        guard offset - released >= 16 << 20, let base = bytes.baseAddress else { return }
        if summing { _ = adler32(upTo: offset) }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let end = ((summing ? min(offset, summed) : offset) / page) * page
        if end > released {
            _ = madvise(UnsafeMutableRawPointer(mutating: base + released), end - released, MADV_DONTNEED)
            released = end
        }
    }
}

/// A ZooKeeper snapshot (`snapshot.<zxid>`), read and checked: header, sessions, ACLs, every node, and each
/// Adler-32 seal (the tree's, and in 3.6+ the digest's and the last-processed zxid's).
public struct SnapshotSummary: Sendable, Equatable {
    public var zxid: Int64
    public var dbid: Int64
    public var sessions: Int
    public var nodes: Int
    /// Ephemeral nodes by owning session: what a closeSession in a later log removes.
    public var ephemerals: [Int64: [String]]
    public var paths: Set<String>
    public var seals: Int
    /// The data of the persistent nodes `sample` includes.
    public var sampled: [String: [UInt8]] = [:]

    /// Reads and checks the snapshot at `path`; its zxid comes from its name, as ZooKeeper takes it.
    /// `named`: the path it will have, for a copy still under a temporary name (errors say that path).
    public static func read(path: String, named: String? = nil, sample: DataSample = .none) throws(DataFileError) -> SnapshotSummary {
        let shownPath = named ?? path
        let name = (shownPath as NSString).lastPathComponent
        guard name.hasPrefix("snapshot."), let zxid = Int64(name.dropFirst("snapshot.".count), radix: 16) else {
            throw DataFileError(shownPath, "not a snapshot.<hex zxid> file name")
        }
        return try JuteCursor.mapped(path) { bytes throws(DataFileError) in try parse(bytes, path: shownPath, zxid: zxid, sample: sample) }
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, path: String, zxid: Int64, sample: DataSample = .none) throws(DataFileError) -> SnapshotSummary {
        var cursor = JuteCursor(bytes: bytes, path: path)
        let magic = try cursor.int("the file header")
        guard magic == 0x5A4B_534E else { throw DataFileError(path, at: 0, "magic \(String(UInt32(bitPattern: magic), radix: 16)) is not ZKSN: not a snapshot") }
        let version = try cursor.int("the version")
        guard version == 2 else { throw DataFileError(path, at: 4, "snapshot version \(version); this reader knows version 2") }
        let dbid = try cursor.long("the dbid")
        let sessionCount = try cursor.int("the session count")
        guard sessionCount >= 0 else { throw DataFileError(path, at: cursor.offset - 4, "a negative session count") }
        for _ in 0..<sessionCount {
            _ = try cursor.long("a session id")
            _ = try cursor.int("a session timeout")
        }
        let aclMaps = try cursor.int("the ACL map size")
        guard aclMaps >= 0 else { throw DataFileError(path, at: cursor.offset - 4, "a negative ACL map size") }
        for _ in 0..<aclMaps {
            _ = try cursor.long("an ACL map key")
            try cursor.skipACLs("an ACL list")
        }
        var nodes = 0
        var paths = Set<String>()
        var ephemerals: [Int64: [String]] = [:]
        var sampled: [String: [UInt8]] = [:]
        while true {
            guard let nodePath = try cursor.string("a node path") else { throw DataFileError(path, at: cursor.offset, "a null node path") }
            if nodePath == "/" { break }
            let data = try cursor.buffer("the data of \(nodePath.isEmpty ? "/" : nodePath)")
            _ = try cursor.long("an ACL reference")
            for what in ["czxid", "mzxid", "ctime", "mtime"] { _ = try cursor.long(what) }
            for what in ["version", "cversion", "aversion"] { _ = try cursor.int(what) }
            let owner = try cursor.long("ephemeralOwner")
            _ = try cursor.long("pzxid")
            nodes += 1
            cursor.keepMemoryFlat()
            paths.insert(nodePath)
            if owner != 0 { ephemerals[owner, default: []].append(nodePath) } else if sample.includes(nodePath) { sampled[nodePath] = cursor.array(data) }
        }
        var seals = 0
        try seal(&cursor, &seals)
        // 3.6+: the zxid digest, then the last processed zxid, each sealed again; older snapshots end here.
        if cursor.offset < bytes.count {
            _ = try cursor.long("the digest's zxid")
            _ = try cursor.int("the digest version")
            _ = try cursor.long("the digest")
            try seal(&cursor, &seals)
        }
        if cursor.offset < bytes.count {
            _ = try cursor.long("the last processed zxid")
            try seal(&cursor, &seals)
        }
        guard cursor.offset == bytes.count else {
            throw DataFileError(path, at: cursor.offset, "\(bytes.count - cursor.offset) byte(s) after the last seal")
        }
        return SnapshotSummary(
            zxid: zxid, dbid: dbid, sessions: Int(sessionCount), nodes: nodes, ephemerals: ephemerals, paths: paths, seals: seals, sampled: sampled)
    }

    /// A seal: the Adler-32 of every byte before it, then the string "/".
    static func seal(_ cursor: inout JuteCursor, _ seals: inout Int) throws(DataFileError) {
        let expected = cursor.adler32(upTo: cursor.offset)
        let at = cursor.offset
        let value = try cursor.long("a checksum seal")
        guard UInt32(truncatingIfNeeded: value) == expected, value >> 32 == 0 else {
            throw DataFileError(
                cursor.path, at: at, "checksum \(String(value, radix: 16)) does not match the content (\(String(expected, radix: 16))): the file is corrupt")
        }
        guard try cursor.string("the seal's marker") == "/" else { throw DataFileError(cursor.path, at: cursor.offset, "a seal without its \"/\" marker") }
        seals += 1
    }
}

/// One transaction of a log, as far as a node count needs it.
public struct LoggedTxn: Sendable, Equatable {
    public enum Effect: Sendable, Equatable {
        /// `data`: kept when the read's sample includes the path.
        case create(path: String, ephemeralOwner: Int64?, data: [UInt8]? = nil)
        case setData(path: String, data: [UInt8]?)
        case delete(path: String)
        case closeSession
        case other
    }
    public var zxid: Int64
    public var session: Int64
    public var effects: [Effect]

    public init(zxid: Int64, session: Int64, effects: [Effect]) { (self.zxid, self.session, self.effects) = (zxid, session, effects) }
}

/// A transaction log (`log.<zxid>`), read and checked: header, each entry's Adler-32, the end-of-record mark;
/// the preallocated zeros after the last entry end it.
public struct TxnLogSummary: Sendable, Equatable {
    public var firstZxid: Int64
    public var txns: [LoggedTxn]
    public var lastZxid: Int64? { txns.last?.zxid }

    public static func read(path: String, sample: DataSample = .none) throws(DataFileError) -> TxnLogSummary {
        let name = (path as NSString).lastPathComponent
        guard name.hasPrefix("log."), let first = Int64(name.dropFirst("log.".count), radix: 16) else {
            throw DataFileError(path, "not a log.<hex zxid> file name")
        }
        return TxnLogSummary(firstZxid: first, txns: try JuteCursor.mapped(path) { bytes throws(DataFileError) in try parse(bytes, path: path, sample: sample) })
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, path: String, sample: DataSample = .none) throws(DataFileError) -> [LoggedTxn] {
        var cursor = JuteCursor(bytes: bytes, path: path)
        let magic = try cursor.int("the file header")
        guard magic == 0x5A4B_4C47 else { throw DataFileError(path, at: 0, "magic \(String(UInt32(bitPattern: magic), radix: 16)) is not ZKLG: not a transaction log") }
        let version = try cursor.int("the version")
        guard version == 2 else { throw DataFileError(path, at: 4, "log version \(version); this reader knows version 2") }
        _ = try cursor.long("the dbid")
        var txns: [LoggedTxn] = []
        while cursor.offset + 12 <= bytes.count {
            let entryAt = cursor.offset
            let crc = try cursor.long("an entry's checksum")
            let length = try cursor.int("an entry's length")
            // Preallocated space: an empty entry marks the end of what was written.
            if length == 0 && crc == 0 { break }
            guard length > 0 else { throw DataFileError(path, at: entryAt, "an entry of length \(length)") }
            try cursor.need(Int(length) + 1, "an entry of \(length) byte(s)")
            let body = UnsafeRawBufferPointer(rebasing: bytes[cursor.offset..<(cursor.offset + Int(length))])
            var checksum = Adler32()
            checksum.update(body)
            guard UInt64(bitPattern: crc) == UInt64(checksum.value) else {
                throw DataFileError(path, at: entryAt, "entry checksum \(String(crc, radix: 16)) does not match its bytes (\(String(checksum.value, radix: 16))): the log is corrupt")
            }
            txns.append(try txn(body, path: path, sample: sample))
            cursor.keepMemoryFlat(summing: false)
            cursor.offset += Int(length)
            guard try cursor.byte("the end-of-record mark") == 0x42 else {
                throw DataFileError(path, at: cursor.offset - 1, "an entry not ended by its 'B' mark: the last transaction is partial")
            }
        }
        return txns
    }

    /// The header of one entry and what it does to the tree's node count.
    static func txn(_ body: UnsafeRawBufferPointer, path: String, sample: DataSample) throws(DataFileError) -> LoggedTxn {
        var cursor = JuteCursor(bytes: body, path: path)
        let session = try cursor.long("a txn's session")
        _ = try cursor.int("a txn's cxid")
        let zxid = try cursor.long("a txn's zxid")
        _ = try cursor.long("a txn's time")
        let type = try cursor.int("a txn's type")
        let effects = try Self.effects(type: type, &cursor, session: session, sample: sample)
        return LoggedTxn(zxid: zxid, session: session, effects: effects)
    }

    static func effects(type: Int32, _ cursor: inout JuteCursor, session: Int64, sample: DataSample) throws(DataFileError) -> [LoggedTxn.Effect] {
        switch type {
        case 1, 15:  // create, create2: path, data, acl, ephemeral, parentCVersion
            let nodePath = try cursor.string("a created path") ?? ""
            let data = try cursor.buffer("created data")
            try cursor.skipACLs("a created node's ACL")
            let ephemeral = try cursor.byte("the ephemeral flag") != 0
            return [.create(path: nodePath, ephemeralOwner: ephemeral ? session : nil, data: sample.includes(nodePath) ? cursor.array(data) : nil)]
        case 19, 21:  // createContainer, createTTL: path, data
            let nodePath = try cursor.string("a created path") ?? ""
            let data = try cursor.buffer("created data")
            return [.create(path: nodePath, ephemeralOwner: nil, data: sample.includes(nodePath) ? cursor.array(data) : nil)]
        case 5:  // setData: path, data, version
            let nodePath = try cursor.string("a changed path") ?? ""
            let data = try cursor.buffer("changed data")
            return [.setData(path: nodePath, data: sample.includes(nodePath) ? cursor.array(data) : nil)]
        case 2, 20:  // delete, deleteContainer
            return [.delete(path: try cursor.string("a deleted path") ?? "")]
        case -11:
            return [.closeSession]
        case 14:  // multi: a vector of (type, serialized sub-txn)
            let count = try cursor.int("a multi's count")
            var out: [LoggedTxn.Effect] = []
            for _ in 0..<max(0, count) {
                let subType = try cursor.int("a multi op's type")
                guard let range = try cursor.buffer("a multi op") else { continue }
                var sub = JuteCursor(bytes: UnsafeRawBufferPointer(rebasing: cursor.bytes[range]), path: cursor.path)
                out += try effects(type: subType, &sub, session: session, sample: sample)
            }
            return out
        default:
            return [.other]
        }
    }
}

/// The node count after replaying logged transactions on a snapshot, up to a zxid: what the server that
/// wrote them reported at that zxid.
public struct TreeReplay: Sendable {
    public private(set) var paths: Set<String>
    public private(set) var ephemerals: [Int64: [String]]
    public private(set) var zxid: Int64
    /// The sampled persistent nodes' data as of `zxid`.
    public private(set) var sampled: [String: [UInt8]]

    public init(_ snapshot: SnapshotSummary) {
        (paths, ephemerals, zxid, sampled) = (snapshot.paths, snapshot.ephemerals, snapshot.zxid, snapshot.sampled)
    }

    public var nodes: Int { paths.count }

    /// Applies every transaction after the current zxid and up to `limit` (a snapshot is fuzzy: logged
    /// transactions it already holds are applied again, which create and delete of a set absorb).
    public mutating func apply(_ txns: [LoggedTxn], upTo limit: Int64 = .max) {
        for txn in txns where txn.zxid > zxid && txn.zxid <= limit {
            for effect in txn.effects {
                switch effect {
                case .create(let path, let owner, let data):
                    paths.insert(path)
                    if let owner { ephemerals[owner, default: []].append(path) } else if let data { sampled[path] = data }
                case .setData(let path, let data): if let data, sampled[path] != nil { sampled[path] = data }
                case .delete(let path):
                    paths.remove(path)
                    sampled[path] = nil
                case .closeSession: for path in ephemerals.removeValue(forKey: txn.session) ?? [] { paths.remove(path) }
                case .other: break
                }
            }
            zxid = txn.zxid
        }
    }
}
