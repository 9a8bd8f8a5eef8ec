/// 64 bytes of nothing, to keep a field that many threads write off the cache lines of its
/// neighbours: put one before and one after it (or the group of fields written together). A
/// class's fields are laid out in declaration order, so a field between two pads shares its
/// line with no field outside them, whatever the object's address.
struct CacheLinePad: Sendable {
    private let words: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)

    /// A pad (its bytes are never read).
    init() {}
}
