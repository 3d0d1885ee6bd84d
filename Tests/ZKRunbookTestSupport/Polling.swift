import Foundation

/// A test's own failure to set up or wait: says what it waited for, or what to install.
public struct HarnessError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Polls `condition` every `interval` seconds up to `timeout`: waiting for a ready marker, never a fixed sleep.
/// Throws, naming `what`, when the time runs out.
public func poll(_ what: String, timeout: Double = 20, every interval: Double = 0.02, until condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while try !condition() {
        if Date() > deadline { throw HarnessError(message: "timed out after \(timeout)s waiting for \(what)") }
        Thread.sleep(forTimeInterval: interval)
    }
}

/// The same, for a test that asserts on the result itself: true as soon as `condition` holds, false after `timeout`.
public func eventually(_ timeout: Double = 20, every interval: Double = 0.05, _ condition: () -> Bool) -> Bool {
    (try? poll("a condition", timeout: timeout, every: interval, until: condition)) != nil
}

/// Pids of live processes (not this one) whose command line starts with `name` and contains `text`: a
/// grandchild by its marker, a sandbox's JVM by its folder. Read from /proc, so no pgrep is needed.
public func processes(named name: String = "", commandLineContaining text: String = "") -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap { entry in
        guard let pid = Int32(entry), pid != getpid(), let bytes = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
        let cmdline = String(decoding: bytes, as: UTF8.self)
        return cmdline.hasPrefix(name) && (text.isEmpty || cmdline.contains(text)) ? pid : nil
    }
}

/// The repository root, found from this source file's path.
public let repositoryRoot: String = {
    var path = #filePath
    for _ in 0..<3 { path = (path as NSString).deletingLastPathComponent }
    return path
}()

/// The JSON objects of `--json` output (JSON Lines); a line that is not a JSON object is skipped.
public func jsonLines(_ text: String) -> [[String: Any]] {
    text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
}
