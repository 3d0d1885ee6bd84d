import Foundation
import ZKRunbookClient

/// A znode's Stat as ZooKeeper's own zkCli.sh shows it: its field names and order, zxids in hex, times as
/// Java's Date prints them (in this machine's zone); JSON adds each time in ISO 8601 UTC and milliseconds.
enum StatText {
    static func fields(_ stat: Stat) -> [(name: String, text: String)] {
        [
            ("cZxid", hex(stat.czxid)), ("ctime", javaDate(stat.ctime)), ("mZxid", hex(stat.mzxid)), ("mtime", javaDate(stat.mtime)),
            ("pZxid", hex(stat.pzxid)), ("cversion", String(stat.cversion)), ("dataVersion", String(stat.version)),
            ("aclVersion", String(stat.aversion)), ("ephemeralOwner", hex(stat.ephemeralOwner)), ("dataLength", String(stat.dataLength)),
            ("numChildren", String(stat.numChildren)),
        ]
    }

    static func lines(_ stat: Stat) -> String { fields(stat).map { "\($0.name) = \($0.text)" }.joined(separator: "\n") }

    static func object(_ stat: Stat) -> [String: Any] {
        [
            "cZxid": hex(stat.czxid), "ctime": iso(stat.ctime), "ctimeMs": stat.ctime, "mZxid": hex(stat.mzxid), "mtime": iso(stat.mtime),
            "mtimeMs": stat.mtime, "pZxid": hex(stat.pzxid), "cversion": stat.cversion, "dataVersion": stat.version, "aclVersion": stat.aversion,
            "ephemeralOwner": hex(stat.ephemeralOwner), "dataLength": stat.dataLength, "numChildren": stat.numChildren,
        ]
    }

    static func hex(_ value: Int64) -> String { "0x" + String(UInt64(bitPattern: value), radix: 16) }

    /// java.util.Date.toString(): "Mon Dec 07 18:00:00 UTC 2026".
    static func javaDate(_ ms: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE MMM dd HH:mm:ss zzz yyyy"
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    static func iso(_ ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
