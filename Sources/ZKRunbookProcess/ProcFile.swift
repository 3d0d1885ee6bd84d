import Foundation

/// Reads a file of /proc whole. /proc files report a size of 0, and Foundation's readers stop after the
/// first chunk (about 4 KB here): /proc/net/tcp on a machine with a hundred sockets was cut at line 27,
/// so a listening socket further down was "nothing listens". read(2) until end-of-file reads it all.
public enum ProcFile {
    /// The whole file, or nil when it cannot be opened; at most `limit` bytes.
    public static func data(_ path: String, limit: Int = 64 << 20) -> Data? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var out = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while out.count < limit {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                out.append(contentsOf: buffer[0..<count])
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        return out
    }

    public static func text(_ path: String) -> String? { data(path).map { String(decoding: $0, as: UTF8.self) } }
}
