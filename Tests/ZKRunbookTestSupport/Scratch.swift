import Foundation

/// A fresh folder under /tmp for one test, removed when the value goes away: the one scratch helper of
/// every suite.
public final class Scratch: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "t") {
        path = NSTemporaryDirectory() + "zkr-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` to `name` (folders made as needed) and returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String) -> String {
        let target = file(name)
        try? FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: target, contents: Data(text.utf8))
        return target
    }

    /// Makes a folder (and its parents) and returns its path.
    @discardableResult
    public func folder(_ name: String) -> String {
        try? FileManager.default.createDirectory(atPath: file(name), withIntermediateDirectories: true)
        return file(name)
    }

    /// The file's text, nil when it is not there.
    public func read(_ name: String) -> String? { try? String(contentsOfFile: file(name), encoding: .utf8) }

    /// The file's text, empty when it is not there (for a log a test watches grow).
    public func text(_ name: String) -> String { read(name) ?? "" }

    /// The run ids in this folder's state directory.
    public var runIDs: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: file("state/runs"))) ?? []).sorted() }
}

/// Scratch folders kept alive together (a suite that hands out paths, not `Scratch` values).
public final class Scratches: @unchecked Sendable {
    private var kept: [Scratch] = []
    private let lock = NSLock()
    public init() {}
    public func keep(_ scratch: Scratch) {
        lock.lock()
        kept.append(scratch)
        lock.unlock()
    }
}
