import Testing

@Test func placeholder_BackupCoreTests() { #expect(true) }
