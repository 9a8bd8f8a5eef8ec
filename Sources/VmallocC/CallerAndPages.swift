import Vmalloc

extension CallSite {
    /// The C caller's return address, or the C surface itself when the caller passed none.
    init(_ caller: UnsafeRawPointer?) { self = .returnAddress(UInt(bitPattern: caller)) }
}

extension MemorySystem {
    /// The frames of a C `struct page *` array, or nil with a warning naming `function` when
    /// the array is missing or holds a pointer that is not one of this system's pages.
    func pages(_ array: UnsafePointer<UnsafeMutableRawPointer?>?, _ count: Int, _ function: String) -> [Page]? {
        guard let array, count > 0 else {
            warn("\(function): no pages (count \(count))", site: "c-\(function)-empty")
            return nil
        }
        var frames: [Page] = []
        frames.reserveCapacity(count)
        for i in 0..<count {
            guard let p = array[i], let page = page(at: p) else {
                warn(
                    "\(function): pages[\(i)] = \(String(describing: array[i])) is not a struct page",
                    site: "c-\(function)-page")
                return nil
            }
            frames.append(page)
        }
        return frames
    }
}

/// The system every C call acts on. A global `let` of this module is borrowed at each use; read
/// from another module, `MemorySystem.shared` comes retained: a retain and release per call, of
/// the slow side-table kind since the system is held weakly (by its free page reporter).
let system = MemorySystem.shared
