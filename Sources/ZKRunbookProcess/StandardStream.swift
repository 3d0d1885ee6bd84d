import Foundation

/// Writes to standard output or error without Foundation's `FileHandle.write`, which traps on EPIPE
/// (`zkrunbook … | head -1` died with SIGILL). A reader that went away ends the output quietly.
public enum StandardStream {
    public static func output(_ text: String) { write(text, to: STDOUT_FILENO) }
    public static func error(_ text: String) { write(text, to: STDERR_FILENO) }

    /// Bytes as they are (a znode's data need not be text).
    public static func output(_ bytes: [UInt8]) { write(bytes, to: STDOUT_FILENO) }

    public static func write(_ text: String, to fd: Int32) { write(Array(text.utf8), to: fd) }

    public static func write(_ bytes: [UInt8], to fd: Int32) {
        var bytes = bytes
        // stdio's buffer first, so what print() wrote before stays in order with this.
        fflush(nil)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                // EPIPE or a closed descriptor: nobody reads any more. Standard output gone ends the
                // command as a SIGPIPE would have (128 + 13), without a crash report.
                if errno == EPIPE && fd == STDOUT_FILENO { exit(141) }
                return
            }
            offset += written
        }
    }
}
