import Foundation
import ZKRunbookEngine

/// Writes a .tar.gz as a stream: tar (ustar) records produced here, compressed by the system's gzip.
///
/// Nothing is held in memory beyond one chunk, whatever the size of the logs; gzip runs as its own
/// process, so compression uses the second core while this one reads, masks and hashes.
final class TarGzWriter: @unchecked Sendable {
    let path: String
    private let gzip = Process()
    private let input = Pipe()
    private let output: FileHandle
    /// gzip's output comes back through this pipe: hashed on the way to the file, so the archive's
    /// sha256 needs no second read.
    private let compressed = Pipe()
    private var archiveHasher = SHA256()
    private let archiveDone = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var failed: String?
    /// Chunks on their way to gzip: written by a thread of their own, so reading, masking and hashing
    /// the next chunk overlaps with gzip compressing this one. At most 8 chunks wait (memory stays flat).
    private let queue = BoundedQueue<Data>(capacity: 8)
    private let drained = DispatchSemaphore(value: 0)

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BundleError("cannot create \(path): \(String(cString: strerror(errno)))") }
        fchmod(fd, 0o600)
        output = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        gzip.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: "/bin/gzip") ? "/bin/gzip" : "/usr/bin/gzip")
        // -1: the fastest level. A bundle is taken on a node that is often already in trouble; it should
        // cost ZooKeeper as little CPU as it can. The archive is about a fifth larger than at -6.
        gzip.arguments = ["-c", "-1"]
        gzip.standardInput = input
        gzip.standardOutput = compressed
        gzip.standardError = FileHandle.nullDevice
        do { try gzip.run() } catch { throw BundleError("cannot start gzip: \(error.localizedDescription) (apt-get install -y gzip)") }
        // A 1 MiB pipe (Linux F_SETPIPE_SZ) lets gzip read ahead while the next chunk is prepared.
        _ = fcntl(input.fileHandleForWriting.fileDescriptor, 1031, 1 << 20)
        let thread = Thread { [self] in self.drain() }
        thread.name = "zkrunbook.bundle-writer"
        thread.start()
        Thread.detachNewThread { [self] in self.collectArchive() }
    }

    /// Reads gzip's output, hashes it and writes it to the archive file.
    private func collectArchive() {
        defer { archiveDone.signal() }
        let source = compressed.fileHandleForReading.fileDescriptor
        let target = output.fileDescriptor
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            buffer.withUnsafeBytes { raw in
                let slice = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                archiveHasher.update(bytes: slice)
                var offset = 0
                while offset < count {
                    let written = Glibc.write(target, slice.baseAddress! + offset, count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        lock.lock()
                        if failed == nil { failed = "writing the archive failed: \(String(cString: strerror(errno)))" }
                        lock.unlock()
                        return
                    }
                    offset += written
                }
            }
        }
    }

    /// The writer thread: takes chunks in order and writes them to gzip; an empty chunk ends it.
    private func drain() {
        let fd = input.fileHandleForWriting.fileDescriptor
        while true {
            let chunk = queue.take()
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { raw in
                guard var pointer = raw.baseAddress else { return }
                var remaining = raw.count
                while remaining > 0 {
                    let written = Glibc.write(fd, pointer, remaining)
                    if written < 0 {
                        if errno == EINTR { continue }
                        lock.lock()
                        if failed == nil { failed = "writing to gzip failed: \(String(cString: strerror(errno)))" }
                        lock.unlock()
                        return
                    }
                    remaining -= written
                    pointer += written
                }
            }
        }
        drained.signal()
    }

    private func enqueue(_ chunk: Data) { queue.put(chunk) }

    private func write(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        enqueue(Data(bytes))
    }

    private func write(_ bytes: [UInt8]) { bytes.withUnsafeBytes { write($0) } }

    /// A ustar header for a regular file of `size` bytes.
    private func header(name: String, size: Int64, mode: Int = 0o600, mtime: Date) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            let bytes = Array(text.utf8.prefix(width))
            for (index, byte) in bytes.enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int64, at offset: Int, width: Int) {
            put(String(String(value, radix: 8).suffix(width - 1)).leftPadded(to: width - 1), at: offset, width: width - 1)
        }
        var fullName = name
        var prefix = ""
        if fullName.utf8.count > 100, let slash = fullName.utf8.count > 100 ? fullName.lastIndex(of: "/") : nil {
            prefix = String(fullName[..<slash])
            fullName = String(fullName[fullName.index(after: slash)...])
        }
        put(fullName, at: 0, width: 100)
        octal(Int64(mode), at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(Int64(mtime.timeIntervalSince1970), at: 136, width: 12)
        for index in 148..<156 { block[index] = UInt8(ascii: " ") }
        block[156] = UInt8(ascii: "0")
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        put("root", at: 265, width: 32)
        put("root", at: 297, width: 32)
        put(prefix, at: 345, width: 155)
        let checksum = block.reduce(0) { $0 + Int64($1) }
        put(String(String(checksum, radix: 8).leftPadded(to: 6)) + "\0 ", at: 148, width: 8)
        return block
    }

    private func pad(_ size: Int64) {
        let remainder = Int(size % 512)
        if remainder != 0 { write([UInt8](repeating: 0, count: 512 - remainder)) }
    }

    /// Adds bytes already in memory (small items: replies, configs, the manifest).
    func add(name: String, data: Data, mtime: Date = Date()) {
        write(header(name: name, size: Int64(data.count), mtime: mtime))
        data.withUnsafeBytes { write($0) }
        pad(Int64(data.count))
    }

    /// Adds `size` bytes that `produce` streams in chunks; it must produce exactly `size` bytes.
    func add(name: String, size: Int64, mtime: Date, produce: ((UnsafeRawBufferPointer) -> Void) -> Int64) {
        write(header(name: name, size: size, mtime: mtime))
        let produced = produce { write($0) }
        if produced < size {
            // A file that shrank while being read: pad with zeros so the archive stays valid.
            var missing = size - produced
            let zeros = [UInt8](repeating: 0, count: 65_536)
            while missing > 0 {
                let chunk = Int(min(missing, Int64(zeros.count)))
                zeros.withUnsafeBytes { write(UnsafeRawBufferPointer(rebasing: $0[0..<chunk])) }
                missing -= Int64(chunk)
            }
        }
        pad(size)
    }

    /// Ends the archive and waits for gzip; returns the archive's sha256; throws if anything failed.
    func finish() throws -> String {
        write([UInt8](repeating: 0, count: 1024))
        enqueue(Data())
        drained.wait()
        try? input.fileHandleForWriting.close()
        gzip.waitUntilExit()
        archiveDone.wait()
        try? output.synchronize()
        lock.lock()
        let failure = failed
        lock.unlock()
        if let failure { throw BundleError(failure) }
        guard gzip.terminationStatus == 0 else { throw BundleError("gzip exited with status \(gzip.terminationStatus)") }
        return archiveHasher.finalizeHex()
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// A bundle problem, said plainly.
public struct BundleError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
