/// Replies as ZooKeeper 3.8 sent them (captured from the sandbox), and older formats where they differ: for
/// every suite that needs a server's words without a server.
public enum Fixtures {
    public static let followerSrvr = """
        Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC
        Latency min/avg/max: 0/0.5/3
        Received: 12
        Sent: 11
        Connections: 1
        Outstanding: 0
        Zxid: 0x200000007
        Mode: follower
        Node count: 5

        """
    public static let leaderSrvr = """
        Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC
        Latency min/avg/max: 0/0.0/0
        Received: 1
        Sent: 0
        Connections: 1
        Outstanding: 0
        Zxid: 0x20000000a
        Mode: leader
        Node count: 5
        Proposal sizes last/min/max: -1/-1/-1

        """
    public static let stat = """
        Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC
        Clients:
         /127.0.0.1:46462[0](queued=0,recved=1,sent=0)

        Latency min/avg/max: 0/0.0/0
        Received: 4
        Sent: 5
        Connections: 1
        Outstanding: 0
        Zxid: 0x100000000
        Mode: follower
        Node count: 5

        """
    /// 3.6+ names: zk_learners; synced counts only on the leader.
    public static let leaderMntr36 =
        "zk_version\t3.8.0\nzk_server_state\tleader\nzk_synced_followers\t2\nzk_synced_observers\t1\nzk_pending_syncs\t0\nzk_learners\t3\nzk_quorum_size\t3\nzk_znode_count\t5\nzk_avg_latency\t0.0\n"
    /// 3.5 names: zk_followers.
    public static let leaderMntr35 = "zk_version\t3.5.9\nzk_server_state\tleader\nzk_followers\t4\nzk_synced_followers\t4\nzk_pending_syncs\t1\n"
    public static let adminSrvr = """
        {"version": "3.8.0", "read_only": false, "server_stats": {"server_state": "follower", "outstanding_requests": 0,
         "last_processed_zxid": 4294967299, "num_alive_client_connections": 2, "avg_latency": 0.5, "min_latency": 0,
         "max_latency": 3, "packets_sent": 9, "packets_received": 10, "uptime": 169}, "node_count": 5, "command": "server_stats", "error": null}
        """
}
