// Package lint holds tests that check rules of the whole module which
// the compiler and go vet do not: see unsafe_test.go. It has no code of
// its own.
package lint
