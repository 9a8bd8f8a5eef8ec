import CVmallocKernel
import Vmalloc

// Shrinkers behind <linux/shrinker.h> (mm/shrinker.c): reclaim calls the C callbacks with the
// effective mask, as it calls Swift ones.

/// The C shrinker and its callbacks. Unchecked Sendable: the pointer is the C caller's
/// `struct shrinker`, which the kernel's contract keeps alive and callable from any reclaiming
/// thread until shrinker_free.
private struct CShrinker: @unchecked Sendable {
    let shrinker: UnsafeMutableRawPointer?
    let count: vmc_shrink_fn
    let scan: vmc_shrink_fn

    /// SHRINK_STOP and SHRINK_EMPTY are the top two `unsigned long` values in C.
    static let stop = UInt.max
    static let empty = UInt.max - 1

    func control(_ sc: ShrinkControl) -> vmc_shrink_control {
        vmc_shrink_control(
            gfp_mask: sc.gfp.rawValue, nid: Int32(sc.node), nr_to_scan: UInt(sc.nrToScan),
            nr_scanned: UInt(sc.nrScanned))
    }

    func callCount(_ sc: ShrinkControl) -> Int {
        var c = control(sc)
        let n = count(shrinker, &c)
        return n == Self.empty ? Shrinker.empty : Int(min(n, UInt(Int.max)))
    }

    func callScan(_ sc: inout ShrinkControl) -> Int {
        var c = control(sc)
        let n = scan(shrinker, &c)
        sc.nrScanned = Int(min(c.nr_scanned, UInt(Int.max)))
        return n == Self.stop ? Shrinker.stop : Int(min(n, UInt(Int.max)))
    }
}

@c @implementation
public func vmc_shrinker_register(
    _ shrinker: UnsafeMutableRawPointer?, _ name: UnsafePointer<CChar>?, _ seeks: Int32, _ count: vmc_shrink_fn?,
    _ scan: vmc_shrink_fn?
) -> UnsafeMutableRawPointer? {
    guard let count, let scan else { return nil }
    let c = CShrinker(shrinker: shrinker, count: count, scan: scan)
    let handle = system.registerShrinker(
        name: name.map { String(cString: $0) } ?? "shrinker", seeks: Int(seeks), count: { c.callCount($0) },
        scan: { c.callScan(&$0) })
    return Unmanaged.passRetained(handle).toOpaque()
}

@c @implementation
public func vmc_shrinker_unregister(_ handle: UnsafeMutableRawPointer?) {
    guard let handle else { return }
    Unmanaged<ShrinkerHandle>.fromOpaque(handle).takeRetainedValue().unregister()
}
