//go:build cgo

package filter

// testBinaryUsesCgo is true: see childBinary.
const testBinaryUsesCgo = true
