import Testing

extension Tag {
    /// Starts real ZooKeeper servers (Java, ZooKeeper's jars): `swift test --skip-tags realZooKeeper` for a fast loop.
    @Tag public static var realZooKeeper: Self
    /// Goes through a real OpenSSH server on loopback (openssh-server).
    @Tag public static var ssh: Self
    /// Runs a real, independent ZooKeeper client as a witness (python3-kazoo).
    @Tag public static var witness: Self
}
