import Testing
import ZKRunbookZooKeeper

/// Where a node's checks ask its server: the kernel's listening table, in lines this machine's kernel wrote
/// (a socket bound to 127.0.0.2, one to 0.0.0.0, one to ::, and a JVM's IPv4-mapped one).
struct ListeningAddressTests {
    static let tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           1: 0200007F:4705 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 208903 1 0000000058c91195 100 0 0 10 0
           3: 00000000:4707 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 208905 1 00000000276c530d 100 0 0 10 0
        """
    static let tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
          20: 00000000000000000000000000000000:4706 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 208904 1 00000000346281da 100 0 0 10 0
           0: 0000000000000000FFFF00000100007F:5017 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 207507 1 00000000aa404d5e 100 0 0 10 0
        """

    @Test func aServerBoundToItsAddressIsAskedThere() {
        #expect(ListeningAddress.resolve(port: 0x4705, tcp: Self.tcp, tcp6: Self.tcp6).host == "127.0.0.2")
        #expect(ListeningAddress.resolve(port: 0x5017, tcp: Self.tcp, tcp6: Self.tcp6).host == "127.0.0.1")
        #expect(ListeningAddress.sockets(port: 0x5017, tcp: Self.tcp, tcp6: Self.tcp6) == [.init(address: "127.0.0.1", isIPv6: true)])
    }

    @Test func aWildcardOrNothingListeningMeansLoopback() {
        #expect(ListeningAddress.sockets(port: 0x4707, tcp: Self.tcp, tcp6: Self.tcp6) == [.init(address: nil, isIPv6: false)])
        #expect(ListeningAddress.resolve(port: 0x4706, tcp: Self.tcp, tcp6: Self.tcp6).host == "127.0.0.1")
        #expect(ListeningAddress.resolve(port: 2181, tcp: Self.tcp, tcp6: Self.tcp6).host == "127.0.0.1")
        #expect(ListeningAddress.sockets(port: 2181, tcp: Self.tcp, tcp6: Self.tcp6).isEmpty)
    }
}
