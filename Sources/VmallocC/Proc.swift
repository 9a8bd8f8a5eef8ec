import CVmallocKernel
import Vmalloc

// The /proc views, for C programs that want to read what the kernel would show there.

@c @implementation
public func vmc_proc_read(_ name: UnsafePointer<CChar>?, _ buf: UnsafeMutablePointer<CChar>?, _ len: Int) -> Int {
    let text: String
    switch name.map({ String(cString: $0) }) {
    case "vmallocinfo": text = system.vmallocinfo()
    case "meminfo": text = system.meminfo().description
    case "buddyinfo": text = system.buddyinfo()
    case "slabinfo": text = system.slabinfo()
    default: return -1
    }
    let bytes = Array(text.utf8)
    if let buf, len > 0 {
        let n = min(bytes.count, len - 1)
        for i in 0..<n { buf[i] = CChar(bitPattern: bytes[i]) }
        buf[n] = 0
    }
    return bytes.count
}
