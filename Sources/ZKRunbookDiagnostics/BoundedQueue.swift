import Foundation

/// A first-in, first-out hand-over between two threads that holds at most `capacity` items: a producer
/// faster than its consumer waits, so memory stays flat whatever the size of what flows through.
final class BoundedQueue<Item>: @unchecked Sendable {
    private var items: [Item] = []
    private let lock = NSLock()
    private let slots: DispatchSemaphore
    private let available = DispatchSemaphore(value: 0)

    init(capacity: Int) { slots = DispatchSemaphore(value: capacity) }

    /// Waits for room, then adds `item`.
    func put(_ item: Item) {
        slots.wait()
        lock.lock()
        items.append(item)
        lock.unlock()
        available.signal()
    }

    /// Waits for an item, then takes it.
    func take() -> Item {
        available.wait()
        lock.lock()
        let item = items.removeFirst()
        lock.unlock()
        slots.signal()
        return item
    }
}
