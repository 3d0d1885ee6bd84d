import Foundation
import Testing
import ZKRunbookEngine
import ZKRunbookTestSupport

/// The atomic copy: the kernel's copy on one file system, the buffered one across two, the digest of the
/// copy's bytes from the thread behind it, and the check seeing the whole copy before it is named.
struct FileWritesTests {
    /// 40 MiB crosses the 16 MiB pieces of the kernel copy and the 4 MiB reads of the hasher.
    static let contents: Data = {
        var generator = SystemRandomNumberGenerator()
        var words = [UInt64](repeating: 0, count: (40 << 20) / 8)
        for index in words.indices { words[index] = generator.next() }
        return words.withUnsafeBytes { Data($0) }
    }()

    func copyChecked(from source: String, into scratch: Scratch) throws {
        let destination = scratch.file("copy")
        var seenByCheck: Int64 = -1
        let copied = try copyFileAtomically(from: source, to: destination, mode: 0o640, uid: getuid(), gid: getgid()) { temporary in
            seenByCheck = FileInfo.stat(temporary)?.size ?? -1
            return (temporary as NSString).lastPathComponent
        }
        #expect(seenByCheck == Int64(Self.contents.count), "the check ran before every byte was in")
        #expect(copied.checked != "copy", "the check ran on the final name, not the temporary one")
        #expect(copied.sha256 == SHA256.hex(Self.contents))
        #expect(FileManager.default.contents(atPath: destination) == Self.contents)
        #expect(FileInfo.stat(destination)?.mode == 0o640)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["copy"], "a temporary file was left")
    }

    @Test func copiesOnOneFileSystemWithTheKernelsCopy() throws {
        let scratch = Scratch("copy")
        let source = scratch.file("source")
        try Self.contents.write(to: URL(fileURLWithPath: source))
        let target = Scratch("copy-target")
        try copyChecked(from: source, into: target)
    }

    /// /dev/shm is tmpfs and /tmp is not here: copy_file_range says EXDEV (or copies) and the buffer takes over.
    @Test func copiesAcrossFileSystems() throws {
        let shm = "/dev/shm"
        try #require(FileInfo.stat(shm)?.isDirectory == true, "/dev/shm (a tmpfs every Linux mounts) is missing: mount -t tmpfs tmpfs /dev/shm")
        let source = shm + "/zkr-copy-\(getpid())"
        defer { unlink(source) }
        try Self.contents.write(to: URL(fileURLWithPath: source))
        try copyChecked(from: source, into: Scratch("copy-across"))
    }

    @Test func aFailedCopyLeavesNothing() throws {
        let scratch = Scratch("copy-fail")
        let source = scratch.write("source", "some bytes")
        #expect(throws: FileCopyError.self) { try copyFileAtomically(from: source, to: scratch.file("missing/copy"), mode: 0o644, uid: getuid(), gid: getgid()) }
        #expect(throws: FileCopyError.self) { try copyFileAtomically(from: scratch.file("absent"), to: scratch.file("copy"), mode: 0o644, uid: getuid(), gid: getgid()) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["source"])
    }
}
