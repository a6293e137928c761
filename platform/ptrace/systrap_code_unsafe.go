package ptrace

import (
	"bytes"
	"fmt"
	"unsafe"
)

// systrapBlob is the systrap stub code (systrap_amd64.s). It is never
// called: its bytes are copied into the stub page.
//
//lint:ignore U1000 its body (systrap_amd64.s) is copied into stubs, never called
func systrapBlob()

// systrapBlobAddr is systrapBlob's address (its ABI0 body, not a
// wrapper), set by the assembler.
var systrapBlobAddr uintptr

// systrapEndMarker ends systrapBlob's code: ud2 and eight letters.
var systrapEndMarker = []byte{0x0f, 0x0b, 'P', 'L', 'S', 'Y', 'S', 'T', 'R', 'P'}

// loadSystrapCode returns a copy of the systrap stub code, up to (not
// including) its end marker.
func loadSystrapCode() ([]byte, error) {
	const window = maxSystrapCode + 16
	// SAFETY: the function's text is mapped and at least as long as the
	// code up to the marker, which is searched within the first window
	// bytes; the Go linker places functions in a text section longer
	// than that, and the window is only read.
	text := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), systrapBlobAddr)), window)
	n := bytes.Index(text, systrapEndMarker)
	if n < 0 {
		return nil, fmt.Errorf("ptrace: systrap code longer than %d bytes or without its end marker", maxSystrapCode)
	}
	return append([]byte(nil), text[:n]...), nil
}
