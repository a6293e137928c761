package kernel

import (
	"reflect"
	"unsafe"
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
	// unsafe: the addresses are only compared, never dereferenced.
	if (uintptr(pa)^kcmpKey)*kcmpKey < (uintptr(pb)^kcmpKey)*kcmpKey {
		return 1
	}
	return 2
}

func pointerOf(v any) unsafe.Pointer {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.IsNil() {
		return nil
	}
	return rv.UnsafePointer()
}
