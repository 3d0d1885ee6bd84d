import Foundation
import ZKRunbookProcess

/// Where the server on this machine listens for clients on a port, from the kernel's own table
/// (/proc/net/tcp and tcp6), so that a node's checks ask the server at its real address.
///
/// Why not 127.0.0.1: a server bound to its host address (`clientPortAddress`) does not answer there, so a
/// poll for "serving" never ends and a check for "stopped" passes while the server still serves. The
/// kernel knows every listening socket whatever the configuration says.
public enum ListeningAddress {
    /// A listening socket on the port: its address as the kernel gives it.
    public struct Socket: Equatable, Sendable {
        /// Dotted IPv4 (an IPv4-mapped IPv6 address is given as IPv4), or nil for a wildcard (0.0.0.0, ::).
        public var address: String?
        public var isIPv6: Bool
        /// The socket's inode: which process holds it is found through /proc/PID/fd (`RunningServer`).
        public var inode: UInt64 = 0

        public init(address: String?, isIPv6: Bool, inode: UInt64 = 0) { (self.address, self.isIPv6, self.inode) = (address, isIPv6, inode) }
    }

    /// The listening sockets on `port` in the given tables' text (the format of /proc/net/tcp and tcp6).
    public static func sockets(port: Int, tcp: String, tcp6: String) -> [Socket] {
        parse(tcp, port: port, ipv6: false) + parse(tcp6, port: port, ipv6: true)
    }

    /// The address to ask the server on this machine at: 127.0.0.1 when it listens on a wildcard, else the
    /// address it is bound to; 127.0.0.1 too when nothing listens (a connection there is refused, which is
    /// the truth for "stopped"). `note` names what was found when it is not plain.
    public static func resolve(port: Int, tcp: String? = nil, tcp6: String? = nil) -> (host: String, note: String?) {
        let tcpText = tcp ?? (ProcFile.text("/proc/net/tcp") ?? "")
        let tcp6Text = tcp6 ?? (ProcFile.text("/proc/net/tcp6") ?? "")
        let found = sockets(port: port, tcp: tcpText, tcp6: tcp6Text)
        if found.isEmpty || found.contains(where: { $0.address == nil }) { return ("127.0.0.1", nil) }
        let addresses = found.compactMap(\.address)
        let first = addresses[0]
        let others = Set(addresses).subtracting([first])
        return (
            first, others.isEmpty ? nil : "several addresses listen on port \(port): \(([first] + others.sorted()).joined(separator: ", ")); asked \(first)"
        )
    }

    static func parse(_ table: String, port: Int, ipv6: Bool) -> [Socket] {
        var out: [Socket] = []
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // sl local_address rem_address st …; st 0A is LISTEN.
            guard fields.count > 3, fields[3] == "0A" else { continue }
            let local = fields[1].split(separator: ":")
            guard local.count == 2, let listening = Int(local[1], radix: 16), listening == port else { continue }
            let hex = local[0]
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
            let inode = fields.count > 9 ? UInt64(fields[9]) ?? 0 : 0
            if ipv6 {
                guard hex.count == 32 else { continue }
                if hex.allSatisfy({ $0 == "0" }) {
                    out.append(Socket(address: nil, isIPv6: true, inode: inode))
                } else if hex.prefix(16) == "0000000000000000" && hex.dropFirst(16).prefix(8) == "FFFF0000" {
                    out.append(Socket(address: ipv4(hex.suffix(8)), isIPv6: true, inode: inode))
                } else if hex == "00000000000000000000000001000000" {
                    out.append(Socket(address: "::1", isIPv6: true, inode: inode))
                } else {
                    continue
                }
            } else {
                guard hex.count == 8 else { continue }
                out.append(Socket(address: hex == "00000000" ? nil : ipv4(hex), isIPv6: false, inode: inode))
            }
        }
        return out
    }

    /// The kernel writes an IPv4 address as one 32-bit word in host order (little-endian here): 0100007F is 127.0.0.1.
    static func ipv4(_ hex: Substring) -> String? {
        guard let word = UInt32(hex, radix: 16) else { return nil }
        let value = UInt32(littleEndian: word)
        return [value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, value >> 24].map(String.init).joined(separator: ".")
    }
}
