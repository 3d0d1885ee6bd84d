import Foundation

/// What was redacted, by name only: the bundle's REDACTION.md. Values are never recorded here.
public final class RedactionReport: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var entries: [(source: String, what: String)] = []
    /// Every secret value found while redacting: masked again wherever else it turns up (logs, replies).
    private(set) var secrets: Set<String> = []

    public init() {}

    func record(_ source: String, _ what: String, value: String?) {
        lock.lock()
        defer { lock.unlock() }
        entries.append((source, what))
        if let value {
            let trimmed = value.trimmingCharacters(in: CharacterSet(charactersIn: "\"' \t\r"))
            if trimmed.count >= 3 { secrets.insert(trimmed) }
        }
    }

    var markdown: String {
        lock.lock()
        defer { lock.unlock() }
        var lines = [
            "# What was redacted", "",
            "Values were replaced by asterisks of the same length (so sizes and offsets in the bundle stay true);",
            "each value below was also masked wherever else it appeared (logs, four-letter-word replies, command output).",
            "Files that hold key material (keystores, truststores, keytabs, password files) were left out entirely.", "",
            "| source | what |", "| --- | --- |",
        ]
        lines += entries.map { "| \($0.source) | \($0.what) |" }
        if entries.isEmpty { lines.append("| - | nothing needed redacting |") }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Which names hold secrets, and how to redact each kind of file zkrunbook collects.
///
/// Guaranteed rather than best-effort: a key is secret when its name says so broadly (password, secret,
/// token, key, credential, superDigest, ssl.quorum.*); the values found are then masked in every other
/// item too, so a password that a log line or `envi` repeats is caught as well.
public enum ConfigRedactor {
    static let secretWords = ["password", "passwd", "secret", "token", "credential", "superdigest", "key"]

    /// True for a property or variable name whose value must not leave the node: it contains password,
    /// secret, token, key or credential (any case), or is superDigest or an ssl.quorum.* setting.
    public static func isSecretName(_ name: String) -> Bool {
        let lower = name.lowercased()
        if lower.hasPrefix("ssl.quorum.") || lower.hasPrefix("zookeeper.ssl.quorum.") { return true }
        return secretWords.contains { lower.contains($0) }
    }

    /// Files left out whole: key material and the files that `*.passwordPath` / `*.location` keys name.
    public static func isKeyMaterial(_ path: String) -> Bool {
        let lower = (path as NSString).lastPathComponent.lowercased()
        return [".jks", ".p12", ".pfx", ".keystore", ".truststore", ".keytab", ".key", ".bcfks"].contains { lower.hasSuffix($0) }
            || lower.contains("password")
    }

    static func mask(_ value: String) -> String { String(repeating: "*", count: value.count) }

    /// `key=value` / `key: value` files (zoo.cfg, java properties, log4j): secret values masked.
    public static func redactProperties(_ text: String, source: String, report: RedactionReport) -> String {
        text.components(separatedBy: "\n").map { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { return line }
            let key = line[..<separator].trimmingCharacters(in: .whitespaces)
            let value = String(line[line.index(after: separator)...])
            guard isSecretName(key), !value.trimmingCharacters(in: .whitespaces).isEmpty else { return line }
            report.record(source, "value of \(key)", value: value)
            return String(line[...separator]) + mask(value)
        }.joined(separator: "\n")
    }

    /// Shell environment files (java.env, zookeeper-env.sh) and /proc environ: `NAME=value` lines, and
    /// `-Dname=value` options inside any value.
    public static func redactEnvironment(_ text: String, source: String, report: RedactionReport) -> String {
        let assignment = try! NSRegularExpression(pattern: #"^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.]*)=(.*)$"#)
        return text.components(separatedBy: "\n").map { line in
            let range = NSRange(line.startIndex..., in: line)
            guard let match = assignment.firstMatch(in: line, range: range),
                let nameRange = Range(match.range(at: 2), in: line), let valueRange = Range(match.range(at: 3), in: line)
            else { return redactCommandLine(line, source: source, report: report) }
            let name = String(line[nameRange])
            let value = String(line[valueRange])
            if isSecretName(name) && !value.isEmpty {
                report.record(source, "value of \(name)", value: value)
                return String(line[..<valueRange.lowerBound]) + mask(value)
            }
            return String(line[..<valueRange.lowerBound]) + redactCommandLine(value, source: source, report: report)
        }.joined(separator: "\n")
    }

    /// `-Dname=value` and `--name=value` options whose names are secret (a process's command line, JVMFLAGS).
    public static func redactCommandLine(_ text: String, source: String, report: RedactionReport) -> String {
        let option = try! NSRegularExpression(pattern: #"(-D|--)([A-Za-z0-9_.\-]+)=("[^"]*"|'[^']*'|[^\s"']+)"#)
        var result = text
        for match in option.matches(in: text, range: NSRange(text.startIndex..., in: text)).reversed() {
            guard let nameRange = Range(match.range(at: 2), in: text), let valueRange = Range(match.range(at: 3), in: text) else { continue }
            let name = String(text[nameRange])
            guard isSecretName(name) else { continue }
            let value = String(text[valueRange])
            report.record(source, "value of option \(name)", value: value)
            if let target = Range(match.range(at: 3), in: result) { result.replaceSubrange(target, with: mask(value)) }
        }
        return result
    }

    /// JAAS configuration: `password="…"`, `user_NAME="…"` and any other secret-named option.
    public static func redactJAAS(_ text: String, source: String, report: RedactionReport) -> String {
        let option = try! NSRegularExpression(pattern: #"([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*"([^"]*)""#)
        var result = text
        for match in option.matches(in: text, range: NSRange(text.startIndex..., in: text)).reversed() {
            guard let nameRange = Range(match.range(at: 1), in: text), let valueRange = Range(match.range(at: 2), in: text) else { continue }
            let name = String(text[nameRange])
            guard isSecretName(name) || name.hasPrefix("user_") else { continue }
            let value = String(text[valueRange])
            report.record(source, "value of \(name)", value: value)
            if let target = Range(match.range(at: 2), in: result) { result.replaceSubrange(target, with: mask(value)) }
        }
        return result
    }
}

/// Masks known secret values in a stream, in place and with the same length, across chunk boundaries.
///
/// Same length keeps a file's size known before it is read (a tar header needs it) and offsets true.
struct SecretScrubber {
    let secrets: [[UInt8]]
    let overlap: Int

    init(secrets: Set<String>) {
        self.secrets = secrets.map { Array($0.utf8) }.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
        overlap = max(0, (self.secrets.first?.count ?? 1) - 1)
    }

    var isEmpty: Bool { secrets.isEmpty }

    /// Masks every secret in `bytes` (which may end mid-secret; the caller keeps `overlap` bytes for the next call).
    /// memchr finds each candidate first byte, so a chunk without secrets costs about one fast scan per secret.
    func scrub(_ bytes: inout [UInt8]) {
        guard !secrets.isEmpty else { return }
        bytes.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let count = buffer.count
            for secret in secrets where count >= secret.count {
                secret.withUnsafeBytes { needle in
                    var index = 0
                    while let position = ByteSearch.first(needle, in: UnsafeRawBufferPointer(buffer), from: index) {
                        (base + position).update(repeating: UInt8(ascii: "*"), count: needle.count)
                        index = position + needle.count
                    }
                }
            }
        }
    }
}

/// Finds bytes in bytes: memchr for the first byte, memcmp for the rest (Glibc's memmem is not exposed).
enum ByteSearch {
    static func first(_ needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = haystack.baseAddress, let pattern = needle.baseAddress, needle.count > 0 else { return nil }
        let length = needle.count
        let first = Int32(pattern.load(as: UInt8.self))
        var index = start
        while index <= haystack.count - length {
            guard let hit = memchr(base + index, first, haystack.count - length + 1 - index) else { return nil }
            let position = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(base + position, pattern, length) == 0 { return position }
            index = position + 1
        }
        return nil
    }
}
