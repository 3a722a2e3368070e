import Testing

@Test func placeholder_BackupAPITests() { #expect(true) }
