/// The bytes of `n` elements of `size` bytes (`array_size()`, include/linux/overflow.h), or nil
/// when the product overflows or either count is negative: where the kernel saturates to
/// `SIZE_MAX` so the allocation fails, the caller here returns nil at once.
func arraySize(_ n: Int, _ size: Int) -> Int? {
    let (bytes, overflow) = n.multipliedReportingOverflow(by: size)
    return overflow || n < 0 || size < 0 ? nil : bytes
}
