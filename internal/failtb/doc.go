// Package failtb lets a test check what a test helper fails with: Failure
// runs a function with a testing.TB whose Fatalf is recorded rather than
// failing the test.
package failtb
