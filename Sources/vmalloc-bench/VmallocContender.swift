// TEMPORARY stub until core lands
final class VmallocContender {
    static func make() -> Result<any Contender, ContenderUnavailable> { .failure(ContenderUnavailable(description: "not yet")) }
    func lookupNanoseconds(lookups: Int) -> Double? { nil }
}
