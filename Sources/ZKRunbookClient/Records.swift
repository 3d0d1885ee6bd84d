/// A znode's metadata, as the server keeps it.
public struct Stat: Sendable, Hashable, Codable {
    public var czxid: Int64
    public var mzxid: Int64
    public var ctime: Int64
    public var mtime: Int64
    public var version: Int32
    public var cversion: Int32
    public var aversion: Int32
    /// The owning session of an ephemeral znode; 0 for a persistent one.
    public var ephemeralOwner: Int64
    public var dataLength: Int32
    public var numChildren: Int32
    public var pzxid: Int64

    static func read(_ reader: inout JuteReader) throws(JuteReader.Truncated) -> Stat {
        Stat(
            czxid: try reader.long("a stat"), mzxid: try reader.long("a stat"), ctime: try reader.long("a stat"), mtime: try reader.long("a stat"),
            version: try reader.int("a stat"), cversion: try reader.int("a stat"), aversion: try reader.int("a stat"),
            ephemeralOwner: try reader.long("a stat"), dataLength: try reader.int("a stat"), numChildren: try reader.int("a stat"),
            pzxid: try reader.long("a stat"))
    }
}

/// An access control entry: who (`scheme:id`) may do what (`perms`, a bit set).
public struct ACL: Sendable, Hashable {
    public struct Permissions: OptionSet, Sendable, Hashable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let read = Permissions(rawValue: 1)
        public static let write = Permissions(rawValue: 2)
        public static let create = Permissions(rawValue: 4)
        public static let delete = Permissions(rawValue: 8)
        public static let admin = Permissions(rawValue: 16)
        public static let all: Permissions = [.read, .write, .create, .delete, .admin]
    }

    public var permissions: Permissions
    public var scheme: String
    public var id: String

    public init(permissions: Permissions, scheme: String, id: String) {
        (self.permissions, self.scheme, self.id) = (permissions, scheme, id)
    }

    /// Anyone may do anything (`world:anyone`, all permissions): ZooKeeper's OPEN_ACL_UNSAFE.
    public static let openUnsafe = [ACL(permissions: .all, scheme: "world", id: "anyone")]
    /// Only the session's authenticated identities (`auth:`, all permissions): CREATOR_ALL_ACL.
    public static let creatorAll = [ACL(permissions: .all, scheme: "auth", id: "")]

    /// An ACL as zkCli.sh's setAcl takes it: `scheme:id:perms` entries separated by commas, the id itself
    /// possibly holding colons (`digest:user:hash:cdrwa`, `ip:10.0.0.0/8:r`); nil with the reason otherwise.
    public static func parse(_ text: String) -> Result<[ACL], ParseFailure> {
        var entries: [ACL] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            guard let first = part.firstIndex(of: ":"), let last = part.lastIndex(of: ":"), first != last else {
                return .failure(ParseFailure(message: "'\(part)' is not scheme:id:permissions (world:anyone:r, sasl:zkrunbook:cdrwa)"))
            }
            let letters = part[part.index(after: last)...]
            var permissions: Permissions = []
            for letter in letters {
                switch letter {
                case "c": permissions.insert(.create)
                case "d": permissions.insert(.delete)
                case "r": permissions.insert(.read)
                case "w": permissions.insert(.write)
                case "a": permissions.insert(.admin)
                default: return .failure(ParseFailure(message: "'\(part)': '\(letter)' is not a permission (c, d, r, w, a)"))
                }
            }
            guard !permissions.isEmpty else { return .failure(ParseFailure(message: "'\(part)' grants no permission (c, d, r, w, a)")) }
            entries.append(ACL(permissions: permissions, scheme: String(part[..<first]), id: String(part[part.index(after: first)..<last])))
        }
        guard !entries.isEmpty else { return .failure(ParseFailure(message: "an empty ACL: give at least one scheme:id:permissions")) }
        return .success(entries)
    }

    public struct ParseFailure: Error, Sendable, Equatable {
        public var message: String
    }

    /// ZooKeeper's own letters for the permissions, in its order: "cdrwa" (create, delete, read, write, admin).
    public var permissionLetters: String {
        [(Permissions.create, "c"), (.delete, "d"), (.read, "r"), (.write, "w"), (.admin, "a")].filter { permissions.contains($0.0) }.map(\.1).joined()
    }

    func write(_ writer: inout JuteWriter) {
        writer.int(permissions.rawValue)
        writer.string(scheme)
        writer.string(id)
    }

    static func read(_ reader: inout JuteReader) throws(JuteReader.Truncated) -> ACL {
        ACL(permissions: Permissions(rawValue: try reader.int("an ACL")), scheme: try reader.string("an ACL") ?? "", id: try reader.string("an ACL") ?? "")
    }
}

/// How a znode is created.
public enum CreateMode: Int32, Sendable, CaseIterable {
    case persistent = 0
    /// Deleted when the session that created it ends.
    case ephemeral = 1
    /// The server appends a ten-digit counter to the name.
    case persistentSequential = 2
    case ephemeralSequential = 3
}

/// ZooKeeper's request types (`ZooDefs.OpCode`) that this client sends.
enum OpCode: Int32 {
    case create = 1
    case delete = 2
    case exists = 3
    case getData = 4
    case setData = 5
    case getACL = 6
    case setACL = 7
    case getChildren = 8
    case sync = 9
    case ping = 11
    case getChildren2 = 12
    case check = 13
    case multi = 14
    case create2 = 15
    case reconfig = 16
    case auth = 100
    /// A SASL token (GetSASLRequest), answered with the server's (SetSASLResponse).
    case sasl = 102
    case closeSession = -11
    case error = -1
}

/// Request ids the protocol reserves.
enum SpecialXid {
    static let notification: Int32 = -1
    static let ping: Int32 = -2
    static let auth: Int32 = -4
}
