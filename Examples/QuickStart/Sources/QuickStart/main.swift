import Vmalloc

// A small system of its own: two emulated nodes of 32 MiB each, no kswapd thread.
var config = MemorySystem.Configuration()
config.nodes = 2
config.memoryPerNode = 32 << 20
config.kswapd = false
let sys = try MemorySystem(config)
let before = sys.meminfo()

// A buffer a filesystem's writeback path could allocate: it may never enter FS reclaim.
guard let buf = sys.vmalloc(4 << 20, GFP_NOFS | __GFP_ZERO) else { fatalError("vmalloc failed") }
let bytes = buf.assumingMemoryBound(to: UInt8.self)
for i in stride(from: 0, to: 4 << 20, by: 4096) { bytes[i] = UInt8(truncatingIfNeeded: i >> 12) }

// The same, for a whole region of code: allocations inside behave as GFP_NOFS.
let table = withMemallocScope(.noFS) { sys.kvmalloc(1 << 20) }
guard let table else { fatalError("kvmalloc failed") }

let onNode1 = sys.vmalloc_node(1 << 20, 1)!
print(
    "vmalloc'd 4 MiB at \(buf), kvmalloc'd 1 MiB at \(table), "
        + "1 MiB on node \(sys.page_to_nid(sys.vmalloc_to_page(onNode1)!))"
)
print(sys.vmallocinfo(), terminator: "")

sys.vfree(buf)
sys.kvfree(table)
sys.vfree(onNode1)
sys.vm_unmap_aliases()
let after = sys.meminfo()
let lost = before.memFree - after.memFree - (after.pageTables - before.pageTables) - (after.slab - before.slab)
print("free before \(before.memFree / 1024) kB, after \(after.memFree / 1024) kB, lost \(lost) bytes")
guard lost == 0 else { fatalError("frames were lost") }
print("QuickStart: ok")

// Swift-native owners: freed when dropped, typed throws, spans instead of raw pointers.
do {
    var buffer = try VmallocBuffer(byteCount: 1 << 20, gfp: GFP_NOFS, system: sys)
    do {
        var bytes = buffer.mutableBytes  // a span bound to the buffer's lifetime
        bytes.storeBytes(of: 42, toByteOffset: 0, as: UInt32.self)
    }
    try buffer.resize(to: 8 << 20)  // kvrealloc: content kept
    var index = try VmallocArray<UInt64>(capacity: 1024, system: sys)
    try withMemallocScope(.noFS) { try index.append(7) }  // growth is a NOFS allocation
    print("buffer \(buffer.byteCount) bytes starting \(buffer.bytes.unsafeLoad(as: UInt32.self)), index \(index.count)")
}
sys.vm_unmap_aliases()
print("QuickStart: owners ok")
