import Testing
import TokenAuthorityServer

/// The allocator setting `serve` applies at start (README, "Performance").
@Suite struct AllocatorSettingsTests {
    #if canImport(Glibc)
    @Test func glibcTakesTheTrimThreshold() {
        #expect(AllocatorSettings.apply())
    }
    #endif
}
