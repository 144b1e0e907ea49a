import Testing
import TokenAuthorityServer

/// The allocator setting `serve` applies at start (docs/performance.md,
/// "The refresh grant and the allocator").
@Suite struct AllocatorSettingsTests {
    #if canImport(Glibc)
    @Test func glibcTakesTheTrimThreshold() {
        #expect(AllocatorSettings.apply())
    }
    #endif
}
