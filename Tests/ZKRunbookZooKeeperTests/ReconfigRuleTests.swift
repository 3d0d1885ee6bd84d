import Testing
import ZKRunbookZooKeeper

/// ZooKeeper's rule for a reconfig, decided in memory: a majority of the old voters and of the new ones serve.
struct ReconfigRuleTests {
    @Test func addingTheFourthVoterNeedsThreeOfTheNewFourServing() {
        #expect(QuorumMath.reconfigRefusal(oldVoters: [1, 2, 3], newVoters: [1, 2, 3, 4], serving: [1, 2, 4]) == nil)
        let refusal = QuorumMath.reconfigRefusal(oldVoters: [1, 2, 3], newVoters: [1, 2, 3, 4], serving: [1, 2])
        #expect(refusal == "the new voters (1,2,3,4) need 3 serving; 2 do (1,2)")
    }

    @Test func removingAServerIsJudgedAgainstTheOldAndTheNewVoters() {
        // 5 -> 4 with two down: the old five still have three, the new four have only two of three needed.
        let refusal = QuorumMath.reconfigRefusal(oldVoters: [1, 2, 3, 4, 5], newVoters: [1, 2, 3, 4], serving: [1, 2, 5])
        #expect(refusal == "the new voters (1,2,3,4) need 3 serving; 2 do (1,2)")
        // 3 -> 2 with the leaving one the only one down: both majorities hold.
        #expect(QuorumMath.reconfigRefusal(oldVoters: [1, 2, 3], newVoters: [1, 2], serving: [1, 2]) == nil)
        // Both sides short are both named.
        let both = QuorumMath.reconfigRefusal(oldVoters: [1, 2, 3], newVoters: [1, 2], serving: [1])
        #expect(both == "the old voters (1,2,3) need 2 serving; 1 do (1); the new voters (1,2) need 2 serving; 1 do (1)")
        #expect(QuorumMath.reconfigRefusal(oldVoters: [1], newVoters: [], serving: [1]) == "the new configuration has no voter")
    }
}

/// What a membership change asks ZooKeeper for, decided from the servers' config and the ensemble file.
struct MembershipChangeTests {
    let current = try! ZooConfig.parse(
        """
        server.1=10.0.0.1:2888:3888:participant;10.0.0.1:2181
        server.2=10.0.0.2:2888:3888:participant;10.0.0.2:2181
        server.3=10.0.0.3:2888:3888:participant;10.0.0.3:2181
        version=100000000
        """, path: "config"
    ).servers
    let written = (1...4).map { EnsembleMember(id: $0, host: "10.0.0.\($0)", clientPort: 2181, quorumPort: 2888, electionPort: 3888) }

    @Test func addTakesTheNewServersLineFromTheFile() throws {
        let request = try MembershipChange.add(4).request(current: current, written: written).get()
        #expect(request.joining == "server.4=10.0.0.4:2888:3888:participant;10.0.0.4:2181")
        #expect(request.after.map(\.id) == [1, 2, 3, 4] && request.newcomer == 4 && request.leaving == nil)
        #expect(MembershipChange.add(3).request(current: current, written: written) == .failure(.init("server 3 is already a member (servers 1,2,3)")))
        let unknown = MembershipChange.add(5).request(current: current, written: written)
        #expect((try? unknown.get()) == nil)
        if case .failure(let refusal) = unknown { #expect(refusal.isInput && refusal.message.contains("not in the ensemble file")) }
    }

    @Test func removeAndSetRoleChangeOnlyThatServer() throws {
        let removal = try MembershipChange.remove(2).request(current: current, written: written).get()
        #expect(removal.leaving == "2" && removal.joining == nil && removal.after.map(\.id) == [1, 3])
        #expect(MembershipChange.remove(9).request(current: current, written: written) == .failure(.init("server 9 is not a member (servers 1,2,3)")))
        let observer = try MembershipChange.setRole(3, .observer).request(current: current, written: written).get()
        #expect(observer.joining == "server.3=10.0.0.3:2888:3888:observer;10.0.0.3:2181")
        #expect(observer.after.filter { $0.role == .participant }.map(\.id) == [1, 2])
        #expect(MembershipChange.setRole(3, .participant).request(current: current, written: written) == .failure(.init("server 3 is already a participant")))
    }

    @Test func aStaticListGetsItsClientPartFromTheFile() throws {
        let staticList = try ZooConfig.parse("server.1=10.0.0.1:2888:3888\nserver.2=10.0.0.2:2888:3888\nserver.3=10.0.0.3:2888:3888\n", path: "zoo.cfg").servers
        let request = try MembershipChange.setRole(2, .observer).request(current: staticList, written: written).get()
        #expect(request.joining == "server.2=10.0.0.2:2888:3888:observer;10.0.0.2:2181")
    }
}
