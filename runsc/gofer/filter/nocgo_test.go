//go:build !cgo

package filter

// testBinaryUsesCgo is false: this test binary can be re-executed as a
// confined gofer as it is.
const testBinaryUsesCgo = false
