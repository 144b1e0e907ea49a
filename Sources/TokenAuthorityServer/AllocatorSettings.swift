import CAllocator

/// How the server asks glibc's allocator to behave (docs/performance.md,
/// "The refresh grant and the allocator").
public enum AllocatorSettings {
    /// The free memory an arena keeps at its top instead of handing it back at once.
    ///
    /// glibc's default, 128 KiB, rising only after a large block was mapped, made an
    /// arena give pages back and fault them in again on every refresh: SQLite's statement
    /// journal takes 64 KiB for each statement that may change several rows inside a
    /// transaction, and frees it when the statement ends. Each time, `madvise` dropped the
    /// pages, and the other core took an interrupt to flush its view of them. 4 MiB a
    /// thread arena is little against the server's resident memory and ends that.
    public static let trimThreshold: Int32 = 4 << 20

    /// Sets `trimThreshold` for this process; false where the C library is not glibc or
    /// refused it.
    @discardableResult
    public static func apply() -> Bool {
        token_authority_set_trim_threshold(trimThreshold) == 1
    }
}
