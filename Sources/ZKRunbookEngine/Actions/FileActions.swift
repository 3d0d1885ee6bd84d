import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `file`: a read-only probe of a path (exists, size, mode, owner, sha256) for guards.
struct FileProbeAction: ActionKind {
    let name = "file"
    let summary = "read-only probe of a path: exists, isDirectory, size, mode, uid, gid, sha256"

    func prepare(_ arguments: ActionArguments) -> (any PreparedAction)? {
        guard let path = arguments.reader.template("path", required: true) else { return nil }
        return PreparedFileProbe(path: path)
    }
}

struct PreparedFileProbe: PreparedAction {
    var path: Template
    var isReadOnly: Bool { true }
    var templates: [Template] { [path] }

    func describe(_ resolver: TemplateResolver) -> [String] { ["inspect \(path.display(resolver))"] }

    func execute(_ context: ActionContext) -> ActionOutcome {
        let resolved: String
        switch context.resolve(path) {
        case .success(let value): resolved = value
        case .failure(let outcome): return outcome
        }
        guard let info = FileInfo.stat(resolved) else {
            return .success("\(resolved) does not exist", facts: ["exists": .bool(false), "path": .string(resolved)])
        }
        var facts = info.facts
        facts["path"] = .string(resolved)
        if info.isRegular, info.size <= 64 << 20, let digest = try? SHA256.hex(fileAt: resolved) {
            facts["sha256"] = .string(digest)
        }
        return .success("\(resolved) exists", facts: facts)
    }
}

/// What stat(2) says of a path, in the shape guards and backups use.
public struct FileInfo: Sendable {
    public var mode: mode_t
    public var uid: uid_t
    public var gid: gid_t
    public var size: Int64
    public var isRegular: Bool
    public var isDirectory: Bool

    public static func stat(_ path: String) -> FileInfo? {
        var buffer = Glibc.stat()
        guard lstatFollowing(path, &buffer) == 0 else { return nil }
        let type = buffer.st_mode & S_IFMT
        return FileInfo(
            mode: buffer.st_mode & 0o7777, uid: buffer.st_uid, gid: buffer.st_gid, size: Int64(buffer.st_size),
            isRegular: type == S_IFREG, isDirectory: type == S_IFDIR)
    }

    var facts: [String: FactValue] {
        [
            "exists": .bool(true), "isDirectory": .bool(isDirectory), "size": .int(size),
            "mode": .string(String(format: "%04o", mode)), "uid": .int(Int64(uid)), "gid": .int(Int64(gid)),
        ]
    }
}

/// stat(2), named apart from the struct so Swift picks the function.
private func lstatFollowing(_ path: String, _ buffer: inout Glibc.stat) -> Int32 {
    stat(path, &buffer)
}

/// Errors from file copies, as a message an operator can act on.
public struct FileCopyError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    static func errno(_ what: String, _ path: String) -> FileCopyError {
        FileCopyError(message: "\(what) \(path): \(String(cString: strerror(Glibc.errno)))")
    }
}

/// Copies a file to a temporary name beside `destination`, sets mode and owner, fsyncs, then renames it into
/// place: a reader never sees a half-written file, and a crash leaves either the old or the new one.
/// Returns the sha256 of what was copied.
@discardableResult
public func copyFileAtomically(from source: String, to destination: String, mode: mode_t, uid: uid_t, gid: gid_t) throws(FileCopyError) -> String {
    let input = open(source, O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { throw FileCopyError.errno("cannot open", source) }
    defer { close(input) }
    return try replaceAtomically(destination, mode: mode, uid: uid, gid: gid) { output, temporary, hasher throws(FileCopyError) in
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let count = read(input, buffer, 1 << 16)
            if count < 0 {
                if errno == EINTR { continue }
                throw FileCopyError.errno("cannot read", source)
            }
            if count == 0 { return }
            hasher.update(Data(bytes: buffer, count: count))
            try writeAll(output, buffer, count, temporary)
        }
    }
}

