package kernel

import (
	"reflect"
)

// kcmpKey is mixed into kcmp's pointer order so that the order says
// nothing about Sentry addresses (Linux: kptr_obfuscate). Set once.
var kcmpKey = uintptr(0x9e3779b97f4a7c15)

// kcmpOrder compares two pointers for kcmp: 0 if equal, else 1 or 2 by
// an order that stays the same while both objects live (Go's heap does
// not move objects).
func kcmpOrder(a, b any) uint64 {
	pa, pb := pointerOf(a), pointerOf(b)
	if pa == pb {
		return 0
	}
	// The addresses are only compared, never dereferenced.
	if (pa^kcmpKey)*kcmpKey < (pb^kcmpKey)*kcmpKey {
		return 1
	}
	return 2
}

// pointerOf is v's address as a number (0 for nil), for comparing.
func pointerOf(v any) uintptr {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.IsNil() {
		return 0
	}
	return rv.Pointer()
}
