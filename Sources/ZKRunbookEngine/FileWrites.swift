import Foundation

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