/// Writes `data` as `destination` the same way: temporary file, mode and owner, fsync, rename.
@discardableResult
public func writeFileAtomically(_ data: Data, to destination: String, mode: mode_t, uid: uid_t, gid: gid_t) throws(FileCopyError) -> String {
    try replaceAtomically(destination, mode: mode, uid: uid, gid: gid) { output, temporary, hasher throws(FileCopyError) in
        hasher.update(data)
        var failure: FileCopyError?
        data.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            do throws(FileCopyError) { try writeAll(output, UnsafeMutableRawPointer(mutating: base), bytes.count, temporary) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}

private func writeAll(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, _ path: String) throws(FileCopyError) {
    var written = 0
    while written < count {
        let step = write(fd, buffer + written, count - written)
        if step < 0 {
            if errno == EINTR { continue }
            throw FileCopyError.errno("cannot write", path)
        }
        written += step
    }
}

/// The shared part of an atomic replace: `fill` writes the temporary file; nothing is left behind on failure.
private func replaceAtomically(
    _ destination: String, mode: mode_t, uid: uid_t, gid: gid_t,
    fill: (Int32, String, inout SHA256) throws(FileCopyError) -> Void
) throws(FileCopyError) -> String {
    let directory = (destination as NSString).deletingLastPathComponent
    let temporary = (directory.isEmpty ? "." : directory) + "/.\((destination as NSString).lastPathComponent).zkrunbook-\(getpid())"
    let output = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard output >= 0 else { throw FileCopyError.errno("cannot create", temporary) }
    var hasher = SHA256()
    var ok = false
    var closed = false
    defer {
        if !closed { close(output) }
        if !ok { unlink(temporary) }
    }
    try fill(output, temporary, &hasher)
    // chown may fail for an unprivileged user when the owner differs; the mode is still kept.
    if fchown(output, uid, gid) != 0 && getuid() == 0 { throw FileCopyError.errno("cannot set owner of", temporary) }
    guard fchmod(output, mode) == 0 else { throw FileCopyError.errno("cannot set mode of", temporary) }
    guard fsync(output) == 0 else { throw FileCopyError.errno("cannot fsync", temporary) }
    close(output)
    closed = true
    guard rename(temporary, destination) == 0 else { throw FileCopyError.errno("cannot rename into", destination) }
    ok = true
    let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if directoryFD >= 0 {
        fsync(directoryFD)
        close(directoryFD)
    }
    return hasher.finalizeHex()
}

/// `backup-file`: copy a file into the run's directory, keeping mode and owner, for a later `restore-file`.
struct BackupFileAction: ActionKind {
    let name = "backup-file"
    let summary = "copy a file into the run's backup folder (mode and owner kept) for restore-file"

    func prepare(_ arguments: ActionArguments) -> (any PreparedAction)? {
        let path = arguments.reader.template("path", required: true)
        let destination = arguments.reader.template("to")
        guard let path else { return nil }
        return PreparedBackup(path: path, destination: destination)
    }
}

struct PreparedBackup: PreparedAction {
    var path: Template
    var destination: Template?
    var isReadOnly: Bool { false }
    var templates: [Template] { [path] + [destination].compactMap { $0 } }

    func describe(_ resolver: TemplateResolver) -> [String] {
        let target = destination?.display(resolver) ?? "${run.dir}/backups/<step>/"
        return ["back up \(path.display(resolver)) to \(target)"]
    }

    func execute(_ context: ActionContext) -> ActionOutcome {
        let source: String
        switch context.resolve(path) {
        case .success(let value): source = value
        case .failure(let outcome): return outcome
        }
        guard let info = FileInfo.stat(source), info.isRegular else {
            return .failure(cause: .fileMissing, message: "\(source) is not a regular file; nothing to back up")
        }
        var target: String
        if let destination {
            switch context.resolve(destination) {
            case .success(let value): target = value
            case .failure(let outcome): return outcome
            }
        } else {
            target = context.resolver.runDirectory + "/backups/" + context.stepID
        }
        if target.hasSuffix("/") || FileInfo.stat(target)?.isDirectory == true || destination == nil {
            do {
                try FileManager.default.createDirectory(
                    atPath: target, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                return .failure(cause: .ioError, message: "cannot create backup folder \(target): \(error.localizedDescription)")
            }
            target = (target as NSString).appendingPathComponent((source as NSString).lastPathComponent)
        }
        do {
            let digest = try copyFileAtomically(from: source, to: target, mode: info.mode, uid: info.uid, gid: info.gid)
            var facts = info.facts
            facts["path"] = .string(source)
            facts["backupPath"] = .string(target)
            facts["sha256"] = .string(digest)
            return .success("backed up \(source) to \(target)", facts: facts)
        } catch {
            return .failure(cause: .ioError, message: error.message)
        }
    }
}

/// `restore-file`: put a backed-up file back atomically, with the mode and owner it had when backed up.
struct RestoreFileAction: ActionKind {
    let name = "restore-file"
    let summary = "restore a file from a backup-file step (atomic rename, mode and owner kept)"

    func prepare(_ arguments: ActionArguments) -> (any PreparedAction)? {
        let reader = arguments.reader
        let backupStep = reader.string("backupStep")
        var path = reader.template("path")
        var from = reader.template("from")
        if let backupStep {
            if from != nil {
                reader.diagnostics.error(reader.location, "give either 'backupStep' or 'from', not both")
            }
            from = Template(
                segments: [.reference(.stepFact(step: backupStep, fact: "backupPath"))], location: reader.location,
                source: "${steps.\(backupStep).backupPath}")
            if path == nil {
                path = Template(
                    segments: [.reference(.stepFact(step: backupStep, fact: "path"))], location: reader.location,
                    source: "${steps.\(backupStep).path}")
            }
        }
        guard let from else {
            reader.diagnostics.error(reader.location, "restore-file needs 'backupStep' (the id of a backup-file step) or 'from' and 'path'")
            return nil
        }
        guard let path else {
            reader.diagnostics.error(reader.location, "restore-file with 'from' also needs 'path'")
            return nil
        }
        return PreparedRestore(path: path, from: from)
    }
}

struct PreparedRestore: PreparedAction {
    var path: Template
    var from: Template
    var isReadOnly: Bool { false }
    var templates: [Template] { [path, from] }

    func describe(_ resolver: TemplateResolver) -> [String] {
        ["restore \(path.display(resolver)) from \(from.display(resolver))"]
    }

    func execute(_ context: ActionContext) -> ActionOutcome {
        let values: [String]
        switch context.resolveAll([path, from]) {
        case .success(let resolved): values = resolved
        case .failure(let outcome): return outcome
        }
        let (target, source) = (values[0], values[1])
        guard let info = FileInfo.stat(source), info.isRegular else {
            return .failure(cause: .fileMissing, message: "backup \(source) is missing; cannot restore \(target)")
        }
        do {
            let digest = try copyFileAtomically(from: source, to: target, mode: info.mode, uid: info.uid, gid: info.gid)
            return .success("restored \(target)", facts: ["path": .string(target), "sha256": .string(digest)])
        } catch {
            return .failure(cause: .ioError, message: error.message)
        }
    }
}
