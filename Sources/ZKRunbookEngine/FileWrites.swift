import CZKRunbookBytes
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

/// A small file's bytes with open(2) and read(2): `URL(fileURLWithPath:)` and `Data(contentsOf:)` cost a short
/// command (a plan, an agent's start) more than reading the file.
public func readSmallFile(_ path: String, limit: Int = 64 << 20) throws(FileCopyError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .errno("cannot open", path) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw .errno("cannot read", path)
        }
        if count == 0 { return bytes }
        bytes += chunk[0..<count]
        if bytes.count > limit { throw FileCopyError(message: "\(path) is larger than \(limit >> 20) MiB") }
    }
}

/// Copies a file to a temporary name beside `destination`, sets mode and owner, fsyncs, then renames it into
/// place: a reader never sees a half-written file, and a crash leaves either the old or the new one.
/// Returns the sha256 of what was copied.
@discardableResult
public func copyFileAtomically(from source: String, to destination: String, mode: mode_t, uid: uid_t, gid: gid_t) throws(FileCopyError) -> String {
    try copyFileAtomically(from: source, to: destination, mode: mode, uid: uid, gid: gid, check: { _ in () }).sha256
}

/// The same copy, with `check` run on the copy's temporary path once every byte is in and before it is
/// renamed; what it returns comes back beside the digest (a backup parses a snapshot's copy there).
/// Two cores work at once: this thread has the kernel copy (copy_file_range; through a buffer where the file
/// systems do not allow it) and starts writing the pages out as it goes, so the fsync at the end has little
/// left; a second thread hashes the copy's own bytes right behind it, and finishes while `check` runs.
public func copyFileAtomically<Checked>(
    from source: String, to destination: String, mode: mode_t, uid: uid_t, gid: gid_t, check: (String) -> Checked
) throws(FileCopyError) -> (sha256: String, checked: Checked) {
    let input = open(source, O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { throw FileCopyError.errno("cannot open", source) }
    defer { close(input) }
    var checked: Checked?
    let digest = try replaceAtomically(destination, mode: mode, uid: uid, gid: gid) { output, temporary throws(FileCopyError) in
        let hasher = FollowingHasher(fd: output, path: temporary)
        do throws(FileCopyError) {
            try copyContents(input, source, to: output, temporary, progress: hasher.advance)
        } catch {
            _ = try? hasher.finish()
            throw error
        }
        checked = check(temporary)
        return try hasher.finish()
    }
    return (digest, checked!)
}

/// Copies all of `input` into `output`, calling `progress` with the bytes copied so far after each piece.
private func copyContents(_ input: Int32, _ source: String, to output: Int32, _ temporary: String, progress: (Int) -> Void) throws(FileCopyError) {
    let piece = 16 << 20
    var inputOffset: Int64 = 0
    var outputOffset: Int64 = 0
    while true {
        let copied = zkrunbook_copy_file_range(input, &inputOffset, output, &outputOffset, piece)
        if copied == 0 { return }
        if copied < 0 {
            if errno == EINTR { continue }
            // Another file system, an old kernel, or one that does not copy: through a buffer from here on.
            if [EXDEV, ENOSYS, EINVAL, EOPNOTSUPP].contains(errno) { break }
            throw FileCopyError.errno("cannot copy into", temporary)
        }
        _ = zkrunbook_start_writeback(output, outputOffset - Int64(copied), Int64(copied))
        progress(Int(outputOffset))
    }
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 8)
    defer { buffer.deallocate() }
    while true {
        let count = pread(input, buffer, 1 << 20, off_t(inputOffset))
        if count < 0 {
            if errno == EINTR { continue }
            throw FileCopyError.errno("cannot read", source)
        }
        if count == 0 { return }
        try writeAll(output, buffer, count, temporary, at: outputOffset)
        inputOffset += Int64(count)
        outputOffset += Int64(count)
        progress(Int(outputOffset))
    }
}

/// SHA-256 of a file being written, on a thread of its own that reads each piece back as soon as the writer
/// says it is there: the digest is of the copy's bytes, and costs no time of the writer's.
private final class FollowingHasher: @unchecked Sendable {
    private let condition = NSCondition()
    private var written = 0
    private var ended = false
    private var digest: Result<String, FileCopyError>?

    init(fd: Int32, path: String) {
        Thread { [self] in
            let size = 4 << 20
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
            defer { buffer.deallocate() }
            var hasher = SHA256()
            var offset = 0
            var failure: FileCopyError?
            while failure == nil {
                condition.lock()
                while written <= offset && !ended { condition.wait() }
                let (available, done) = (written, ended)
                condition.unlock()
                while offset < available {
                    let count = pread(fd, buffer, min(size, available - offset), off_t(offset))
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else {
                        failure = FileCopyError.errno("cannot read back", path)
                        break
                    }
                    hasher.update(bytes: UnsafeRawBufferPointer(start: buffer, count: count))
                    offset += count
                }
                if done { break }
            }
            condition.lock()
            digest = failure.map { .failure($0) } ?? .success(hasher.finalizeHex())
            condition.broadcast()
            condition.unlock()
        }.start()
    }

    func advance(_ total: Int) {
        condition.lock()
        written = total
        condition.signal()
        condition.unlock()
    }

    /// Waits for the thread to hash everything written so far, and returns the digest.
    func finish() throws(FileCopyError) -> String {
        condition.lock()
        ended = true
        condition.broadcast()
        while digest == nil { condition.wait() }
        let result = digest!
        condition.unlock()
        return try result.get()
    }
}

/// Writes `data` as `destination` the same way: temporary file, mode and owner, fsync, rename.
@discardableResult
public func writeFileAtomically(_ data: Data, to destination: String, mode: mode_t, uid: uid_t, gid: gid_t) throws(FileCopyError) -> String {
    try replaceAtomically(destination, mode: mode, uid: uid, gid: gid) { output, temporary throws(FileCopyError) in
        var failure: FileCopyError?
        data.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            do throws(FileCopyError) { try writeAll(output, UnsafeMutableRawPointer(mutating: base), bytes.count, temporary, at: 0) } catch { failure = error }
        }
        if let failure { throw failure }
        return SHA256.hex(data)
    }
}

private func writeAll(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, _ path: String, at offset: Int64) throws(FileCopyError) {
    var written = 0
    while written < count {
        let step = pwrite(fd, buffer + written, count - written, off_t(offset) + off_t(written))
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
    fill: (Int32, String) throws(FileCopyError) -> String
) throws(FileCopyError) -> String {
    let directory = (destination as NSString).deletingLastPathComponent
    let temporary = (directory.isEmpty ? "." : directory) + "/.\((destination as NSString).lastPathComponent).zkrunbook-\(getpid())"
    let output = open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard output >= 0 else { throw FileCopyError.errno("cannot create", temporary) }
    var ok = false
    var closed = false
    defer {
        if !closed { close(output) }
        if !ok { unlink(temporary) }
    }
    let digest = try fill(output, temporary)
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
    return digest
}

